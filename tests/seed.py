"""Bulk test data for tests and benchmarks: many subscriptions at once, and a stored code."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import CodeRow, SubscriptionRow

CHUNK = 5000


async def add_subscriptions(
    session: AsyncSession,
    chats: Iterable[tuple[str, str, str | None]],
    *,
    game: str,
    now: datetime,
    audiences: Mapping[str, int] | None = None,
) -> None:
    """Active subscriptions of (platform, chat id, guild id) to `game`, inserted in chunks;
    `audiences`: how many people a chat reaches, by chat id, where known."""
    batch: list[dict[str, object]] = []
    for platform, chat_id, guild_id in chats:
        batch.append(
            {
                "platform": platform,
                "chat_id": chat_id,
                "space_id": guild_id,
                "game": game,
                "options": {},
                "active": True,
                "created_at": now,
                "updated_at": now,
                "audience": (audiences or {}).get(chat_id),
            }
        )
        if len(batch) == CHUNK:
            await session.execute(insert(SubscriptionRow), batch)
            batch = []
    if batch:
        await session.execute(insert(SubscriptionRow), batch)


async def add_code(
    session: AsyncSession, *, game: str, code: str, now: datetime, rewards: str = ""
) -> CodeRow:
    """An active, already announced code; flushed, so its id is known."""
    row = CodeRow(
        game=game,
        code=code,
        code_key=code.upper(),
        rewards=rewards,
        items=[],
        status="active",
        first_seen=now,
        last_seen=now,
        announced_at=now,
    )
    session.add(row)
    await session.flush()
    return row
