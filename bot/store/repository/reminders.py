"""Reminders: codes that expire soon become one reminder announcement per game, once.

Callers own the transaction; functions here never commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import AnnouncementKind, CodeStatus, DeliveryOrder
from bot.store.models import CodeRow
from bot.store.repository.announcements import create_wave

# Codes expiring within this long are worth a reminder ("3 codes expire tomorrow").
REMIND_WITHIN = timedelta(hours=24)


async def remind_expiring(
    session: AsyncSession,
    now: datetime,
    *,
    within: timedelta = REMIND_WITHIN,
    order: DeliveryOrder = DeliveryOrder.REACH,
) -> dict[int, int]:
    """Queue a reminder per game of the settled, active codes expiring within `within` that
    were never reminded of, to the subscriptions that asked for reminders (one wave, in
    `order`); mark the codes reminded (so never twice). Returns announcement id -> delivery
    rows made."""
    rows = (
        await session.execute(
            select(CodeRow.id, CodeRow.game)
            .where(
                CodeRow.announced_at.is_not(None),
                CodeRow.status == str(CodeStatus.ACTIVE),
                CodeRow.reminded_at.is_(None),
                CodeRow.expires_at > now,
                CodeRow.expires_at <= now + within,
            )
            .order_by(CodeRow.expires_at, CodeRow.id)
        )
    ).all()
    by_game: dict[str, list[int]] = {}
    for code_id, game in rows:
        by_game.setdefault(game, []).append(code_id)
    made = await create_wave(session, by_game, now, kind=AnnouncementKind.REMINDER, order=order)
    if rows:
        await session.execute(
            update(CodeRow).where(CodeRow.id.in_([r.id for r in rows])).values(reminded_at=now)
        )
    return made
