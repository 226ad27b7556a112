"""The merged view against the store: what is new, what to announce, what expired.

Nothing here does I/O; the pipeline feeds it plain data and writes what it returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.core.domain import (
    PLAYERS,
    CodeStatus,
    SourceConfig,
)
from bot.core.merge import MergedCode, SourceCodes


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
    """Today's trust rule: listed by two sources, or by one that announces alone.

    Players' reports never count: they wait for a verdict or a moderator instead.
    """
    source_ids = source_ids - {PLAYERS.id}
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


def first_listings(
    fresh: Sequence[SourceCodes], stored: Mapping[tuple[str, str], StoredCode]
) -> dict[str, int]:
    """How many codes, not expired, each source lists that it never listed before.

    A source's first success is a baseline and counts for none.
    """
    counts: dict[str, int] = {}
    for listing in fresh:
        if listing.first_success:
            continue
        source_id = listing.source.id
        count = 0
        for code in listing.codes:
            old = stored.get((listing.source.game, code.key))
            if code.status is not CodeStatus.EXPIRED and (
                old is None or source_id not in old.source_ids
            ):
                count += 1
        if count:
            counts[source_id] = count
    return counts
