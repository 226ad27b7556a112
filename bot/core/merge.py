"""Pure rules of the domain: normalise one source's codes, merge sources, diff with the store.

Nothing here does I/O; the pipeline feeds it plain data and writes what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.core.domain import (
    MAX_REWARD_NAME_LENGTH,
    MAX_REWARDS_LENGTH,
    CodeStatus,
    Game,
    RewardItem,
    ScrapedCode,
    SourceConfig,
    Trust,
)
from bot.core.rewards import MAX_ITEMS, icon_url
from bot.core.text import clip, one_line

# Servers whose codes cannot be redeemed on the global servers that codecast announces for.
REGIONAL_SERVERS = frozenset({"cn", "china", "mainland"})

_TRUST_RANK = {Trust.OFFICIAL: 0, Trust.CURATED: 1, Trust.PAGE: 2}


def normalize(codes: Iterable[ScrapedCode], game: Game, now: datetime) -> list[ScrapedCode]:
    """One source's codes made safe to store: valid for the game, global, deduplicated.

    Within one source a code listed twice keeps its first spelling; if either listing says
    expired, it is expired. A passed expiry date is an explicit expiry.
    """
    by_key: dict[str, ScrapedCode] = {}
    for scraped in codes:
        code = scraped.code.strip()
        if not game.matches(code):
            continue
        if scraped.server and scraped.server.strip().lower() in REGIONAL_SERVERS:
            continue
        status = scraped.status
        if scraped.expires_at is not None and scraped.expires_at <= now:
            status = CodeStatus.EXPIRED
        cleaned = replace(
            scraped,
            code=code,
            status=status,
            rewards=clip(one_line(scraped.rewards), MAX_REWARDS_LENGTH),
            items=tuple(
                RewardItem(
                    name=clip(one_line(item.name), MAX_REWARD_NAME_LENGTH),
                    amount=item.amount,
                    icon_url=icon_url(item.icon_url),
                )
                for item in scraped.items[:MAX_ITEMS]
            ),
        )
        key = cleaned.key
        seen = by_key.get(key)
        if seen is None:
            by_key[key] = cleaned
        elif cleaned.status is CodeStatus.EXPIRED and seen.status is not CodeStatus.EXPIRED:
            by_key[key] = replace(seen, status=CodeStatus.EXPIRED)
    return list(by_key.values())


@dataclass(frozen=True)
class SourceCodes:
    """What one source listed in this cycle, after normalising."""

    source: SourceConfig
    codes: tuple[ScrapedCode, ...]
    # True when the source has never succeeded before: its codes are a baseline, not news.
    first_success: bool = False


@dataclass(frozen=True)
class MergedCode:
    game: str
    key: str
    code: str
    status: CodeStatus
    rewards: str
    items: tuple[RewardItem, ...]
    expires_at: datetime | None
    # source id -> the status that source gave
    sources: Mapping[str, CodeStatus] = field(hash=False)
    # Every source that lists it in this cycle is on its first success.
    baseline: bool = False


def merge(listings: Sequence[SourceCodes]) -> dict[tuple[str, str], MergedCode]:
    """Merge the listings of all sources into one record per (game, code key).

    Spelling, rewards and items come from the most trusted source that has them. The code is
    expired when a source that may announce alone (official, curated, trusted page) says so,
    or when every source listing it says so; otherwise active when any source says active.
    """
    grouped: dict[tuple[str, str], list[tuple[SourceConfig, ScrapedCode, bool]]] = {}
    for listing in listings:
        for scraped in listing.codes:
            grouped.setdefault((listing.source.game, scraped.key), []).append(
                (listing.source, scraped, listing.first_success)
            )
    merged: dict[tuple[str, str], MergedCode] = {}
    for (game, key), entries in grouped.items():
        entries.sort(key=lambda e: _TRUST_RANK[e[0].trust])
        best = entries[0][1]
        statuses = [scraped.status for _, scraped, _ in entries]
        authoritative_expiry = any(
            scraped.status is CodeStatus.EXPIRED and source.announces_alone
            for source, scraped, _ in entries
        )
        if authoritative_expiry or all(s is CodeStatus.EXPIRED for s in statuses):
            status = CodeStatus.EXPIRED
        elif CodeStatus.ACTIVE in statuses:
            status = CodeStatus.ACTIVE
        else:
            status = CodeStatus.UNKNOWN
        merged[(game, key)] = MergedCode(
            game=game,
            key=key,
            code=best.code,
            status=status,
            rewards=next((s.rewards for _, s, _ in entries if s.rewards), ""),
            items=next((s.items for _, s, _ in entries if s.items), ()),
            expires_at=next((s.expires_at for _, s, _ in entries if s.expires_at), None),
            sources={source.id: scraped.status for source, scraped, _ in entries},
            baseline=all(first for _, _, first in entries),
        )
    return merged


@dataclass(frozen=True)
class StoredCode:
    """A code as the database holds it, as much as the diff needs."""

    id: int
    game: str
    key: str
    status: CodeStatus
    settled: bool
    source_ids: frozenset[str]


@dataclass(frozen=True)
class Diff:
    new: tuple[MergedCode, ...]
    # Codes already stored that a source now lists, with what the merge says of them.
    seen: tuple[tuple[StoredCode, MergedCode], ...]
    newly_expired: tuple[StoredCode, ...]
    # (game, key) of the codes to announce now, new or newly confirmed.
    announce: tuple[tuple[str, str], ...]
    # (game, key) of the codes to mark settled without an announcement.
    settle_silently: tuple[tuple[str, str], ...]


def diff(
    merged: Mapping[tuple[str, str], MergedCode],
    stored: Mapping[tuple[str, str], StoredCode],
    sources: Mapping[str, SourceConfig],
) -> Diff:
    """Compare this cycle's merged codes with the stored ones.

    A code missing from this cycle is not touched: disappearance is not expiry. A code is
    announced once, when it is not expired and is confirmed: listed by a source that announces
    alone, or by two sources. A code first seen expired, or first seen only in the first
    successful scrape of its sources (a baseline), is settled without an announcement, so a
    fresh database or a newly added source never floods anyone.
    """
    new: list[MergedCode] = []
    seen: list[tuple[StoredCode, MergedCode]] = []
    newly_expired: list[StoredCode] = []
    announce: list[tuple[str, str]] = []
    silent: list[tuple[str, str]] = []
    for ident, code in merged.items():
        old = stored.get(ident)
        if old is None:
            new.append(code)
            all_sources = set(code.sources)
            was_settled = False
            status = code.status
        else:
            seen.append((old, code))
            all_sources = set(old.source_ids) | set(code.sources)
            was_settled = old.settled
            status = old.status
            if code.status is CodeStatus.EXPIRED and old.status is not CodeStatus.EXPIRED:
                newly_expired.append(old)
                status = CodeStatus.EXPIRED
        if was_settled:
            continue
        if status is CodeStatus.EXPIRED or (old is None and code.baseline):
            silent.append(ident)
        elif confirmed(all_sources, sources):
            announce.append(ident)
    return Diff(
        new=tuple(new),
        seen=tuple(seen),
        newly_expired=tuple(newly_expired),
        announce=tuple(announce),
        settle_silently=tuple(silent),
    )


def confirmed(source_ids: set[str], sources: Mapping[str, SourceConfig]) -> bool:
    """Today's trust rule: listed by two sources, or by one that announces alone."""
    if len(source_ids) >= 2:
        return True
    return any(sources[s].announces_alone for s in source_ids if s in sources)


def status_after(old: CodeStatus, merged: CodeStatus) -> CodeStatus:
    """A stored status moves forward only: unknown → active → expired, never back."""
    if old is CodeStatus.EXPIRED or merged is CodeStatus.EXPIRED:
        return CodeStatus.EXPIRED
    if CodeStatus.ACTIVE in (old, merged):
        return CodeStatus.ACTIVE
    return CodeStatus.UNKNOWN
