"""A burst of slash commands while an announcement fans out: every one answered in time.

Discord gives an interaction 3 seconds for its first answer; follow-ups and edits of its
messages share a bucket per interaction (5 per 2 s), and announcements the bot-wide limit
(50 requests/s). The fake enforces all three and counts every 429 it had to answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store import database
from tests.conftest import FakeClock
from tests.e2e.discord_helpers import (
    CATALOG,
    add_codes,
    delivery_states,
    delivery_worker,
    running_bot,
    subscribe_channels,
)
from tests.fakes.discord_api import FakeDiscord, InteractionHandle

# Asserts rates and deadlines in wall-clock time: `make test` runs it alone.
pytestmark = pytest.mark.timing

Sessions = async_sessionmaker[AsyncSession]
DEADLINE = 3.0


@pytest.fixture
async def sqlite_sessions(sqlite_url: str) -> AsyncIterator[Sessions]:
    # SQLite only: one writer at a time makes it the slower database under a burst.
    engine = database.create_engine(sqlite_url)
    yield database.session_factory(engine)
    await engine.dispose()


async def codes_in_the_database(sessions: Sessions, clock: FakeClock, per_game: int = 8) -> None:
    rewards = "Primogems ×60, Mora ×10,000, Hero's Wit ×5, Mystic Enhancement Ore ×10"
    for game in CATALOG.games:
        codes = [(f"{game.upper()}GIFT{n:02d}", rewards) for n in range(per_game)]
        await add_codes(sessions, clock, codes, game, announce=False)


async def test_200_codes_commands_in_one_second_are_all_answered_within_the_deadline(
    sqlite_sessions: Sessions, clock: FakeClock
) -> None:
    sessions = sqlite_sessions
    await codes_in_the_database(sessions, clock)
    async with FakeDiscord() as dc:
        guild = dc.add_guild(channels=())
        asked_in = dc.add_channel(guild.id, "bot-commands").id
        announced_in = [dc.add_channel(guild.id, f"codes-{n}").id for n in range(100)]
        players = [dc.add_member(guild.id, f"player{n}") for n in range(200)]
        await subscribe_channels(sessions, clock, guild.id, announced_in)
        await add_codes(sessions, clock, [("BURSTGIFT2026", "Primogems ×60")])
        async with running_bot(dc, sessions, clock) as service:
            # The announcement goes out meanwhile, at Discord's global limit.
            fan_out = asyncio.create_task(delivery_worker(sessions, service, clock).drain())
            await asyncio.sleep(0.2)
            handles: list[InteractionHandle] = []
            started = time.monotonic()
            for tenth in range(10):  # 20 every tenth of a second
                await asyncio.sleep(max(0.0, started + tenth / 10 - time.monotonic()))
                for player in players[tenth * 20 : (tenth + 1) * 20]:
                    handles.append(
                        await dc.dispatch_interaction(
                            guild.id, asked_in, player.user.id, "codes", {"game": "genshin"}
                        )
                    )
            callbacks = await asyncio.gather(*(handle.response() for handle in handles))
            answers = await asyncio.gather(*(handle.wait_followups(1) for handle in handles))
            stats = await asyncio.wait_for(fan_out, 30.0)
    assert all(callback.status == 200 for callback in callbacks)
    assert all(callback.response_type == 5 for callback in callbacks)  # deferred first
    assert max(callback.latency for callback in callbacks) < DEADLINE
    for [answer] in answers:
        assert "GENSHINGIFT00" in str(answer.payload["embeds"])
    assert stats.sent == len(announced_in)
    assert set(await delivery_states(sessions)) == {str(c) for c in announced_in}
    assert dc.violations == []


async def test_follow_ups_beyond_an_interactions_bucket_wait_for_it(
    sqlite_sessions: Sessions, clock: FakeClock
) -> None:
    sessions = sqlite_sessions
    await codes_in_the_database(sessions, clock, per_game=40)
    # One follow-up per 0.5 s for each interaction: /codes for every game needs several.
    async with FakeDiscord(followup_limit=1, followup_window=0.5) as dc:
        guild = dc.add_guild()
        channel_id = next(iter(guild.channels))
        players = [dc.add_member(guild.id, f"player{n}") for n in range(20)]
        async with running_bot(dc, sessions, clock):
            handles = [
                await dc.dispatch_interaction(guild.id, channel_id, player.user.id, "codes")
                for player in players
            ]
            callbacks = await asyncio.gather(*(handle.response() for handle in handles))
            await asyncio.gather(*(handle.wait_followups(1) for handle in handles))
            seen = -1
            # Until the follow-ups stop coming (a waiting one comes within the window).
            while (total := sum(len(h.followups) for h in handles)) != seen:
                seen = total
                await asyncio.sleep(1.0)
    assert max(callback.latency for callback in callbacks) < DEADLINE
    [sent] = {len(handle.followups) for handle in handles}  # every player got all of it
    assert sent >= 3  # more than one window's worth per interaction
    shown = " ".join(str(m.payload["embeds"]) for m in handles[-1].followups)
    assert all(f"{game.upper()}GIFT39" in shown for game in CATALOG.games)
    assert dc.violations == []
