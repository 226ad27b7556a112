"""Who asked for which game where: subscribing, ending, moving chats, counting.

Callers own the transaction; functions here never commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import (
    Platform,
)
from bot.store.models import (
    MAX_ERROR_LENGTH,
    SubscriptionRow,
)
from bot.store.repository.languages import move_chat_language


@dataclass(frozen=True)
class Subscription:
    id: int
    platform: Platform
    chat_id: str
    game: str
    # The chat's community (a Discord server), and what the platform keeps per subscription.
    space_id: str | None
    options: Mapping[str, Any]
    active: bool
    # How many people a message there reaches, where known (SubscriptionRow.audience).
    audience: int | None = None


def _subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(
        id=row.id,
        platform=Platform(row.platform),
        chat_id=row.chat_id,
        game=row.game,
        space_id=row.space_id,
        options=dict(row.options or {}),
        active=row.active,
        audience=row.audience,
    )


async def subscribe(
    session: AsyncSession,
    platform: Platform,
    chat_id: str,
    game: str,
    *,
    now: datetime,
    space_id: str | None = None,
    options: Mapping[str, Any] | None = None,
    audience: int | None = None,
) -> Subscription:
    """Subscribe a chat to a game (again): an existing row is reactivated, its options
    replaced by the new ones (kept when `options` is None).

    `audience`, when the platform told how many people the chat reaches (1 for a private
    chat, a group's or a server's member count), is recorded on every subscription of the
    chat: who hears first goes by it (bot/store/repository/announcements.py)."""
    row = await session.scalar(
        select(SubscriptionRow).where(
            SubscriptionRow.platform == str(platform),
            SubscriptionRow.chat_id == chat_id,
            SubscriptionRow.game == game,
        )
    )
    if row is None:
        # Unless told now, what the chat's other subscriptions know of it.
        known = audience
        if known is None:
            known = await session.scalar(
                select(func.max(SubscriptionRow.audience)).where(
                    SubscriptionRow.platform == str(platform), SubscriptionRow.chat_id == chat_id
                )
            )
        row = SubscriptionRow(
            platform=str(platform),
            chat_id=chat_id,
            game=game,
            space_id=space_id,
            options=dict(options or {}),
            active=True,
            created_at=now,
            updated_at=now,
            audience=known,
        )
        session.add(row)
    else:
        row.active = True
        row.deactivated_reason = None
        if options is not None:
            row.options = dict(options)
        row.space_id = space_id or row.space_id
        row.updated_at = now
        if audience is not None:
            row.audience = audience
    await session.flush()
    if audience is not None:
        # The chat's other subscriptions: the row above is already up to date.
        await session.execute(
            update(SubscriptionRow)
            .where(SubscriptionRow.platform == str(platform), SubscriptionRow.chat_id == chat_id)
            .values(audience=audience)
            .execution_options(synchronize_session=False)
        )
    return _subscription(row)


async def set_option(
    session: AsyncSession,
    platform: Platform,
    chat_id: str,
    key: str,
    value: Any,
    *,
    games: Sequence[str] | None = None,
    now: datetime,
) -> list[str]:
    """Set one option on a chat's active subscriptions (those of `games`, else all); the
    games changed. None removes the option."""
    query = select(SubscriptionRow).where(
        SubscriptionRow.platform == str(platform),
        SubscriptionRow.chat_id == chat_id,
        SubscriptionRow.active.is_(True),
    )
    if games is not None:
        query = query.where(SubscriptionRow.game.in_(list(games)))
    changed = []
    for row in (await session.scalars(query.order_by(SubscriptionRow.game))).all():
        options = {k: v for k, v in (row.options or {}).items() if k != key}
        if value is not None:
            options[key] = value
        # A new dict: the JSON column notices a replaced value, not one changed in place.
        row.options = options
        row.updated_at = now
        changed.append(row.game)
    return changed


async def unsubscribe(
    session: AsyncSession, platform: Platform, chat_id: str, game: str, *, now: datetime
) -> bool:
    """Returns whether there was an active subscription to end."""
    result = await session.execute(
        update(SubscriptionRow)
        .where(
            SubscriptionRow.platform == str(platform),
            SubscriptionRow.chat_id == chat_id,
            SubscriptionRow.game == game,
            SubscriptionRow.active.is_(True),
        )
        .values(active=False, deactivated_reason="unsubscribed", updated_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def space_chats(session: AsyncSession, platform: Platform, space_id: str) -> list[str]:
    """The chats of a community (a Discord server's channels) with an active subscription."""
    rows = await session.scalars(
        select(SubscriptionRow.chat_id)
        .where(
            SubscriptionRow.platform == str(platform),
            SubscriptionRow.space_id == space_id,
            SubscriptionRow.active.is_(True),
        )
        .distinct()
        .order_by(SubscriptionRow.chat_id)
    )
    return list(rows.all())


async def chat_subscriptions(
    session: AsyncSession, platform: Platform, chat_id: str
) -> list[Subscription]:
    rows = (
        await session.scalars(
            select(SubscriptionRow)
            .where(
                SubscriptionRow.platform == str(platform),
                SubscriptionRow.chat_id == chat_id,
                SubscriptionRow.active.is_(True),
            )
            .order_by(SubscriptionRow.game)
        )
    ).all()
    return [_subscription(r) for r in rows]


async def space_subscriptions(
    session: AsyncSession, platform: Platform, space_id: str
) -> list[Subscription]:
    """The active subscriptions of every chat in a community (a Discord server)."""
    rows = (
        await session.scalars(
            select(SubscriptionRow)
            .where(
                SubscriptionRow.platform == str(platform),
                SubscriptionRow.space_id == space_id,
                SubscriptionRow.active.is_(True),
            )
            .order_by(SubscriptionRow.chat_id, SubscriptionRow.game)
        )
    ).all()
    return [_subscription(r) for r in rows]


async def deactivate_chat(
    session: AsyncSession, platform: Platform, chat_id: str, *, reason: str, now: datetime
) -> int:
    """End every subscription of a chat the platform says is gone; returns how many."""
    return await _deactivate(
        session, platform, SubscriptionRow.chat_id == chat_id, reason=reason, now=now
    )


async def deactivate_space(
    session: AsyncSession, platform: Platform, space_id: str, *, reason: str, now: datetime
) -> int:
    """End every subscription in a community the bot left (a Discord server); how many."""
    return await _deactivate(
        session, platform, SubscriptionRow.space_id == space_id, reason=reason, now=now
    )


async def _deactivate(
    session: AsyncSession,
    platform: Platform,
    which: ColumnElement[bool],
    *,
    reason: str,
    now: datetime,
) -> int:
    result = await session.execute(
        update(SubscriptionRow)
        .where(SubscriptionRow.platform == str(platform), which, SubscriptionRow.active.is_(True))
        .values(active=False, deactivated_reason=reason[:MAX_ERROR_LENGTH], updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def migrate_chat(
    session: AsyncSession, platform: Platform, old_chat_id: str, new_chat_id: str, *, now: datetime
) -> int:
    """Move a chat's subscriptions to its new id (Telegram group → supergroup)."""
    rows = (
        await session.scalars(
            select(SubscriptionRow).where(
                SubscriptionRow.platform == str(platform), SubscriptionRow.chat_id == old_chat_id
            )
        )
    ).all()
    moved = 0
    for row in rows:
        clash = await session.scalar(
            select(SubscriptionRow).where(
                SubscriptionRow.platform == str(platform),
                SubscriptionRow.chat_id == new_chat_id,
                SubscriptionRow.game == row.game,
                # Not the row itself: a concurrent migration may have moved it already.
                SubscriptionRow.id != row.id,
            )
        )
        if clash is not None:
            clash.active = clash.active or row.active
            clash.updated_at = now
            await session.execute(delete(SubscriptionRow).where(SubscriptionRow.id == row.id))
        else:
            row.chat_id = new_chat_id
            row.updated_at = now
        moved += 1
    await move_chat_language(session, platform, old_chat_id, new_chat_id)
    return moved


async def count_subscriptions(session: AsyncSession) -> dict[tuple[str, bool], int]:
    rows = (
        await session.execute(
            select(SubscriptionRow.platform, SubscriptionRow.active, func.count()).group_by(
                SubscriptionRow.platform, SubscriptionRow.active
            )
        )
    ).all()
    return {(platform, bool(active)): int(n) for platform, active, n in rows}
