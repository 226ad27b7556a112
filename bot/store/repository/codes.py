"""A cycle's writes: new codes, what changed, who lists them, announcements and their deliveries.

Callers own the transaction; functions here never commit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.diff import Diff, StoredCode, status_after
from bot.core.domain import (
    CodeStatus,
    DeliveryOrder,
    RewardItem,
    ScrapedCode,
)
from bot.core.merge import MergedCode
from bot.store.dialects import upsert
from bot.store.models import (
    CodeRow,
    CodeSourceRow,
    SourceRow,
)
from bot.store.repository.announcements import create_wave

# Codes read per query by `stored_codes`: well under the bound parameters a statement may
# carry (SQLite's 32,766, asyncpg's 32,767), whatever a page lists.
STORED_CODES_PER_QUERY = 500


async def stored_codes(
    session: AsyncSession, idents: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], StoredCode]:
    """The stored state of the codes named by `idents` ((game, code key) pairs); a code not
    stored yet has no entry.

    Only these codes are read: a poll costs what its sources list, not every code ever seen
    of their games (which the daemon read, and let go, at every poll)."""
    by_game: dict[str, list[str]] = {}
    for game, key in idents:
        by_game.setdefault(game, []).append(key)
    found: dict[tuple[str, str], StoredCode] = {}
    for game, keys in by_game.items():
        for start in range(0, len(keys), STORED_CODES_PER_QUERY):
            chunk = keys[start : start + STORED_CODES_PER_QUERY]
            rows = (
                await session.execute(
                    select(
                        CodeRow.id, CodeRow.code_key, CodeRow.status, CodeRow.announced_at
                    ).where(CodeRow.game == game, CodeRow.code_key.in_(chunk))
                )
            ).all()
            by_code = await sources_by_code(session, [row.id for row in rows])
            for code_id, key, status, announced_at in rows:
                found[(game, key)] = StoredCode(
                    id=code_id,
                    game=game,
                    key=key,
                    status=CodeStatus(status),
                    settled=announced_at is not None,
                    source_ids=frozenset(by_code.get(code_id, ())),
                )
    return found


async def sources_by_code(session: AsyncSession, code_ids: list[int]) -> dict[int, list[str]]:
    """The ids of the sources that list each of `code_ids` (codes no source lists: absent)."""
    if not code_ids:
        return {}
    links = (
        await session.execute(
            select(CodeSourceRow.code_id, CodeSourceRow.source_id).where(
                CodeSourceRow.code_id.in_(code_ids)
            )
        )
    ).all()
    by_code: dict[int, list[str]] = {}
    for code_id, source_id in links:
        by_code.setdefault(code_id, []).append(source_id)
    return by_code


async def last_listings(
    session: AsyncSession, games: Iterable[str], *, besides: Collection[str] = ()
) -> dict[str, tuple[ScrapedCode, ...]]:
    """What each source said in its latest stored listing of codes of `games`, by source id:
    each code's status as that source gave it, and the code's items as stored.

    A source's latest listing is the links it stamped when it was last read (its
    `listed_at`); codes it listed before and no longer does are not in it. Sources in
    `besides` (those read now) are left out.
    """
    games = list(games)
    if not games:
        return {}
    rows = (
        await session.execute(
            select(CodeSourceRow.source_id, CodeRow.code, CodeSourceRow.status, CodeRow.items)
            .join(CodeRow, CodeRow.id == CodeSourceRow.code_id)
            .join(SourceRow, SourceRow.id == CodeSourceRow.source_id)
            .where(
                CodeRow.game.in_(games),
                CodeSourceRow.source_id.not_in(list(besides)),
                or_(
                    SourceRow.listed_at.is_(None),
                    CodeSourceRow.last_seen >= SourceRow.listed_at,
                ),
            )
            .order_by(CodeSourceRow.source_id, CodeRow.id)
        )
    ).all()
    listings: dict[str, list[ScrapedCode]] = {}
    for source_id, code, status, items in rows:
        listings.setdefault(source_id, []).append(
            ScrapedCode(code, CodeStatus(status), items=items_from_json(items))
        )
    return {source_id: tuple(codes) for source_id, codes in listings.items()}


def items_from_json(raw: Any) -> tuple[RewardItem, ...]:
    """Reward items as stored (JSON) back into domain data; anything else is no items."""
    if not isinstance(raw, list):
        return ()
    return tuple(
        RewardItem(name=str(i.get("name", "")), amount=i.get("amount"), icon_url=i.get("icon_url"))
        for i in raw
        if isinstance(i, dict)
    )


def _items_json(items: Sequence[RewardItem]) -> list[dict[str, Any]]:
    return [{"name": i.name, "amount": i.amount, "icon_url": i.icon_url} for i in items]


@dataclass(frozen=True)
class AppliedCycle:
    new_codes: int
    newly_expired: int
    # announcement id -> number of delivery rows created
    announcements: dict[int, int]


async def apply_diff(
    session: AsyncSession,
    diff: Diff,
    merged: Mapping[tuple[str, str], MergedCode],
    now: datetime,
    listed_by: Collection[str] | None = None,
    *,
    order: DeliveryOrder = DeliveryOrder.REACH,
) -> AppliedCycle:
    """Write one cycle's changes; create announcements and their deliveries (one wave,
    queued in `order`). No commit.

    `listed_by` names the sources read now: only their links are stamped, since the other
    sources in the merge spoke earlier (their last listing); None stamps every source.
    """
    ids = await _insert_new(session, diff.new, now)
    ids.update(await _update_seen(session, diff.seen, now))
    await _upsert_code_sources(session, _source_links(ids, merged, now, listed_by))
    await _settle(session, [ids[i] for i in (*diff.announce, *diff.settle_silently)], now)
    announcements = await _announce(session, diff.announce, ids, now, order)
    return AppliedCycle(
        new_codes=len(diff.new),
        newly_expired=len(diff.newly_expired),
        announcements=announcements,
    )


async def _insert_new(
    session: AsyncSession, new: Sequence[MergedCode], now: datetime
) -> dict[tuple[str, str], int]:
    """Codes never seen before; returns their ids by (game, key)."""
    rows = [
        CodeRow(
            game=code.game,
            code=code.code,
            code_key=code.key,
            rewards=code.rewards,
            items=_items_json(code.items),
            status=str(code.status),
            first_seen=now,
            last_seen=now,
            expires_at=code.expires_at,
            expired_at=now if code.status is CodeStatus.EXPIRED else None,
        )
        for code in new
    ]
    session.add_all(rows)
    await session.flush()
    return {(row.game, row.code_key): row.id for row in rows}


async def _update_seen(
    session: AsyncSession, seen: Sequence[tuple[StoredCode, MergedCode]], now: datetime
) -> dict[tuple[str, str], int]:
    """Codes seen again: last seen, status, and rewards or expiry when a source gives them."""
    updates: list[dict[str, Any]] = []
    for old, code in seen:
        status = status_after(old.status, code.status)
        values: dict[str, Any] = {"id": old.id, "last_seen": now, "status": str(status)}
        if code.rewards:
            values["rewards"] = code.rewards
        if code.items:
            values["items"] = _items_json(code.items)
        if code.expires_at is not None:
            values["expires_at"] = code.expires_at
        if status is CodeStatus.EXPIRED and old.status is not CodeStatus.EXPIRED:
            values["expired_at"] = now
        updates.append(values)
    # Executemany with one parameter set per row; the keys must match across rows.
    for group in _same_keys(updates):
        await session.execute(update(CodeRow), group)
    return {(old.game, old.key): old.id for old, _ in seen}


def _source_links(
    ids: Mapping[tuple[str, str], int],
    merged: Mapping[tuple[str, str], MergedCode],
    now: datetime,
    listed_by: Collection[str] | None,
) -> list[dict[str, Any]]:
    """One row per (code, source listing it), with what that source says of the code."""
    return [
        {
            "code_id": ids[ident],
            "source_id": source_id,
            "status": str(status),
            "first_seen": now,
            "last_seen": now,
        }
        for ident, code in merged.items()
        for source_id, status in code.sources.items()
        if listed_by is None or source_id in listed_by
    ]


async def _settle(session: AsyncSession, code_ids: Sequence[int], now: datetime) -> None:
    """Codes announced now or settled silently are never considered for announcing again."""
    if code_ids:
        await session.execute(
            update(CodeRow).where(CodeRow.id.in_(code_ids)).values(announced_at=now)
        )


async def _announce(
    session: AsyncSession,
    announce: Iterable[tuple[str, str]],
    ids: Mapping[tuple[str, str], int],
    now: datetime,
    order: DeliveryOrder,
) -> dict[int, int]:
    """One announcement per game listing its new codes, all one wave; announcement id ->
    deliveries made."""
    by_game: dict[str, list[int]] = {}
    for game, key in announce:
        by_game.setdefault(game, []).append(ids[(game, key)])
    return await create_wave(session, by_game, now, order=order)


def _same_keys(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())


async def _upsert_code_sources(session: AsyncSession, links: list[dict[str, Any]]) -> None:
    if not links:
        return
    statement = upsert(session, CodeSourceRow)
    statement = statement.on_conflict_do_update(
        index_elements=[CodeSourceRow.code_id, CodeSourceRow.source_id],
        set_={"status": statement.excluded.status, "last_seen": statement.excluded.last_seen},
    )
    # Chunks keep the statement under the backends' bound-parameter limits.
    for start in range(0, len(links), 500):
        await session.execute(statement, links[start : start + 500])
