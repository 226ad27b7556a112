"""codecast's slash commands, run by the real discord.py client against the fake Discord."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.catalog import parse_catalog
from bot.core.domain import Platform
from bot.store import database, repository
from notifiers.discord.client import minimal_intents
from notifiers.discord.format import ROLE_OPTION, role_to_ping
from notifiers.discord.wiring import build_service
from tests.conftest import FakeClock
from tests.e2e.discord_helpers import (
    CATALOG,
    GUILD_READY_TIMEOUT,
    add_codes,
    discord_settings,
    running_bot,
)
from tests.fakes.discord_api import (
    DEFAULT_EVERYONE_PERMISSIONS,
    CommandUnavailable,
    FakeDiscord,
    Guild,
    Member,
    Perm,
)

MANAGE_GUILD = str(int(Perm.MANAGE_GUILD))


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


def server(
    dc: FakeDiscord, everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS
) -> tuple[Guild, int, Member, Member]:
    """A guild with one channel, an admin (Manage Server) and a player."""
    guild = dc.add_guild(everyone_permissions=everyone_permissions)
    channel_id = next(iter(guild.channels))
    admins = dc.add_role(guild.id, "admins", permissions=Perm.MANAGE_GUILD)
    admin = dc.add_member(guild.id, "admin", roles=(admins.id,))
    player = dc.add_member(guild.id, "player")
    return guild, channel_id, admin, player


async def subscriptions_of(
    sessions: async_sessionmaker[AsyncSession], guild_id: int
) -> list[tuple[str, str, str | None]]:
    async with sessions() as session:
        found = await repository.space_subscriptions(session, Platform.DISCORD, str(guild_id))
    return [(s.chat_id, s.game, role_to_ping(s.options)) for s in found]


# --- start-up ------------------------------------------------------------------------------


async def test_start_syncs_commands_with_minimal_intents(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild = dc.add_guild()
    async with running_bot(dc, sessions, clock, CODECAST_DISCORD_TEST_GUILD_ID=str(guild.id)):
        pass
    commands = {c["name"]: c for c in dc.commands}
    assert sorted(commands) == [
        "board",
        "codes",
        "language",
        "moderation",
        "redeem",
        "submit",
        "subscribe",
        "subscriptions",
        "unsubscribe",
    ]
    assert all(c["description"] for c in commands.values())
    assert commands["subscribe"]["default_member_permissions"] == MANAGE_GUILD
    assert commands["unsubscribe"]["default_member_permissions"] == MANAGE_GUILD
    assert commands["codes"]["default_member_permissions"] is None
    game = commands["codes"]["options"][0]
    assert {c["value"] for c in game["choices"]} == set(CATALOG.games)
    assert len(dc.guild_commands[guild.id]) == 9
    # GUILDS only: no privileged intent, no messages.
    assert [i.intents for i in dc.identifies] == [minimal_intents().value]
    assert minimal_intents().value == 1
    assert discord.http.Route.BASE == "https://discord.com/api/v10"


async def test_configured_shards_take_the_gateway_from_the_api_url(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    for i in range(4):
        dc.add_guild(f"Guild {i}")
    settings = discord_settings(
        dc, CODECAST_DISCORD_SHARD_COUNT="2", CODECAST_DISCORD_SHARD_IDS="0,1"
    )
    service = build_service(
        settings, CATALOG, sessions, clock, guild_ready_timeout=GUILD_READY_TIMEOUT
    )

    async def no_identify_wait(shard_id: int | None, *, initial: bool = False) -> None:
        """Discord's 5 s between identifies; the fake has no such limit."""

    service.client.before_identify_hook = no_identify_wait  # type: ignore[method-assign]
    try:
        await service.start()
        assert len(service.client.guilds) == 4
    finally:
        await service.stop()
    assert sorted(i.shard for i in dc.identifies if i.shard) == [(0, 2), (1, 2)]


async def test_large_catalog_gets_autocomplete_instead_of_choices(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    games = {
        f"game{i:02d}": {"name": f"Game {i:02d}", "pattern": "[A-Z0-9]{6,20}"} for i in range(30)
    }
    games["genshin"] = {"name": "Genshin Impact", "pattern": "[A-Z0-9]{6,20}"}
    catalog = parse_catalog({"games": games})
    guild, channel_id, _, player = server(dc)
    async with running_bot(dc, sessions, clock, catalog=catalog):
        handle = await dc.dispatch_autocomplete(
            guild.id, channel_id, player.user.id, "codes", {"game": "gensh"}, focused="game"
        )
        callback = await handle.response()
    codes = next(c for c in dc.commands if c["name"] == "codes")
    assert codes["options"][0].get("autocomplete") is True
    assert callback.response_type == 8
    assert callback.data["choices"] == [{"name": "Genshin Impact", "value": "genshin"}]


# --- /codes ----------------------------------------------------------------------------------


async def test_codes_lists_active_codes_with_redeem_links_for_one_person(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild, channel_id, _, player = server(dc)
    await add_codes(sessions, clock, [("GENSHINGIFT", "Primogem x60")], announce=False)
    async with running_bot(dc, sessions, clock):
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, player.user.id, "codes", {"game": "genshin"}
        )
        callback = await handle.response()
        [reply] = await handle.wait_followups(1)
    assert callback.response_type == 5  # deferred: the database answers after
    assert callback.ephemeral
    assert reply.ephemeral
    [embed] = reply.embeds
    assert embed["title"] == "Genshin Impact: 1 active code"
    assert embed["color"] == CATALOG.games["genshin"].color
    [field] = embed["fields"]
    assert field["name"] == "`GENSHINGIFT`"
    assert "[Redeem](https://genshin.hoyoverse.com/en/gift?code=GENSHINGIFT)" in field["value"]


async def test_codes_without_a_game_covers_every_game(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild, channel_id, admin, _ = server(dc)
    await add_codes(sessions, clock, [("STARRAILGIFT", "Stellar Jade x50")], "hsr", announce=False)
    async with running_bot(dc, sessions, clock):
        handle = await dc.dispatch_interaction(guild.id, channel_id, admin.user.id, "codes")
        await handle.response()
        [reply] = await handle.wait_followups(1)
    titles = [e["title"] for e in reply.embeds]
    assert len(titles) == len(CATALOG.games)
    assert "Honkai: Star Rail: 1 active code" in titles
    assert "Genshin Impact: no active codes" in titles


async def test_a_long_code_list_is_split_over_follow_ups(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild, channel_id, _, player = server(dc)
    rewards = "Primogem x60, Hero's Wit x5, Mystic Enhancement Ore x10, Mora x50000 " * 3
    codes = [(f"GENSHIN{i:03d}", rewards) for i in range(60)]
    await add_codes(sessions, clock, codes, announce=False)
    async with running_bot(dc, sessions, clock):
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, player.user.id, "codes", {"game": "genshin"}
        )
        await handle.response()
        replies = await handle.wait_followups(2)
        while sum(len(e["fields"]) for r in replies for e in r.embeds) < len(codes):
            replies = await handle.wait_followups(len(replies) + 1)
    assert len(replies) >= 2
    listed = [f["name"] for r in replies for e in r.embeds for f in e["fields"]]
    assert sorted(listed) == sorted(f"`{code}`" for code, _ in codes)
    assert all(r.ephemeral for r in replies)


# --- /subscribe ------------------------------------------------------------------------------


async def test_admin_subscribes_a_channel_with_a_role(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild, channel_id, admin, _ = server(dc)
    news = dc.add_channel(guild.id, "codes").id
    gamers = dc.add_role(guild.id, "gamers", mentionable=True)
    async with running_bot(dc, sessions, clock):
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, admin.user.id, "subscribe",
            {"game": "hsr", "channel": news, "role": gamers.id},
        )  # fmt: skip
        callback = await handle.response()
        [reply] = await handle.wait_followups(1)
    assert callback.ephemeral
    assert reply.content == (
        f"New **Honkai: Star Rail** codes will be announced in <#{news}>, "
        f"mentioning <@&{gamers.id}>."
    )
    assert reply.allowed_mentions == {"parse": []}
    assert await subscriptions_of(sessions, guild.id) == [(str(news), "hsr", str(gamers.id))]


async def test_subscribe_without_a_channel_means_this_channel(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild, channel_id, admin, _ = server(dc)
    async with running_bot(dc, sessions, clock):
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, admin.user.id, "subscribe", {"game": "genshin"}
        )
        await handle.response()
        await handle.wait_followups(1)
    assert await subscriptions_of(sessions, guild.id) == [(str(channel_id), "genshin", None)]


async def test_subscribe_records_the_servers_member_count(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild, channel_id, admin, _ = server(dc)
    guild.member_count = 25_000
    async with running_bot(dc, sessions, clock):
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, admin.user.id, "subscribe", {"game": "genshin"}
        )
        await handle.response()
        await handle.wait_followups(1)
    async with sessions() as session:
        [found] = await repository.chat_subscriptions(session, Platform.DISCORD, str(channel_id))
    assert found.audience == 25_000


async def test_non_admin_cannot_subscribe(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild, channel_id, _, player = server(dc)
    async with running_bot(dc, sessions, clock):
        # Discord hides the command from members without Manage Server ...
        with pytest.raises(CommandUnavailable):
            await dc.dispatch_interaction(
                guild.id, channel_id, player.user.id, "subscribe", {"game": "genshin"}
            )
        # ... and when a server opens it to everyone, codecast still checks.
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, player.user.id, "subscribe", {"game": "genshin"},
            enforce_default_permissions=False,
        )  # fmt: skip
        callback = await handle.response()
    assert callback.response_type == 4
    assert callback.ephemeral
    assert "Manage Server" in callback.data["content"]
    assert await subscriptions_of(sessions, guild.id) == []


async def test_manage_channels_in_a_channel_is_enough_for_that_channel_only(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild, channel_id, _, player = server(dc)
    other = dc.add_channel(guild.id, "elsewhere").id
    # The player manages this one channel (a member overwrite), nothing else in the server.
    await dc.set_overwrite(
        channel_id, dc.member_overwrite(player.user.id, allow=Perm.MANAGE_CHANNELS)
    )
    async with running_bot(dc, sessions, clock):
        # A server that opened the commands to its channel managers (Integrations settings).
        mine = await dc.dispatch_interaction(
            guild.id, channel_id, player.user.id, "subscribe", {"game": "genshin"},
            enforce_default_permissions=False,
        )  # fmt: skip
        await mine.response()
        [done] = await mine.wait_followups(1)
        theirs = await dc.dispatch_interaction(
            guild.id, channel_id, player.user.id, "subscribe",
            {"game": "hsr", "channel": other},
            enforce_default_permissions=False,
        )  # fmt: skip
        refusal = await theirs.response()
        # A channel where the member may do nothing at all is not one they manage either.
        locked = dc.add_channel(guild.id, "locked").id
        await dc.set_overwrite(locked, dc.member_overwrite(player.user.id, deny=(1 << 41) - 1))
        none = await dc.dispatch_interaction(
            guild.id, channel_id, player.user.id, "subscribe",
            {"game": "zzz", "channel": locked},
            enforce_default_permissions=False,
        )  # fmt: skip
        refused_too = await none.response()
    assert done.content == f"New **Genshin Impact** codes will be announced in <#{channel_id}>."
    assert refusal.ephemeral
    assert "Manage Channels" in refusal.data["content"]
    assert "Manage Channels" in refused_too.data["content"]
    assert await subscriptions_of(sessions, guild.id) == [(str(channel_id), "genshin", None)]


async def test_missing_channel_permissions_are_named_and_nothing_is_saved(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild, channel_id, admin, _ = server(dc)
    quiet = dc.add_channel(guild.id, "quiet").id
    hidden = dc.add_channel(guild.id, "hidden").id
    await dc.revoke_bot_permissions(quiet, Perm.EMBED_LINKS)
    await dc.revoke_bot_permissions(hidden, Perm.VIEW_CHANNEL)
    async with running_bot(dc, sessions, clock):
        answers = []
        for target in (quiet, hidden):
            handle = await dc.dispatch_interaction(
                guild.id, channel_id, admin.user.id, "subscribe",
                {"game": "genshin", "channel": target},
            )  # fmt: skip
            answers.append((await handle.response()).data["content"])
    # The command is named by a mention: Discord shows it in the reader's language.
    subscribe_id = next(c["id"] for c in dc.commands if c["name"] == "subscribe")
    assert answers[0] == (
        f"I cannot announce in <#{quiet}>: I am missing **Embed Links** there. Give codecast "
        f"these permissions in the channel settings, then run </subscribe:{subscribe_id}> again."
    )
    assert "**View Channel, Send Messages, Embed Links**" in answers[1]
    assert await subscriptions_of(sessions, guild.id) == []


async def test_unmentionable_role_is_saved_with_a_warning(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    # Discord's defaults let @everyone (and so the bot) mention any role; not here.
    guild, channel_id, admin, _ = server(dc, DEFAULT_EVERYONE_PERMISSIONS & ~Perm.MENTION_EVERYONE)
    quiet_role = dc.add_role(guild.id, "quiet", mentionable=False)
    async with running_bot(dc, sessions, clock):
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, admin.user.id, "subscribe",
            {"game": "genshin", "role": quiet_role.id},
        )  # fmt: skip
        await handle.response()
        [reply] = await handle.wait_followups(1)
    assert "is not mentionable" in reply.content
    assert await subscriptions_of(sessions, guild.id) == [
        (str(channel_id), "genshin", str(quiet_role.id))
    ]


async def test_a_channel_manager_may_choose_only_roles_they_could_mention(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild, channel_id, admin, player = server(
        dc, DEFAULT_EVERYONE_PERMISSIONS & ~Perm.MENTION_EVERYONE
    )
    quiet_role = dc.add_role(guild.id, "staff", mentionable=False)
    open_role = dc.add_role(guild.id, "gamers", mentionable=True)
    # The player manages this channel (and so may use /subscribe here), nothing more.
    await dc.set_overwrite(
        channel_id, dc.member_overwrite(player.user.id, allow=Perm.MANAGE_CHANNELS)
    )

    async def subscribe_as(member: Member, game: str, role_id: int) -> str:
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, member.user.id, "subscribe",
            {"game": game, "role": role_id}, enforce_default_permissions=False,
        )  # fmt: skip
        callback = await handle.response()
        if callback.response_type == 4:
            return str(callback.data["content"])
        [reply] = await handle.wait_followups(1)
        return reply.content

    async with running_bot(dc, sessions, clock):
        refused = await subscribe_as(player, "genshin", quiet_role.id)
        mentionable = await subscribe_as(player, "hsr", open_role.id)
        by_admin = await subscribe_as(admin, "zzz", quiet_role.id)
        # Once the player may mention every role in that channel, any role is theirs to pick.
        await dc.set_overwrite(
            channel_id,
            dc.member_overwrite(
                player.user.id, allow=Perm.MANAGE_CHANNELS | Perm.MENTION_EVERYONE
            ),
        )
        allowed = await subscribe_as(player, "wuwa", quiet_role.id)
    assert refused.startswith(f"You cannot have me ping <@&{quiet_role.id}>: it is not")
    assert "Manage Server" in refused
    assert mentionable.startswith("New **Honkai: Star Rail** codes")
    assert by_admin.startswith("New **Zenless Zone Zero** codes")
    assert allowed.startswith("New **Wuthering Waves** codes")
    assert sorted(await subscriptions_of(sessions, guild.id)) == sorted(
        [
            (str(channel_id), "hsr", str(open_role.id)),
            (str(channel_id), "zzz", str(quiet_role.id)),
            (str(channel_id), "wuwa", str(quiet_role.id)),
        ]
    )


async def test_everyone_role_is_refused(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild, channel_id, admin, _ = server(dc)
    async with running_bot(dc, sessions, clock):
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, admin.user.id, "subscribe",
            {"game": "genshin", "role": guild.everyone_role_id},
        )  # fmt: skip
        callback = await handle.response()
    assert "@everyone cannot be pinged" in callback.data["content"]
    assert await subscriptions_of(sessions, guild.id) == []


# --- /unsubscribe and /subscriptions ----------------------------------------------------------


async def test_admin_unsubscribes_and_a_player_cannot(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild, channel_id, admin, player = server(dc)
    async with sessions.begin() as session:
        for game in ("genshin", "zzz"):
            await repository.subscribe(
                session, Platform.DISCORD, str(channel_id), game,
                now=clock(), space_id=str(guild.id),
            )  # fmt: skip
    async with running_bot(dc, sessions, clock):
        refused = await dc.dispatch_interaction(
            guild.id, channel_id, player.user.id, "unsubscribe", {"game": "genshin"},
            enforce_default_permissions=False,
        )  # fmt: skip
        refusal = await refused.response()
        done = await dc.dispatch_interaction(
            guild.id, channel_id, admin.user.id, "unsubscribe", {"game": "genshin"}
        )
        await done.response()
        [first] = await done.wait_followups(1)
        again = await dc.dispatch_interaction(
            guild.id, channel_id, admin.user.id, "unsubscribe", {"game": "genshin"}
        )
        await again.response()
        [second] = await again.wait_followups(1)
    assert "Manage Server" in refusal.data["content"]
    assert first.content == f"<#{channel_id}> will no longer get **Genshin Impact** codes."
    assert second.content == f"<#{channel_id}> was not subscribed to **Genshin Impact** codes."
    assert await subscriptions_of(sessions, guild.id) == [(str(channel_id), "zzz", None)]


async def test_subscriptions_lists_the_servers_channels_for_anyone(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild, channel_id, admin, player = server(dc)
    role = dc.add_role(guild.id, "gamers", mentionable=True)
    async with sessions.begin() as session:
        await repository.subscribe(
            session, Platform.DISCORD, str(channel_id), "wuwa",
            now=clock(), space_id=str(guild.id), options={ROLE_OPTION: str(role.id)},
        )  # fmt: skip
    async with running_bot(dc, sessions, clock):
        replies = []
        for member in (admin, player):
            handle = await dc.dispatch_interaction(
                guild.id, channel_id, member.user.id, "subscriptions"
            )
            await handle.response()
            replies.extend(await handle.wait_followups(1))
    expected = f"**Subscriptions (1)**\n<#{channel_id}> · Wuthering Waves · pings <@&{role.id}>"
    assert [r.content for r in replies] == [expected, expected]
    assert all(r.ephemeral and r.allowed_mentions == {"parse": []} for r in replies)


# --- /redeem ---------------------------------------------------------------------------------


async def test_redeem_answers_with_a_link_button_for_a_pasted_gift_link(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild, channel_id, _, player = server(dc)
    async with running_bot(dc, sessions, clock):
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, player.user.id, "redeem",
            {"code": "https://zenless.hoyoverse.com/redemption?lang=en&code=ZZZGIFT2025"},
        )  # fmt: skip
        callback = await handle.response()
    assert callback.response_type == 4
    assert callback.ephemeral
    assert "**Zenless Zone Zero**" in callback.data["content"]
    [row] = callback.data["components"]
    [button] = row["components"]
    assert button["label"] == "Redeem ZZZGIFT2025"
    assert button["url"] == "https://zenless.hoyoverse.com/redemption?code=ZZZGIFT2025"


async def test_redeem_refuses_what_is_not_a_code(
    dc: FakeDiscord, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    guild, channel_id, _, player = server(dc)
    async with running_bot(dc, sessions, clock):
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, player.user.id, "redeem", {"code": "@everyone hi"}
        )
        callback = await handle.response()
    assert callback.ephemeral
    assert callback.data["content"] == "That does not look like a code of any game I know."


# --- errors -----------------------------------------------------------------------------------


async def test_a_failing_command_answers_briefly_and_is_logged_with_context(
    dc: FakeDiscord, clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A database without tables: every query fails.
    engine = database.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    broken = database.session_factory(engine)
    guild, channel_id, _, player = server(dc)
    try:
        async with running_bot(dc, broken, clock):
            handle = await dc.dispatch_interaction(
                guild.id, channel_id, player.user.id, "codes", {"game": "genshin"}
            )
            await handle.response()
            [reply] = await handle.wait_followups(1)
    finally:
        await engine.dispose()
    assert reply.ephemeral
    assert reply.content == "Something went wrong on my side. Please try again in a moment."
    [record] = [r for r in caplog.records if r.getMessage().startswith("discord /codes failed")]
    assert record.levelno == logging.ERROR
    assert f"guild {guild.id}" in record.getMessage()
    assert f"user {player.user.id}" in record.getMessage()
    assert record.exc_info is not None
    assert dc.token not in caplog.text
