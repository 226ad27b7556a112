"""Players' reports on Discord, end to end: the real discord.py client against the fake
Discord, on SQLite and PostgreSQL. A /submit reaches the moderation channel with buttons, a
player's press changes nothing, a moderator (named by a role) approves and the code is
announced once, a rejection is remembered, and hostile text pings no one."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.submission import Moderators
from bot.store.models import SubmissionRow
from notifiers.discord.service import DiscordService
from notifiers.discord.wiring import build_service
from notifiers.reports import ReportRules
from tests.conftest import FakeClock
from tests.e2e.discord_helpers import (
    CATALOG,
    GUILD_READY_TIMEOUT,
    delivery_worker,
    discord_settings,
    subscribe_channels,
)
from tests.fakes.discord_api import FakeDiscord, SentMessage

Sessions = async_sessionmaker[AsyncSession]
HOSTILE = "**60** Primogems @everyone <@123> <@&456> [gems](https://evil.example) `x`"


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


class Server:
    """A guild with a codes channel, a moderation channel, a moderator role, and people."""

    def __init__(self, dc: FakeDiscord) -> None:
        self.guild = dc.add_guild("Fans", channels=("codes", "moderation", "chat"))
        self.codes, self.mod_channel, self.chat = list(self.guild.channels)
        self.mods = dc.add_role(self.guild.id, "mods")
        self.mod = dc.add_member(self.guild.id, "ada", roles=(self.mods.id,))
        self.player = dc.add_member(self.guild.id, "pat")


@contextlib.asynccontextmanager
async def reports_bot(
    dc: FakeDiscord, sessions: Sessions, clock: FakeClock, server: Server
) -> AsyncIterator[DiscordService]:
    rules = ReportRules(moderators=Moderators(discord=frozenset({str(server.mods.id)})))
    service = build_service(
        discord_settings(dc, CODECAST_MODERATION_DISCORD_CHANNEL=str(server.mod_channel)),
        CATALOG,
        sessions,
        clock,
        reports=rules,
        moderation_check=0.1,
        guild_ready_timeout=GUILD_READY_TIMEOUT,
    )
    try:
        await service.start()
        yield service
    finally:
        await service.stop()


async def until(predicate: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not so after {within}s")
        await asyncio.sleep(0.02)


async def submit(dc: FakeDiscord, server: Server, user_id: int, **options: object) -> str:
    handle = await dc.dispatch_interaction(
        server.guild.id, server.chat, user_id, "submit", dict(options)
    )
    callback = await handle.response()
    assert callback.response_type == 5  # deferred before the database is asked
    [reply] = await handle.wait_followups(1)
    assert reply.ephemeral
    return reply.content


def posts(dc: FakeDiscord, server: Server) -> list[SentMessage]:
    return [m for m in dc.messages(server.mod_channel) if m.kind == "channel"]


def labels(message: SentMessage) -> list[str]:
    return [c["label"] for row in message.components for c in row["components"]]


async def press(
    dc: FakeDiscord, server: Server, user_id: int, message: SentMessage, label: str
) -> str:
    handle = await dc.press_button(server.guild.id, message.channel_id, user_id, message, label)
    await handle.response()
    [notice] = await handle.wait_followups(1)
    return notice.content


async def test_a_players_report_is_approved_by_a_moderator_and_announced_once(
    dc: FakeDiscord, sessions: Sessions, clock: FakeClock
) -> None:
    server = Server(dc)
    await subscribe_channels(sessions, clock, server.guild.id, [server.codes])
    async with reports_bot(dc, sessions, clock, server) as bot:
        answer = await submit(
            dc,
            server,
            server.player.user.id,
            game="genshin",
            code="DISCGIFT01",
            rewards="60 Primogems",
        )
        assert "will be checked by a moderator" in answer
        await until(lambda: len(posts(dc, server)) == 1)
        [post] = posts(dc, server)
        [embed] = post.embeds
        assert "DISCGIFT01" in embed["description"]
        assert "0 accepted, 0 rejected" in embed["description"]
        assert str(server.player.user.id) not in str(post.payload)
        assert labels(post) == ["Approve", "Reject", "Reject and block reporter"]

        # A player's press changes nothing; only they are told why.
        handle = await dc.press_button(
            server.guild.id, server.mod_channel, server.player.user.id, post, "Approve"
        )
        callback = await handle.response()
        assert callback.response_type == 4
        assert callback.ephemeral
        assert callback.data["content"] == "Only moderators can decide reports."
        assert labels(post) == ["Approve", "Reject", "Reject and block reporter"]

        notice = await press(dc, server, server.mod.user.id, post, "Approve")
        assert notice == "Approved and announced."
        assert "Approved** by ada" in post.embeds[0]["description"]
        assert post.components == []
        await delivery_worker(sessions, bot, clock).drain()
    announced = [m for m in dc.messages(server.codes) if m.kind == "channel"]
    assert len(announced) == 1
    fields = announced[0].embeds[0]["fields"]
    assert fields[0]["name"] == "`DISCGIFT01`"
    assert "reported by a player" in fields[0]["value"]


async def test_a_rejected_report_is_answered_at_once_next_time(
    dc: FakeDiscord, sessions: Sessions, clock: FakeClock
) -> None:
    server = Server(dc)
    async with reports_bot(dc, sessions, clock, server):
        await submit(dc, server, server.player.user.id, game="hsr", code="FAKEHSR001")
        await until(lambda: len(posts(dc, server)) == 1)
        [post] = posts(dc, server)
        assert await press(dc, server, server.mod.user.id, post, "Reject") == "Rejected."
        assert "Rejected** by ada" in post.embeds[0]["description"]
        again = await submit(dc, server, server.player.user.id, game="hsr", code="fakehsr001")
        assert "was reported before and rejected" in again
        # A moderator's own report is approved at once.
        own = await submit(dc, server, server.mod.user.id, game="hsr", code="MODHSR0001")
        assert "Approved" in own


async def test_moderation_lists_what_waits_for_moderators_only(
    dc: FakeDiscord, sessions: Sessions, clock: FakeClock
) -> None:
    server = Server(dc)
    async with reports_bot(dc, sessions, clock, server):
        await submit(dc, server, server.player.user.id, game="zzz", code="ZZZWAIT001")
        handle = await dc.dispatch_interaction(
            server.guild.id, server.chat, server.player.user.id, "moderation"
        )
        refused = await handle.response()
        assert refused.data["content"] == "Only moderators can see the reports that wait."
        handle = await dc.dispatch_interaction(
            server.guild.id, server.chat, server.mod.user.id, "moderation"
        )
        await handle.response()
        [listing] = await handle.wait_followups(1)
        assert listing.embeds[0]["title"] == "1 report waiting"
        notice = await press(dc, server, server.mod.user.id, listing, "Approve ZZZWAIT001")
        assert notice == "Approved and announced."
        assert listing.embeds[0]["title"] == "No reports are waiting."
        # The post in the moderation channel is edited to say who decided.
        await until(lambda: bool(posts(dc, server)) and not posts(dc, server)[0].components)
        assert "Approved** by ada" in posts(dc, server)[0].embeds[0]["description"]


async def test_hostile_reward_text_pings_no_one(
    dc: FakeDiscord, sessions: Sessions, clock: FakeClock
) -> None:
    server = Server(dc)
    await subscribe_channels(sessions, clock, server.guild.id, [server.codes])
    async with reports_bot(dc, sessions, clock, server) as bot:
        await submit(
            dc, server, server.player.user.id, game="genshin", code="HOSTILE002", rewards=HOSTILE
        )
        await until(lambda: len(posts(dc, server)) == 1)
        [post] = posts(dc, server)
        await press(dc, server, server.mod.user.id, post, "Approve")
        await delivery_worker(sessions, bot, clock).drain()
    [announced] = [m for m in dc.messages(server.codes) if m.kind == "channel"]
    for message in (post, announced):
        assert not message.pinged_everyone
        assert message.pinged_user_ids == []
        assert message.pinged_role_ids == []
        text = " ".join(
            [e.get("description", "") for e in message.embeds]
            + [f["value"] for e in message.embeds for f in e.get("fields", [])]
        )
        assert "@everyone" not in text
        assert "<@123>" not in text
        assert "evil.example" not in text
        assert "\\*\\*60\\*\\*" in text
    async with sessions() as session:
        assert await session.scalar(select(func.count(SubmissionRow.id))) == 1


async def test_reports_speak_the_players_and_the_servers_languages(
    dc: FakeDiscord, sessions: Sessions, clock: FakeClock
) -> None:
    """A French player is answered in French; the moderation post is in the server's
    language (Japanese here); /submit is named in every language."""
    server = Server(dc)
    dc.world.guilds[server.guild.id].preferred_locale = "ja"
    async with reports_bot(dc, sessions, clock, server):
        handle = await dc.dispatch_interaction(
            server.guild.id, server.chat, server.player.user.id, "submit",
            {"game": "genshin", "code": "FRENCHGIFT1"}, locale="fr",
        )  # fmt: skip
        await handle.response()
        [reply] = await handle.wait_followups(1)
        await until(lambda: bool(posts(dc, server)))
    assert reply.content == (
        "Merci ! Un modérateur vérifiera `FRENCHGIFT1` (**Genshin Impact**) avant que "
        "quiconque le reçoive."
    )
    [post] = posts(dc, server)
    assert post.embeds[0]["title"] == "報告 #1：原神"
    assert labels(post) == ["承認", "却下", "却下して報告者をブロック"]
    submit_command = next(c for c in dc.commands if c["name"] == "submit")
    assert submit_command["name_localizations"]["de"] == "melden"
