"""What paid sends cost, per budget scope: reservations made before sending, sends counted.

A process that may send paid messages first reserves some of every budget that applies (the
day's, the announcement's) in one short transaction: the scopes' rows are locked (row locks
on PostgreSQL, the write lock on SQLite) and each grants what is left under its cap, so
several processes together never reserve past a cap. Sends are counted as they are settled;
what a process reserved and did not use is given back when it settles for good.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.dialects import is_postgresql, upsert
from bot.store.models import PaidSpendRow


def day_scope(day: date) -> str:
    return f"day:{day.isoformat()}"


def announcement_scope(announcement_id: int) -> str:
    return f"announcement:{announcement_id}"


async def reserve(
    session: AsyncSession,
    platform: str,
    caps: Mapping[str, int | None],
    want: int,
    *,
    now: datetime,
) -> int:
    """Reserve up to `want` sends in every scope of `caps` (None: no cap); returns how many
    were granted: the least any capped scope had left."""
    if want <= 0 or not caps:
        return 0
    scopes = sorted(caps)
    await session.execute(
        upsert(session, PaidSpendRow)
        .values(
            [
                {"platform": platform, "scope": s, "reserved": 0, "sent": 0, "updated_at": now}
                for s in scopes
            ]
        )
        .on_conflict_do_nothing(index_elements=[PaidSpendRow.platform, PaidSpendRow.scope])
    )
    held = select(PaidSpendRow.scope, PaidSpendRow.reserved).where(
        PaidSpendRow.platform == platform, PaidSpendRow.scope.in_(scopes)
    )
    if is_postgresql(session):
        # In a fixed order, so that two processes reserving at once never deadlock.
        held = held.order_by(PaidSpendRow.scope).with_for_update()
    reserved = {scope: int(n) for scope, n in (await session.execute(held)).all()}
    granted = want
    for scope, cap in caps.items():
        if cap is not None:
            granted = min(granted, max(0, cap - reserved.get(scope, 0)))
    if granted > 0:
        await _add(session, platform, scopes, reserved=granted, sent=0, now=now)
    return granted


async def settle(
    session: AsyncSession,
    platform: str,
    spent: Mapping[str, tuple[int, int]],
    *,
    now: datetime,
) -> None:
    """Count sends and give back reservations: scope -> (sent, unused) since the last settle."""
    for scope, (sent, unused) in spent.items():
        if sent or unused:
            await _add(session, platform, [scope], reserved=-unused, sent=sent, now=now)


async def _add(
    session: AsyncSession,
    platform: str,
    scopes: Sequence[str],
    *,
    reserved: int,
    sent: int,
    now: datetime,
) -> None:
    await session.execute(
        update(PaidSpendRow)
        .where(PaidSpendRow.platform == platform, PaidSpendRow.scope.in_(scopes))
        .values(
            reserved=PaidSpendRow.reserved + reserved,
            sent=PaidSpendRow.sent + sent,
            updated_at=now,
        )
    )


@dataclass(frozen=True)
class Spend:
    scope: str
    reserved: int
    sent: int


async def spend(session: AsyncSession, platform: str, scopes: Sequence[str]) -> list[Spend]:
    rows = (
        await session.execute(
            select(PaidSpendRow.scope, PaidSpendRow.reserved, PaidSpendRow.sent)
            .where(PaidSpendRow.platform == platform, PaidSpendRow.scope.in_(scopes))
            .order_by(PaidSpendRow.scope)
        )
    ).all()
    return [Spend(scope, int(reserved), int(sent)) for scope, reserved, sent in rows]
