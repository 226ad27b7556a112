"""The Discord service's lifecycle as the composition root drives it: start, stop, retry."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifiers.discord.wiring import build_service
from tests.conftest import FakeClock
from tests.e2e.discord_helpers import (
    CATALOG,
    GUILD_READY_TIMEOUT,
    add_codes,
    delivery_states,
    delivery_worker,
    discord_settings,
    subscribe_channels,
)
from tests.fakes.discord_api import FakeDiscord


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


async def test_a_failed_start_can_be_retried_with_the_same_service(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild = dc.add_guild()
    channel_id = next(iter(guild.channels))
    service = build_service(
        discord_settings(dc), CATALOG, sessions, clock, guild_ready_timeout=GUILD_READY_TIMEOUT
    )
    dc.fail_next(
        "PUT /applications/*/commands", 400, {"message": "Invalid Form Body", "code": 50035}
    )
    try:
        with pytest.raises(discord.HTTPException):
            await service.start()
        await service.stop()
        # As bot/app.py does: stop, then start again.
        await service.start()
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, guild.owner_id, "redeem", {"code": "GENSHINGIFT"}
        )
        callback = await handle.response()
    finally:
        await service.stop()
    assert callback.status == 200
    assert len(dc.identifies) == 1


async def test_stop_then_start_reconnects(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild = dc.add_guild()
    channel_id = next(iter(guild.channels))
    service = build_service(
        discord_settings(dc), CATALOG, sessions, clock, guild_ready_timeout=GUILD_READY_TIMEOUT
    )
    try:
        await service.start()
        await service.stop()
        await service.start()
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, guild.owner_id, "redeem", {"code": "GENSHINGIFT"}
        )
        assert (await handle.response()).status == 200
    finally:
        await service.stop()
    assert len(dc.identifies) == 2


async def test_deliveries_wait_until_the_bot_has_logged_in(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild = dc.add_guild()
    channel_id = next(iter(guild.channels))
    await subscribe_channels(sessions, clock, guild.id, [channel_id])
    await add_codes(sessions, clock, [("GENSHINGIFT", "Primogem x60")])
    service = build_service(discord_settings(dc), CATALOG, sessions, clock)
    try:
        early = await delivery_worker(sessions, service, clock).drain(wait_for_retries=0)
        assert (early.sent, early.rate_limited, early.retried) == (0, 1, 0)
        assert dc.requests == []
        await service.start(commands=False)
        clock.advance(seconds=11)
        late = await delivery_worker(sessions, service, clock).drain(wait_for_retries=0)
    finally:
        await service.stop()
    assert late.sent == 1
    assert await delivery_states(sessions) == {str(channel_id): ["sent"]}


async def test_the_token_is_not_in_the_services_repr_or_logs(
    dc: FakeDiscord,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    dc.add_guild()
    service = build_service(
        discord_settings(dc), CATALOG, sessions, clock, guild_ready_timeout=GUILD_READY_TIMEOUT
    )
    try:
        await service.start()
    finally:
        await service.stop()
    assert dc.token not in repr(service)
    assert dc.token not in caplog.text
