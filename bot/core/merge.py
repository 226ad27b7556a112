"""What all sources say of each code, merged into one view per (game, code).

Nothing here does I/O; the pipeline feeds it plain data and writes what it returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.core.domain import (
    CodeStatus,
    RewardItem,
    ScrapedCode,
    SourceConfig,
    Trust,
)

_TRUST_RANK = {Trust.OFFICIAL: 0, Trust.CURATED: 1, Trust.PAGE: 2}


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

    Spelling, rewards and items come from the most trusted source that has them; items it
    names not (HoYoLAB gives only icons and amounts) take their names from a source that lists
    the same amounts with names. The code is
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
            items=_items([scraped for _, scraped, _ in entries]),
            expires_at=next((s.expires_at for _, s, _ in entries if s.expires_at), None),
            sources={source.id: scraped.status for source, scraped, _ in entries},
            baseline=all(first for _, _, first in entries),
        )
    return merged


def _items(listed: Sequence[ScrapedCode]) -> tuple[RewardItem, ...]:
    """The first listing's items, unnamed ones named by a later listing of the same amounts."""
    with_items = [scraped.items for scraped in listed if scraped.items]
    if not with_items:
        return ()
    best = with_items[0]
    if all(item.name for item in best):
        return best
    amounts = [item.amount for item in best]
    for other in with_items[1:]:
        if [item.amount for item in other] == amounts and all(item.name for item in other):
            return tuple(
                RewardItem(
                    name=item.name or named.name,
                    amount=item.amount,
                    icon_url=item.icon_url or named.icon_url,
                )
                for item, named in zip(best, other, strict=True)
            )
    return best


def merge_with_stored(
    fresh: Sequence[SourceCodes], stored: Sequence[SourceCodes]
) -> dict[tuple[str, str], MergedCode]:
    """Merge what sources said now with what the others said last, for the codes read now.

    A poll reads one source; the others' latest listings (from the store) take part in the
    merge as if they had just been read, so the rules above judge what every source says.
    Only codes a fresh listing holds are returned: the others' codes have not changed.
    """
    fresh_ids = {listing.source.id for listing in fresh}
    wanted = {(listing.source.game, code.key) for listing in fresh for code in listing.codes}
    others = [
        replace(
            listing,
            # Their word is a status; rewards and items come from what is read now.
            codes=tuple(
                replace(c, items=())
                for c in listing.codes
                if (listing.source.game, c.key) in wanted
            ),
            first_success=False,
        )
        for listing in stored
        if listing.source.id not in fresh_ids
    ]
    merged = merge([*fresh, *(o for o in others if o.codes)])
    # Items stored with a code may name what a source read now leaves unnamed (HoYoLAB's
    # icons and amounts, named by a guide read at another time).
    named = {
        (listing.source.game, c.key): c
        for listing in stored
        for c in listing.codes
        if c.items and all(item.name for item in c.items)
    }
    return {
        ident: replace(code, items=_items([ScrapedCode(code.code, items=code.items), known]))
        if (known := named.get(ident)) is not None and not all(i.name for i in code.items)
        else code
        for ident, code in merged.items()
    }
