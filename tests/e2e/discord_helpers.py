"""Running codecast's own Discord bot against the fake Discord, with data in a real database."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.settings import Settings
from bot.core.catalog import Catalog, load_catalog
from bot.core.domain import Platform
from bot.store import repository
from bot.store.models import CodeRow, DeliveryRow, SubscriptionRow
from notifiers.delivery import DeliveryWorker
from notifiers.discord.format import ROLE_OPTION
from notifiers.discord.service import DiscordService
from notifiers.discord.wiring import build_service
from notifiers.expiry import EXPIRY_CHECK_SECONDS
from tests.conftest import FakeClock
from tests.fakes.discord_api import FakeDiscord

CATALOG = load_catalog()
# on_ready waits this long after the last GUILD_CREATE (2 s by default in discord.py).
GUILD_READY_TIMEOUT = 0.05


def discord_settings(dc: FakeDiscord, **overrides: Any) -> Settings:
    """Settings as an operator would write them, pointing at the fake; no `.env` is read."""
    values: dict[str, Any] = {
        "DISCORD_TOKEN": dc.token,
        "CODECAST_DISCORD_API_URL": dc.api_url,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@contextlib.asynccontextmanager
async def running_bot(
    dc: FakeDiscord,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    *,
    commands: bool = True,
    catalog: Catalog = CATALOG,
    expiry_check: float = EXPIRY_CHECK_SECONDS,
    **settings: Any,
) -> AsyncIterator[DiscordService]:
    """codecast's Discord service as the composition root builds it, started and stopped."""
    service = build_service(
        discord_settings(dc, **settings),
        catalog,
        sessions,
        clock,
        expiry_check=expiry_check,
        guild_ready_timeout=GUILD_READY_TIMEOUT,
    )
    try:
        await service.start(commands=commands)
        yield service
    finally:
        await service.stop()


def delivery_worker(
    sessions: async_sessionmaker[AsyncSession], service: DiscordService, clock: FakeClock
) -> DeliveryWorker:
    return DeliveryWorker(sessions, service.sender, clock=clock)


async def subscribe_channels(
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    guild_id: int,
    channel_ids: Sequence[int],
    game: str = "genshin",
    role_id: int | None = None,
) -> None:
    async with sessions.begin() as session:
        for channel_id in channel_ids:
            await repository.subscribe(
                session,
                Platform.DISCORD,
                str(channel_id),
                game,
                now=clock(),
                space_id=str(guild_id),
                options={ROLE_OPTION: str(role_id)} if role_id is not None else {},
            )


async def add_codes(
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    codes: Sequence[tuple[str, str]],
    game: str = "genshin",
    *,
    announce: bool = True,
) -> int | None:
    """Store announced codes `(code, rewards)`; with `announce`, queue their announcement."""
    async with sessions.begin() as session:
        rows = [
            CodeRow(
                game=game,
                code=code,
                code_key=code.upper(),
                rewards=rewards,
                items=[],
                status="active",
                first_seen=clock(),
                last_seen=clock(),
                announced_at=clock(),
            )
            for code, rewards in codes
        ]
        session.add_all(rows)
        await session.flush()
        if not announce:
            return None
        announcement_id, _ = await repository.create_announcement(
            session, game, [r.id for r in rows], clock()
        )
    return announcement_id


async def delivery_states(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[str]]:
    """chat id → the states of its delivery rows, oldest first."""
    async with sessions() as session:
        rows = (
            await session.execute(
                select(SubscriptionRow.chat_id, DeliveryRow.state)
                .join(SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id)
                .order_by(DeliveryRow.id)
            )
        ).all()
    states: dict[str, list[str]] = {}
    for chat_id, state in rows:
        states.setdefault(chat_id, []).append(str(state))
    return states


async def message_ids(sessions: async_sessionmaker[AsyncSession]) -> dict[str, str | None]:
    async with sessions() as session:
        rows = (
            await session.execute(
                select(SubscriptionRow.chat_id, DeliveryRow.message_id).join(
                    SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id
                )
            )
        ).all()
    return {chat_id: message_id for chat_id, message_id in rows}  # noqa: C416 - Row, not tuple


async def active_subscriptions(sessions: async_sessionmaker[AsyncSession]) -> set[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(SubscriptionRow.chat_id).where(SubscriptionRow.active.is_(True))
        )
        return set(rows.all())
