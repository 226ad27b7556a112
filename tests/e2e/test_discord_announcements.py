"""Announcements through codecast's Discord sender and the shared worker, against the fake."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import discord
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.domain import Announcement
from bot.store import repository
from bot.store.models import CodeRow, DeliveryRow, DeliveryState
from tests.conftest import FakeClock
from tests.e2e.discord_helpers import (
    active_subscriptions,
    add_codes,
    delivery_states,
    delivery_worker,
    message_ids,
    running_bot,
    subscribe_channels,
)
from tests.fakes.discord_api import FakeDiscord, Perm

# Discord's global limit is 50 requests/s; 500 sends at that pace take 10 s. The fake and the
# sender are both scaled to 250/s here, which keeps the same arithmetic in 2 s.
SCALED_GLOBAL_RATE = 250


async def until(probe: Callable[[], Awaitable[object]], expected: object) -> None:
    """Wait (up to 5 s) for an event handled on the gateway to show in the database."""
    for _ in range(100):
        if await probe() == expected:
            return
        await asyncio.sleep(0.05)


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.mark.timing
async def test_announcement_to_500_channels_keeps_every_limit(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    dc.settings.global_limit = SCALED_GLOBAL_RATE
    channels: list[int] = []
    for g in range(5):
        guild = dc.add_guild(f"Server {g}", channels=())
        ids = [dc.add_channel(guild.id).id for _ in range(100)]
        await subscribe_channels(sessions, clock, guild.id, ids)
        channels += ids
    await add_codes(sessions, clock, [("GENSHINGIFT", "Primogem x60")])
    async with running_bot(
        dc, sessions, clock, commands=False, CODECAST_DISCORD_GLOBAL_RATE=str(SCALED_GLOBAL_RATE)
    ) as service:
        worker = delivery_worker(sessions, service, clock)
        started = time.monotonic()
        stats = await worker.drain(wait_for_retries=0)
        took = time.monotonic() - started
    assert stats.sent == 500
    assert dc.violations == []
    assert dc.injected == []
    posts = [r for r in dc.requests if r.method == "POST"]
    assert len(posts) == 500
    # Paced, not bursted: 500 requests at most 250/s take at least 2 s on the fake's clock.
    assert posts[-1].at - posts[0].at >= 499 / SCALED_GLOBAL_RATE
    assert took < 10
    stored = await message_ids(sessions)
    for channel_id in channels:
        [message] = dc.messages(channel_id)
        assert stored[str(channel_id)] == str(message.id)
    nonces = [m.nonce for m in dc.messages()]
    assert all(n is not None and n.startswith("codecast-") for n in nonces)
    assert len(set(nonces)) == 500
    assert all(p.json["enforce_nonce"] is True for p in posts)


async def test_one_channel_with_many_announcements_keeps_its_channel_limit(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    # Discord: 5 messages per 5 s per channel; scaled to 5 per 0.5 s on both sides.
    dc.settings.channel_message_window = 0.5
    guild = dc.add_guild()
    channel_id = next(iter(guild.channels))
    games = ["genshin", "hsr", "zzz", "hi3", "wuwa"]
    for game in games:
        await subscribe_channels(sessions, clock, guild.id, [channel_id], game)
    for i, game in enumerate(games + games):
        await add_codes(sessions, clock, [(f"{game.upper()}GIFT{i}", "x")], game)
    async with running_bot(
        dc, sessions, clock, commands=False, CODECAST_DISCORD_CHANNEL_WINDOW="0.5"
    ) as service:
        stats = await delivery_worker(sessions, service, clock).drain(wait_for_retries=0)
    assert stats.sent == 10
    assert dc.violations == []
    assert len(dc.messages(channel_id)) == 10


async def test_hostile_reward_text_arrives_inert_and_only_the_role_is_pinged(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild = dc.add_guild()
    channel_id = next(iter(guild.channels))
    gamers = dc.add_role(guild.id, "gamers", mentionable=True)
    victim = dc.add_member(guild.id, "victim")
    hostile = (
        f"@everyone @here <@{victim.user.id}> <@123> <@&{guild.id}> **FREE** "
        "[click](https://phish.example) ||x||"
    )
    await subscribe_channels(sessions, clock, guild.id, [channel_id], role_id=gamers.id)
    await add_codes(sessions, clock, [("GENSHINGIFT", hostile)])
    async with running_bot(dc, sessions, clock, commands=False) as service:
        await delivery_worker(sessions, service, clock).drain(wait_for_retries=0)
    [message] = dc.messages(channel_id)
    assert message.allowed_mentions == {
        "parse": [],
        "roles": [str(gamers.id)],
        "replied_user": False,
    }
    assert message.content == f"<@&{gamers.id}>"
    assert not message.pinged_everyone
    assert message.pinged_user_ids == []
    assert message.pinged_role_ids == [gamers.id]
    value = message.embeds[0]["fields"][0]["value"]
    for ping in ("@everyone", "@here", f"<@{victim.user.id}>", "<@123>", f"<@&{guild.id}>"):
        assert ping not in value
    assert "\\*\\*FREE\\*\\*" in value
    # The link's text stays, escaped; the link itself is gone (reward text keeps no links).
    assert "\\[click\\]" in value or "[click]" in value
    assert "phish.example" not in value
    [row] = message.components
    assert row["components"][0]["label"] == "Redeem GENSHINGIFT"


async def test_short_429_is_waited_out_and_the_row_is_sent(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild = dc.add_guild()
    channel_id = next(iter(guild.channels))
    await subscribe_channels(sessions, clock, guild.id, [channel_id])
    await add_codes(sessions, clock, [("GENSHINGIFT", "Primogem x60")])
    dc.fail_next("POST /channels/*/messages", 429, retry_after=0.3)
    async with running_bot(dc, sessions, clock, commands=False) as service:
        stats = await delivery_worker(sessions, service, clock).drain(wait_for_retries=0)
    assert stats.sent == 1
    assert [f.status for f in dc.injected] == [429]
    assert dc.violations == []
    assert len(dc.messages(channel_id)) == 1
    assert await delivery_states(sessions) == {str(channel_id): ["sent"]}


async def test_long_429_reschedules_the_row_instead_of_holding_the_worker(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild = dc.add_guild(channels=("slow", "fine"))
    slow, fine = guild.channels
    await subscribe_channels(sessions, clock, guild.id, [slow, fine])
    await add_codes(sessions, clock, [("GENSHINGIFT", "Primogem x60")])
    await add_codes(sessions, clock, [("GENSHINGIFT2", "Mora x5000")])
    dc.fail_next(f"POST /channels/{slow}/messages", 429, retry_after=120)
    async with running_bot(dc, sessions, clock, commands=False) as service:
        started = time.monotonic()
        first = await delivery_worker(sessions, service, clock).drain(wait_for_retries=0)
        assert time.monotonic() - started < 5
        assert (first.sent, first.rate_limited) == (2, 2)
        assert await delivery_states(sessions) == {
            str(slow): ["pending", "pending"],
            str(fine): ["sent", "sent"],
        }
        # The second announcement for the limited channel was held back without asking.
        assert len(dc.requests_to("POST", f"/channels/{slow}/messages")) == 1
        clock.advance(seconds=121)
        second = await delivery_worker(sessions, service, clock).drain(wait_for_retries=0)
    assert second.sent == 0  # the channel's own pause (real time) is not over yet
    assert await delivery_states(sessions) == {
        str(slow): ["pending", "pending"],
        str(fine): ["sent", "sent"],
    }
    # A restarted bot has no such memory: the rows go out once they are due.
    clock.advance(seconds=121)
    async with running_bot(dc, sessions, clock, commands=False) as service:
        third = await delivery_worker(sessions, service, clock).drain(wait_for_retries=0)
    assert third.sent == 2
    assert len(dc.messages(slow)) == 2


async def test_deleted_channel_and_lost_permissions_end_those_subscriptions(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild = dc.add_guild(channels=("deleted", "muted", "hidden", "fine"))
    deleted, muted, hidden, fine = guild.channels
    await subscribe_channels(sessions, clock, guild.id, [deleted, muted, hidden, fine])
    await dc.delete_channel(deleted, notify=False)
    await dc.revoke_bot_permissions(muted, Perm.SEND_MESSAGES, notify=False)
    await dc.revoke_bot_permissions(hidden, Perm.VIEW_CHANNEL, notify=False)
    await add_codes(sessions, clock, [("GENSHINGIFT", "Primogem x60")])
    async with running_bot(dc, sessions, clock, commands=False) as service:
        stats = await delivery_worker(sessions, service, clock).drain(wait_for_retries=0)
    assert (stats.sent, stats.gone) == (1, 3)
    assert await active_subscriptions(sessions) == {str(fine)}
    assert await delivery_states(sessions) == {
        str(deleted): ["gone"],
        str(muted): ["gone"],
        str(hidden): ["gone"],
        str(fine): ["sent"],
    }
    # One refused request each: a gone channel is not tried again.
    await add_codes(sessions, clock, [("GENSHINGIFT2", "Mora x5000")])
    async with running_bot(dc, sessions, clock, commands=False) as service:
        await delivery_worker(sessions, service, clock).drain(wait_for_retries=0)
    assert dc.invalid_requests == 2  # 403 for muted and hidden; 404 is not counted


async def test_server_errors_and_dropped_connections_are_retried_not_lost(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild = dc.add_guild()
    channel_id = next(iter(guild.channels))
    await subscribe_channels(sessions, clock, guild.id, [channel_id])
    await add_codes(sessions, clock, [("GENSHINGIFT", "Primogem x60")])
    async with running_bot(dc, sessions, clock, commands=False) as service:
        worker = delivery_worker(sessions, service, clock)
        dc.outage(0.5, mode="drop")
        first = await worker.drain(wait_for_retries=0)
        assert first.retried == 1
        assert await delivery_states(sessions) == {str(channel_id): ["pending"]}
        await asyncio.sleep(0.5)
        clock.advance(minutes=5)
        second = await worker.drain(wait_for_retries=0)
    assert second.sent == 1
    assert len(dc.messages(channel_id)) == 1


async def test_a_resend_after_a_crash_returns_the_first_message(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild = dc.add_guild()
    channel_id = next(iter(guild.channels))
    await subscribe_channels(sessions, clock, guild.id, [channel_id])
    await add_codes(sessions, clock, [("GENSHINGIFT", "Primogem x60")])
    async with running_bot(dc, sessions, clock, commands=False) as service:
        await delivery_worker(sessions, service, clock).drain(wait_for_retries=0)
        first = await message_ids(sessions)
        # The worker died after Discord answered but before the outcome was written.
        async with sessions.begin() as session:
            await session.execute(
                update(DeliveryRow).values(state=DeliveryState.PENDING, message_id=None)
            )
        await delivery_worker(sessions, service, clock).drain(wait_for_retries=0)
    assert len(dc.messages(channel_id)) == 1
    assert len(dc.requests_to("POST", f"/channels/{channel_id}/messages")) == 2
    assert await message_ids(sessions) == first


async def test_announcement_channels_are_published_when_enabled(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild = dc.add_guild(channels=("general",), announcement_channels=("news",))
    general, news = guild.channels
    await subscribe_channels(sessions, clock, guild.id, [general, news])
    await add_codes(sessions, clock, [("GENSHINGIFT", "Primogem x60")])
    async with running_bot(
        dc, sessions, clock, commands=False, CODECAST_DISCORD_CROSSPOST="true"
    ) as service:
        await delivery_worker(sessions, service, clock).drain(wait_for_retries=0)
    [plain] = dc.messages(general)
    [published] = dc.messages(news)
    assert published.crossposted
    assert not plain.crossposted
    assert len(dc.requests_to("POST", f"/channels/{news}/messages/")) == 1


async def test_announcement_channels_are_not_published_by_default(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild = dc.add_guild(channels=(), announcement_channels=("news",))
    [news] = guild.channels
    await subscribe_channels(sessions, clock, guild.id, [news])
    await add_codes(sessions, clock, [("GENSHINGIFT", "Primogem x60")])
    async with running_bot(dc, sessions, clock) as service:
        await delivery_worker(sessions, service, clock).drain(wait_for_retries=0)
    [message] = dc.messages(news)
    assert not message.crossposted


async def test_a_sent_announcement_is_edited_when_its_code_expires(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild = dc.add_guild()
    channel_id = next(iter(guild.channels))
    gamers = dc.add_role(guild.id, "gamers", mentionable=True)
    await subscribe_channels(sessions, clock, guild.id, [channel_id], role_id=gamers.id)
    announcement_id = await add_codes(
        sessions, clock, [("GENSHINGIFT", "Primogem x60"), ("GENSHINMORE", "Mora x5000")]
    )
    assert announcement_id is not None
    async with running_bot(dc, sessions, clock, commands=False) as service:
        await delivery_worker(sessions, service, clock).drain(wait_for_retries=0)
        [message] = dc.messages(channel_id)
        async with sessions.begin() as session:
            await session.execute(
                update(CodeRow)
                .where(CodeRow.code == "GENSHINGIFT")
                .values(status="expired", expired_at=clock())
            )
        async with sessions() as session:
            codes = await repository.announcement_codes(session, announcement_id)
        edited = await service.discord_sender.edit(
            str(channel_id),
            str(message.id),
            Announcement(announcement_id, "genshin", clock(), tuple(codes)),
        )
        gone = await service.discord_sender.edit(
            str(channel_id),
            "1",
            Announcement(announcement_id, "genshin", clock(), tuple(codes)),
        )
    assert edited
    assert not gone
    [edit] = message.edits
    assert "content" not in edit
    assert message.content == f"<@&{gamers.id}>"  # unchanged; nobody pinged again
    names = [f["name"] for f in message.embeds[0]["fields"]]
    assert names == ["~~`GENSHINGIFT`~~ (expired)", "`GENSHINMORE`"]
    [row] = message.components
    assert [b["label"] for b in row["components"]] == ["Redeem GENSHINMORE"]


async def test_the_running_bot_edits_its_announcements_when_a_code_expires(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild = dc.add_guild(channels=("codes", "more-codes"))
    channels = list(guild.channels)
    await subscribe_channels(sessions, clock, guild.id, channels)
    await add_codes(
        sessions, clock, [("GENSHINGIFT", "Primogem x60"), ("GENSHINMORE", "Mora x5000")]
    )
    async with running_bot(dc, sessions, clock, expiry_check=0.05) as service:
        await delivery_worker(sessions, service, clock).drain(wait_for_retries=0)
        async with sessions.begin() as session:
            await session.execute(
                update(CodeRow)
                .where(CodeRow.code == "GENSHINGIFT")
                .values(status="expired", expired_at=clock())
            )
        messages = [m for c in channels for m in dc.messages(c)]
        for _ in range(100):
            if all(m.edits for m in messages):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # later looks find nothing new to edit
    assert [len(m.edits) for m in messages] == [1, 1]
    for message in messages:
        names = [f["name"] for f in message.embeds[0]["fields"]]
        assert names == ["~~`GENSHINGIFT`~~ (expired)", "`GENSHINMORE`"]


# --- guild and channel events ------------------------------------------------------------------


async def test_removal_from_a_guild_ends_its_subscriptions(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    kicked = dc.add_guild("Kicked", channels=("a", "b"))
    kept = dc.add_guild("Kept")
    await subscribe_channels(sessions, clock, kicked.id, list(kicked.channels))
    await subscribe_channels(sessions, clock, kept.id, list(kept.channels))
    expected = {str(c) for c in kept.channels}
    async with running_bot(dc, sessions, clock):
        await dc.guild_outage(kept.id)  # unavailable is not removed
        await dc.remove_bot_from_guild(kicked.id)
        await until(lambda: active_subscriptions(sessions), expected)
    assert await active_subscriptions(sessions) == expected


async def test_a_deleted_channel_ends_its_subscriptions_at_once(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild = dc.add_guild(channels=("doomed", "kept"))
    doomed, kept = guild.channels
    await subscribe_channels(sessions, clock, guild.id, [doomed, kept])
    async with running_bot(dc, sessions, clock):
        await dc.delete_channel(doomed)
        await until(lambda: active_subscriptions(sessions), {str(kept)})
    assert await active_subscriptions(sessions) == {str(kept)}


async def test_stop_puts_the_library_api_url_back(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    before = discord.http.Route.BASE
    async with running_bot(dc, sessions, clock, commands=False):
        assert dc.api_url == discord.http.Route.BASE
    assert before == discord.http.Route.BASE
    assert not dc.identifies  # REST only: no gateway session for a one-shot run
