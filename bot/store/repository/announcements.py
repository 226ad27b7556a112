"""Announcements and their delivery rows, queued in the order chats are to hear them.

A *wave* is the announcements made at one moment, one per game: a commit's new codes, a round
of reminders, the codes a verdict releases. Its delivery rows are made by a single
INSERT … SELECT, so the subscribers are never loaded into memory, however many there are;
and they are inserted in the order they should be sent, since a delivery worker claims a
platform's pending rows by id (bot/store/outbox.py) and the rows take their ids in the
order of the SELECT (on SQLite and PostgreSQL alike; tests/integration/test_delivery_order.py
checks both). Platforms are claimed by workers of their own, so each platform's rows are in
this order among themselves. The order (`DeliveryOrder`, CODECAST_DELIVERY_ORDER):

- `reach`: a chat's messages of the wave are numbered, its first, its second…, following
  the announcements; every chat's first message goes before any chat's second. Within one
  round the chats reaching the most people go first: channels, servers and groups by their
  member count (`subscriptions.audience`), then groups and targets of unknown size, then
  private chats; then the oldest subscription.
- `subscribed`: announcement after announcement, each to the oldest subscription first.

Callers own the transaction; functions here never commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, and_, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import AnnouncementKind, DeliveryOrder
from bot.store.models import (
    AnnouncementCodeRow,
    AnnouncementRow,
    DeliveryRow,
    DeliveryState,
    SubscriptionRow,
    UTCDateTime,
)

# The subscription option asking for reminders of codes about to expire.
REMIND_OPTION = "remind"
# How a chat whose audience is unknown ranks: as a group of two, after every bigger chat and
# before private chats (an audience of one).
UNKNOWN_AUDIENCE = 2


async def create_announcement(
    session: AsyncSession,
    game: str,
    code_ids: Sequence[int],
    now: datetime,
    *,
    kind: AnnouncementKind = AnnouncementKind.NEW,
    order: DeliveryOrder = DeliveryOrder.REACH,
) -> tuple[int, int]:
    """One announcement and one delivery row per active subscription of the game (for a
    reminder, per subscription that asked for reminders): a wave of one."""
    [(announcement_id, count)] = (
        await create_wave(session, {game: code_ids}, now, kind=kind, order=order)
    ).items()
    return announcement_id, count


async def create_wave(
    session: AsyncSession,
    codes: Mapping[str, Sequence[int]],
    now: datetime,
    *,
    kind: AnnouncementKind = AnnouncementKind.NEW,
    order: DeliveryOrder = DeliveryOrder.REACH,
) -> dict[int, int]:
    """One announcement per game of `codes` (game id -> its code ids), in the order of the
    game ids, and their delivery rows in `order`. Returns announcement id -> rows made."""
    if not codes:
        return {}
    ids: list[int] = []
    for game, code_ids in sorted(codes.items()):
        announcement = AnnouncementRow(game=game, created_at=now, kind=str(kind))
        session.add(announcement)
        # One at a time: the wave's announcements are in the order of their ids.
        await session.flush()
        session.add_all(
            AnnouncementCodeRow(announcement_id=announcement.id, code_id=c) for c in code_ids
        )
        ids.append(announcement.id)
    await session.flush()
    result = await session.execute(queue_wave(ids, now, kind=kind, order=order))
    if len(ids) == 1:
        count = result.rowcount if result.rowcount is not None and result.rowcount >= 0 else 0  # type: ignore[attr-defined]
        return {ids[0]: count}
    rows = await session.execute(
        select(DeliveryRow.announcement_id, func.count())
        .where(DeliveryRow.announcement_id.in_(ids))
        .group_by(DeliveryRow.announcement_id)
    )
    made = {announcement_id: int(count) for announcement_id, count in rows}
    return {i: made.get(i, 0) for i in ids}


def queue_wave(
    announcement_ids: Sequence[int],
    now: datetime,
    *,
    kind: AnnouncementKind,
    order: DeliveryOrder,
) -> Insert:
    """The INSERT … SELECT of the delivery rows of the announcements (one wave, of one
    kind), ordered as the module says."""
    who: Any = and_(
        AnnouncementRow.id.in_(list(announcement_ids)),
        SubscriptionRow.active.is_(True),
    )
    if kind is AnnouncementKind.REMINDER:
        who = and_(who, SubscriptionRow.options[REMIND_OPTION].as_boolean().is_(True))
    keys: list[Any] = []
    if order is DeliveryOrder.REACH:
        keys = [
            # The chat's first, second… message of the wave (of one announcement, the first:
            # a chat subscribes to a game once, so no numbering is needed).
            func.row_number()
            .over(
                partition_by=(SubscriptionRow.platform, SubscriptionRow.chat_id),
                order_by=AnnouncementRow.id,
            )
            .label("nth")
            if len(announcement_ids) > 1
            else literal(1).label("nth"),
            func.coalesce(SubscriptionRow.audience, UNKNOWN_AUDIENCE).label("audience"),
        ]
    wave = (
        select(
            AnnouncementRow.id.label("announcement_id"),
            SubscriptionRow.id.label("subscription_id"),
            SubscriptionRow.platform.label("platform"),
            *keys,
        )
        .join(AnnouncementRow, AnnouncementRow.game == SubscriptionRow.game)
        .where(who)
        .subquery("wave")
    )
    ordering: tuple[Any, ...] = (
        (wave.c.nth, wave.c.audience.desc(), wave.c.subscription_id)
        if order is DeliveryOrder.REACH
        else (wave.c.announcement_id, wave.c.subscription_id)
    )
    stamp = literal(now, UTCDateTime())
    return insert(DeliveryRow).from_select(
        [
            "announcement_id",
            "subscription_id",
            "platform",
            "state",
            "attempts",
            "next_attempt_at",
            "created_at",
        ],
        select(
            wave.c.announcement_id,
            wave.c.subscription_id,
            wave.c.platform,
            literal(DeliveryState.PENDING),
            literal(0),
            stamp,
            stamp,
        ).order_by(*ordering),
    )
