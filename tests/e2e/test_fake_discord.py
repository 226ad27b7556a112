"""The real discord.py client against the fake Discord: gateway, commands, messages, limits."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, NamedTuple

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from tests.fakes.discord_api import (
    ChannelType,
    CommandUnavailable,
    FakeDiscord,
    Perm,
)
from tests.fakes.discord_world import Guild

GAMES = ("genshin", "honkai-star-rail", "zenless")
# on_ready waits this long after the last GUILD_CREATE (2 s by default).
GUILD_READY_TIMEOUT = 0.05


class ProbeBot(discord.Client):
    """A small bot with the commands and listeners these tests look at."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("intents", discord.Intents.default())
        super().__init__(guild_ready_timeout=GUILD_READY_TIMEOUT, **options)
        self.tree = app_commands.CommandTree(self)
        self.invocations: list[tuple[str, dict[str, object]]] = []
        self.command_errors: list[Exception] = []
        self.removed_guilds: asyncio.Queue[discord.Guild] = asyncio.Queue()
        self.deleted_channels: asyncio.Queue[discord.abc.GuildChannel] = asyncio.Queue()
        self.resumed = asyncio.Event()
        self.edited = asyncio.Event()
        self._add_commands()

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        self.removed_guilds.put_nowait(guild)

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        self.deleted_channels.put_nowait(channel)

    async def on_resumed(self) -> None:
        self.resumed.set()

    def _add_commands(self) -> None:
        tree = self.tree

        @tree.command(name="codes", description="Active codes for a game")
        async def codes(interaction: discord.Interaction, game: str | None = None) -> None:
            self.invocations.append(("codes", {"game": game}))
            await interaction.response.send_message(f"No codes for {game}", ephemeral=True)

        @codes.autocomplete("game")
        async def complete_game(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=g, value=g) for g in GAMES if g.startswith(current)]

        @tree.command(name="subscribe", description="Announce a game's codes in a channel")
        @app_commands.default_permissions(manage_guild=True)
        async def subscribe(
            interaction: discord.Interaction, game: str, channel: app_commands.AppCommandChannel
        ) -> None:
            guild = interaction.guild
            assert guild is not None
            target = guild.get_channel(channel.id)
            assert isinstance(target, discord.TextChannel)
            can_send = target.permissions_for(guild.me).send_messages
            self.invocations.append(
                (
                    "subscribe",
                    {"game": game, "channel": channel.id, "user_perms": channel.permissions},
                )
            )
            await interaction.response.send_message(f"can send: {can_send}", ephemeral=True)

        @tree.command(name="slow", description="Takes longer than the deadline")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await asyncio.sleep(0.05)
            await interaction.followup.send("done", ephemeral=True)

        @tree.command(name="refresh", description="Answers, then edits the answer")
        async def refresh(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("Looking up codes…")
            await interaction.edit_original_response(content="3 active codes")
            self.edited.set()

        @tree.command(name="late", description="Answers after the deadline")
        async def late(interaction: discord.Interaction) -> None:
            await asyncio.sleep(0.3)
            try:
                await interaction.response.send_message("too late")
            except discord.NotFound as exc:
                self.command_errors.append(exc)


class ShardedProbeBot(discord.AutoShardedClient):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # The default sleeps 5 s between shards (Discord's identify limit); the fake has none.
        return None


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
def rest_at_fake(dc: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> FakeDiscord:
    """REST (and interaction callbacks, webhooks) to the fake; discord.py has no option."""
    monkeypatch.setattr(discord.http.Route, "BASE", dc.api_url)
    return dc


@pytest.fixture
def discord_at_fake(rest_at_fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> FakeDiscord:
    """Also the gateway: a plain Client never asks GET /gateway/bot, it dials DEFAULT_GATEWAY
    (and every client falls back to it after an invalidated session)."""
    url = yarl.URL(rest_at_fake.gateway_url)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", url)
    return rest_at_fake


class Connected(NamedTuple):
    dc: FakeDiscord
    guild: Guild
    channel_id: int
    bot: ProbeBot


@pytest.fixture
async def connected(discord_at_fake: FakeDiscord) -> AsyncIterator[Connected]:
    """A guild with one text channel, and the probe bot logged in and ready in it."""
    dc = discord_at_fake
    guild = dc.add_guild()
    bot = ProbeBot()
    async with running(bot, dc.token):
        yield Connected(dc, guild, next(iter(guild.channels)), bot)


@contextlib.asynccontextmanager
async def running(client: discord.Client, token: str) -> AsyncIterator[discord.Client]:
    """Log in, connect on this loop and yield once on_ready has fired."""
    await client.login(token)
    task = asyncio.create_task(client.connect())
    ready = asyncio.create_task(client.wait_until_ready())
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=10, return_when="FIRST_COMPLETED")
        if task in done:
            task.result()  # start() ended early: raise its error
        assert ready in done, "client never became ready"
        yield client
    finally:
        ready.cancel()
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.contextmanager
def elapsed() -> Iterator[list[float]]:
    box: list[float] = []
    start = time.monotonic()
    yield box
    box.append(time.monotonic() - start)


def text_channel(client: discord.Client, channel_id: int) -> discord.TextChannel:
    channel = client.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


# -- log-in and gateway -------------------------------------------------------------------


async def test_wrong_token_is_a_login_failure(rest_at_fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.default())
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()
    assert rest_at_fake.requests[0].status == 401


async def test_ready_fills_the_cache_with_guild_channels_and_roles(
    discord_at_fake: FakeDiscord,
) -> None:
    dc = discord_at_fake
    guild = dc.add_guild("Codes HQ", channels=("general",), announcement_channels=("news",))
    mods = dc.add_role(guild.id, "mods", permissions=Perm.MANAGE_GUILD, mentionable=True)
    bot = ProbeBot()
    async with running(bot, dc.token):
        cached = bot.get_guild(guild.id)
        assert cached is not None
        assert {c.name for c in cached.channels} == {"general", "news"}
        news = discord.utils.get(cached.text_channels, name="news")
        assert news is not None
        assert news.is_news()
        assert cached.default_role.id == guild.id
        assert cached.get_role(mods.id) is not None
        assert cached.me is not None
        assert [r.is_bot_managed() for r in cached.me.roles] == [False, True]
    identify = dc.identifies[0]
    assert identify.intents == discord.Intents.default().value
    assert identify.query == {"v": "10", "encoding": "json", "compress": "zlib-stream"}
    assert dc.gateway.heartbeats >= 1


async def test_plain_text_frames_work_when_compression_is_off(
    discord_at_fake: FakeDiscord,
) -> None:
    dc = discord_at_fake
    dc.settings.gateway_compression = False  # discord.py still asks for zlib-stream
    guild = dc.add_guild()
    bot = ProbeBot()
    async with running(bot, dc.token):
        await dc.wait_until_identified()
        assert bot.get_guild(guild.id) is not None


async def test_fake_and_discord_py_agree_on_channel_permissions(
    discord_at_fake: FakeDiscord,
) -> None:
    dc = discord_at_fake
    guild = dc.add_guild("Perms", channels=())
    bot_role = guild.bot_role_id
    assert bot_role is not None
    view_send = Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES
    cases = {
        "open": (),
        "staff-only-but-bot-allowed": (
            dc.role_overwrite(guild.id, deny=Perm.VIEW_CHANNEL),
            dc.role_overwrite(bot_role, allow=view_send),
        ),
        "hidden": (dc.role_overwrite(guild.id, deny=Perm.VIEW_CHANNEL),),
        "read-only": (dc.member_overwrite(dc.bot_user_id, deny=Perm.SEND_MESSAGES),),
        "role-denied-member-allowed": (
            dc.role_overwrite(bot_role, deny=Perm.SEND_MESSAGES | Perm.EMBED_LINKS),
            dc.member_overwrite(dc.bot_user_id, allow=Perm.SEND_MESSAGES),
        ),
    }
    ids = {name: dc.add_channel(guild.id, name, overwrites=ows).id for name, ows in cases.items()}
    bot = ProbeBot()
    async with running(bot, dc.token):
        cached = bot.get_guild(guild.id)
        assert cached is not None
        me = cached.me
        # discord.py drops voice permissions in text channels; compare the rest.
        text_bits = ~discord.Permissions.voice().value
        for name, cid in ids.items():
            theirs = text_channel(bot, cid).permissions_for(me).value
            assert theirs == dc.permissions(cid) & text_bits, name
    assert not dc.permissions(ids["hidden"]) & (Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES)
    assert not dc.permissions(ids["read-only"]) & Perm.EMBED_LINKS  # lost with SEND_MESSAGES
    assert dc.permissions(ids["role-denied-member-allowed"]) & Perm.SEND_MESSAGES


async def test_autosharded_client_takes_the_gateway_from_gateway_bot(
    rest_at_fake: FakeDiscord,
) -> None:
    dc = rest_at_fake
    dc.settings.recommended_shards = 2
    guilds = [dc.add_guild(f"Guild {i}") for i in range(4)]
    bot = ShardedProbeBot(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    async with running(bot, dc.token):
        assert {g.id for g in bot.guilds} == {g.id for g in guilds}
        for guild in bot.guilds:
            assert guild.shard_id == (guild.id >> 22) % 2
    assert sorted(i.shard for i in dc.identifies if i.shard) == [(0, 2), (1, 2)]
    assert dc.requests_to("GET", "/gateway/bot")


async def test_privileged_intents_not_enabled_end_the_client(
    discord_at_fake: FakeDiscord,
) -> None:
    bot = ProbeBot(intents=discord.Intents.all())
    with pytest.raises(discord.PrivilegedIntentsRequired):
        async with running(bot, discord_at_fake.token):
            pass


async def test_client_resumes_and_gets_the_events_it_missed(discord_at_fake: FakeDiscord) -> None:
    dc = discord_at_fake
    guild = dc.add_guild()
    doomed = dc.add_channel(guild.id, "doomed")
    bot = ProbeBot()
    async with running(bot, dc.token):
        await dc.disconnect_gateway(4000)
        await dc.delete_channel(doomed.id)  # happens while the client is away
        async with asyncio.timeout(5):
            await bot.resumed.wait()
            deleted = await bot.deleted_channels.get()
        assert deleted.id == doomed.id
        assert dc.gateway.resumes == 1
        assert len(dc.identifies) == 1


# -- application commands and interactions -------------------------------------------------


async def test_tree_sync_bulk_overwrites_global_and_guild_commands(
    discord_at_fake: FakeDiscord,
) -> None:
    dc = discord_at_fake
    guild = dc.add_guild()
    bot = ProbeBot()
    async with running(bot, dc.token):
        synced = await bot.tree.sync()
        bot.tree.copy_global_to(guild=discord.Object(guild.id))
        await bot.tree.sync(guild=discord.Object(guild.id))
    names = sorted(c["name"] for c in dc.commands)
    assert names == ["codes", "late", "refresh", "slow", "subscribe"]
    assert {c.id for c in synced} == {int(c["id"]) for c in dc.commands}
    subscribe = next(c for c in dc.commands if c["name"] == "subscribe")
    assert subscribe["default_member_permissions"] == str(int(Perm.MANAGE_GUILD))
    assert [o["type"] for o in subscribe["options"]] == [3, 7]
    assert len(dc.guild_commands[guild.id]) == 5
    assert dc.requests_to("PUT", f"/applications/{dc.application_id}/commands")


async def test_slash_command_is_answered_ephemerally(discord_at_fake: FakeDiscord) -> None:
    dc = discord_at_fake
    guild = dc.add_guild()
    channel_id = next(iter(guild.channels))
    member = dc.add_member(guild.id, "player")
    bot = ProbeBot()
    async with running(bot, dc.token):
        handle = await dc.dispatch_interaction(
            guild.id, channel_id, member.user.id, "codes", {"game": "genshin"}
        )
        callback = await handle.response()
    assert bot.invocations == [("codes", {"game": "genshin"})]
    assert callback.response_type == 4
    assert callback.ephemeral
    assert callback.data["content"] == "No codes for genshin"
    assert callback.status == 200
    assert callback.latency < 1.0
    assert handle.original is not None
    assert handle.original.ephemeral
    assert dc.callbacks == [callback]


async def test_channel_option_resolves_with_the_members_permissions(
    discord_at_fake: FakeDiscord,
) -> None:
    dc = discord_at_fake
    guild = dc.add_guild(channels=("general", "announcements"))
    general, announcements = guild.channels
    admins = dc.add_role(guild.id, "admins", permissions=Perm.MANAGE_GUILD)
    admin = dc.add_member(guild.id, "admin", roles=(admins.id,))
    player = dc.add_member(guild.id, "player")
    await dc.revoke_bot_permissions(announcements)
    bot = ProbeBot()
    async with running(bot, dc.token):
        await bot.tree.sync()
        with pytest.raises(CommandUnavailable):
            await dc.dispatch_interaction(
                guild.id, general, player.user.id, "subscribe",
                {"game": "genshin", "channel": announcements},
            )  # fmt: skip
        handle = await dc.dispatch_interaction(
            guild.id, general, admin.user.id, "subscribe",
            {"game": "genshin", "channel": announcements},
        )  # fmt: skip
        callback = await handle.response()
    assert callback.data["content"] == "can send: False"
    _, seen = bot.invocations[0]
    # The resolved channel carries the invoking member's permissions, not the bot's.
    user_perms = seen["user_perms"]
    assert isinstance(user_perms, discord.Permissions)
    assert user_perms.send_messages


async def test_deferred_command_sends_a_followup(connected: Connected) -> None:
    dc, guild, channel_id, _bot = connected
    handle = await dc.dispatch_interaction(guild.id, channel_id, guild.owner_id, "slow")
    callback = await handle.response()
    followups = await handle.wait_followups(1)
    assert callback.response_type == 5
    assert callback.ephemeral
    assert followups[0].content == "done"
    assert followups[0].ephemeral


async def test_original_response_is_edited_through_the_webhook(
    connected: Connected,
) -> None:
    dc, guild, channel_id, bot = connected
    handle = await dc.dispatch_interaction(guild.id, channel_id, guild.owner_id, "refresh")
    callback = await handle.response()
    async with asyncio.timeout(5):
        await bot.edited.wait()
    assert not callback.ephemeral
    assert handle.original is not None
    assert handle.original.content == "3 active codes"
    assert dc.requests_to("PATCH", f"/webhooks/{dc.application_id}/{handle.token}/messages/")
    # A public reply is a channel message too, echoed to the bot as MESSAGE_CREATE.
    assert dc.messages(channel_id) == [handle.original]


async def test_second_answer_to_an_interaction_is_refused(
    connected: Connected,
) -> None:
    dc, guild, channel_id, _bot = connected
    handle = await dc.dispatch_interaction(guild.id, channel_id, guild.owner_id, "codes")
    await handle.response()
    url = f"{dc.api_url}/interactions/{handle.id}/{handle.token}/callback"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={"type": 4, "data": {"content": "again"}}) as answer,
    ):
        body = await answer.json()
    assert (answer.status, body["code"]) == (400, 40060)
    assert [c.status for c in dc.callbacks] == [200, 400]


async def test_autocomplete_answers_with_choices(connected: Connected) -> None:
    dc, guild, channel_id, bot = connected
    handle = await dc.dispatch_autocomplete(
        guild.id, channel_id, guild.owner_id, "codes", {"game": "h"}, focused="game"
    )
    callback = await handle.response()
    assert callback.response_type == 8
    assert callback.data["choices"] == [{"name": "honkai-star-rail", "value": "honkai-star-rail"}]
    assert bot.invocations == []


async def test_answer_after_the_deadline_is_an_unknown_interaction() -> None:
    async with FakeDiscord(interaction_deadline=0.1) as dc:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(discord.http.Route, "BASE", dc.api_url)
            mp.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(dc.gateway_url))
            guild = dc.add_guild()
            channel_id = next(iter(guild.channels))
            bot = ProbeBot()
            async with running(bot, dc.token):
                handle = await dc.dispatch_interaction(
                    guild.id, channel_id, guild.owner_id, "late"
                )
                callback = await handle.response()
                await asyncio.sleep(0.05)  # let the command see the error
    assert callback.status == 404
    assert callback.latency > 0.1
    assert isinstance(bot.command_errors[0], discord.NotFound)
    assert bot.command_errors[0].code == 10062


# -- messages -------------------------------------------------------------------------------


async def test_send_with_embed_and_view_is_recorded(discord_at_fake: FakeDiscord) -> None:
    dc = discord_at_fake
    guild = dc.add_guild()
    channel_id = next(iter(guild.channels))
    bot = ProbeBot()
    embed = discord.Embed(title="Genshin Impact", description="`GENSHINGIFT` — 60 Primogems")
    embed.add_field(name="Rewards", value="60 Primogems")
    view = discord.ui.View()
    view.add_item(
        discord.ui.Button(
            label="Redeem GENSHINGIFT", url="https://example.test/r?code=GENSHINGIFT"
        )
    )
    async with running(bot, dc.token):
        sent = await text_channel(bot, channel_id).send(
            "New code @everyone",
            embed=embed,
            view=view,
            allowed_mentions=discord.AllowedMentions.none(),
        )
    [stored] = dc.messages(channel_id)
    assert stored.id == sent.id
    assert stored.embeds[0]["title"] == "Genshin Impact"
    button = stored.components[0]["components"][0]
    assert (button["style"], button["url"]) == (5, "https://example.test/r?code=GENSHINGIFT")
    assert stored.allowed_mentions == {"parse": []}
    assert not stored.pinged_everyone


async def test_everyone_in_text_pings_unless_mentions_are_restricted(
    discord_at_fake: FakeDiscord,
) -> None:
    dc = discord_at_fake
    guild = dc.add_guild()
    channel_id = next(iter(guild.channels))
    gamers = dc.add_role(guild.id, "gamers")  # not mentionable
    bot = ProbeBot()
    text = f"@everyone <@123> <@&{gamers.id}> **bold**"
    async with running(bot, dc.token):
        channel = text_channel(bot, channel_id)
        await channel.send(text)
        # AllowedMentions() allows everything by default: start from none().
        only_role = discord.AllowedMentions.none()
        only_role.roles = [discord.Object(gamers.id)]
        await channel.send(text, allowed_mentions=only_role)
    loud, quiet = dc.messages(channel_id)
    # @everyone's default permissions include MENTION_EVERYONE, which also lets the bot
    # ping roles that are not mentionable.
    assert loud.pinged_everyone
    assert loud.pinged_role_ids == [gamers.id]
    assert not quiet.pinged_everyone
    assert quiet.pinged_role_ids == [gamers.id]
    assert quiet.pinged_user_ids == []


async def test_repeated_nonce_returns_the_first_message(connected: Connected) -> None:
    dc, _guild, channel_id, bot = connected
    channel = text_channel(bot, channel_id)
    first = await channel.send("code GENSHINGIFT", nonce="delivery-42")
    again = await channel.send("code GENSHINGIFT", nonce="delivery-42")
    other = await channel.send("code GENSHINGIFT", nonce="delivery-43")
    assert again.id == first.id
    assert other.id != first.id
    assert len(dc.messages(channel_id)) == 2
    assert dc.requests_to("POST", f"/channels/{channel_id}/messages")[0].json["enforce_nonce"]


async def test_missing_permissions_and_access_are_forbidden(discord_at_fake: FakeDiscord) -> None:
    dc = discord_at_fake
    guild = dc.add_guild(channels=("read-only", "secret"))
    read_only, secret = guild.channels
    await dc.revoke_bot_permissions(read_only, Perm.SEND_MESSAGES)
    await dc.revoke_bot_permissions(secret, Perm.VIEW_CHANNEL)
    bot = ProbeBot()
    async with running(bot, dc.token):
        with pytest.raises(discord.Forbidden) as denied:
            await text_channel(bot, read_only).send("hi")
        with pytest.raises(discord.Forbidden) as hidden:
            await text_channel(bot, secret).send("hi")
    assert denied.value.code == 50013
    assert hidden.value.code == 50001
    assert dc.messages() == []
    assert dc.invalid_requests == 2


async def test_embed_only_message_without_embed_links_is_refused(
    discord_at_fake: FakeDiscord,
) -> None:
    dc = discord_at_fake
    guild = dc.add_guild()
    channel_id = next(iter(guild.channels))
    await dc.revoke_bot_permissions(channel_id, Perm.EMBED_LINKS)
    bot = ProbeBot()
    async with running(bot, dc.token):
        channel = text_channel(bot, channel_id)
        with pytest.raises(discord.Forbidden):
            await channel.send(embed=discord.Embed(title="codes"))
        await channel.send("codes below", embed=discord.Embed(title="codes"))
    [stored] = dc.messages(channel_id)
    assert stored.embeds == []  # dropped silently when there is text


async def test_deleted_channel_is_not_found(discord_at_fake: FakeDiscord) -> None:
    dc = discord_at_fake
    guild = dc.add_guild(channels=("gone", "also-gone"))
    gone, also_gone = guild.channels
    bot = ProbeBot()
    async with running(bot, dc.token):
        stale = text_channel(bot, gone)
        await dc.delete_channel(gone, notify=False)
        with pytest.raises(discord.NotFound) as missing:
            await stale.send("hi")
        await dc.delete_channel(also_gone)
        async with asyncio.timeout(5):
            deleted = await bot.deleted_channels.get()
        assert deleted.id == also_gone
        assert bot.get_channel(also_gone) is None
    assert missing.value.code == 10003


async def test_invalid_embed_is_a_form_error(discord_at_fake: FakeDiscord) -> None:
    dc = discord_at_fake
    guild = dc.add_guild()
    channel_id = next(iter(guild.channels))
    embed = discord.Embed(title="too many fields")
    for i in range(26):
        embed.add_field(name=f"code {i}", value="reward")
    bot = ProbeBot()
    async with running(bot, dc.token):
        with pytest.raises(discord.HTTPException) as invalid:
            await text_channel(bot, channel_id).send(embed=embed)
    assert invalid.value.status == 400
    assert invalid.value.code == 50035


async def test_edit_and_crosspost(discord_at_fake: FakeDiscord) -> None:
    dc = discord_at_fake
    guild = dc.add_guild(channels=("general",), announcement_channels=("news",))
    general, news = guild.channels
    bot = ProbeBot()
    async with running(bot, dc.token):
        message = await text_channel(bot, news).send("GENSHINGIFT")
        await message.publish()
        await message.edit(content="~~GENSHINGIFT~~ expired")
        plain = await text_channel(bot, general).send("GENSHINGIFT")
        with pytest.raises(discord.HTTPException) as wrong_type:
            await plain.publish()
    [stored] = dc.messages(news)
    assert stored.crossposted
    assert stored.content == "~~GENSHINGIFT~~ expired"
    assert [e["content"] for e in stored.edits] == ["~~GENSHINGIFT~~ expired"]
    assert wrong_type.value.code == 50024
    assert dc.channel(news).type == ChannelType.ANNOUNCEMENT


async def test_guild_delete_fires_on_guild_remove(connected: Connected) -> None:
    dc, guild, channel_id, bot = connected
    channel = text_channel(bot, channel_id)
    await dc.remove_bot_from_guild(guild.id)
    async with asyncio.timeout(5):
        removed = await bot.removed_guilds.get()
    assert removed.id == guild.id
    assert bot.get_guild(guild.id) is None
    with pytest.raises(discord.Forbidden) as kicked:
        await channel.send("still here?")
    assert kicked.value.code == 50001


# -- rate limits and failures ---------------------------------------------------------------


async def test_injected_429_is_waited_out_and_not_a_violation(
    discord_at_fake: FakeDiscord,
) -> None:
    dc = discord_at_fake
    guild = dc.add_guild()
    channel_id = next(iter(guild.channels))
    dc.fail_next("POST /channels/*/messages", 429, retry_after=0.3)
    bot = ProbeBot()
    async with running(bot, dc.token):
        with elapsed() as took:
            await text_channel(bot, channel_id).send("hi")
    assert took[0] >= 0.3
    assert [f.status for f in dc.injected] == [429]
    assert dc.violations == []
    assert len(dc.requests_to("POST", f"/channels/{channel_id}/messages")) == 2
    assert len(dc.messages(channel_id)) == 1


async def test_429_without_via_is_taken_for_a_ban(discord_at_fake: FakeDiscord) -> None:
    dc = discord_at_fake
    guild = dc.add_guild()
    channel_id = next(iter(guild.channels))
    dc.fail_next("POST /channels/*/messages", 429, retry_after=0.1, via=False)
    bot = ProbeBot()
    async with running(bot, dc.token):
        with pytest.raises(discord.HTTPException) as banned:
            await text_channel(bot, channel_id).send("hi")
    assert banned.value.status == 429
    assert dc.messages() == []


async def test_six_quick_sends_wait_for_the_bucket_instead_of_violating(
    connected: Connected,
) -> None:
    dc, _guild, channel_id, bot = connected
    channel = text_channel(bot, channel_id)
    with elapsed() as took:
        await asyncio.gather(*(channel.send(f"code {i}") for i in range(6)))
    posts = dc.requests_to("POST", f"/channels/{channel_id}/messages")
    assert dc.violations == []
    assert [p.status for p in posts] == [200] * 6
    # discord.py read Remaining: 0 and Reset-After from the fifth answer and slept.
    assert posts[5].at - posts[0].at >= dc.settings.channel_message_window
    assert took[0] < dc.settings.channel_message_window + 3.0


async def test_burst_across_channels_breaks_the_global_limit(
    discord_at_fake: FakeDiscord,
) -> None:
    """discord.py has no global pacing: a notifier must cap its own rate below 50/s."""
    dc = discord_at_fake
    guild = dc.add_guild(channels=())
    channel_ids = [dc.add_channel(guild.id).id for _ in range(60)]
    bot = ProbeBot()
    async with running(bot, dc.token):
        channels = [text_channel(bot, cid) for cid in channel_ids]
        await asyncio.gather(*(c.send("code") for c in channels))
    assert len(dc.messages()) == 60
    assert dc.violations
    assert {v.scope for v in dc.violations} == {"global"}


async def test_bad_gateway_is_retried(connected: Connected) -> None:
    dc, _guild, channel_id, bot = connected
    dc.outage(0.5, mode="502")
    await text_channel(bot, channel_id).send("hi")
    statuses = [r.status for r in dc.requests_to("POST", f"/channels/{channel_id}/messages")]
    assert statuses == [502, 200]


async def test_dropped_connection_surfaces_as_a_client_error(
    connected: Connected,
) -> None:
    dc, _guild, channel_id, bot = connected
    dc.outage(0.2, mode="drop")
    with pytest.raises(aiohttp.ClientError):
        await text_channel(bot, channel_id).send("hi")
    assert dc.messages() == []


@pytest.mark.timing
async def test_fake_is_not_the_bottleneck_of_a_thousand_sends(
    discord_at_fake: FakeDiscord,
) -> None:
    dc = discord_at_fake
    dc.rate_limits = False
    dc.settings.echo_messages = False  # keep discord.py from parsing 1,000 MESSAGE_CREATEs
    guild = dc.add_guild(channels=())
    # 250 channels × 4: past 256 buckets discord.py sweeps all of them whenever it creates
    # one more, a client-side cost (quadratic in channels) that is not under test here.
    channel_ids = [dc.add_channel(guild.id).id for _ in range(250)] * 4
    bot = ProbeBot()
    async with running(bot, dc.token):
        http = bot.http
        limit = asyncio.Semaphore(32)

        async def send(cid: int) -> None:
            async with limit:
                await http.send_message(cid, params=_params("code"))

        with elapsed() as took:
            await asyncio.gather(*(send(cid) for cid in channel_ids))
    assert len(dc.messages()) == 1000
    # Client and fake share one loop: the fake's part of the wall time must be the small one.
    assert dc.busy_seconds < took[0] / 2


def _params(content: str) -> discord.http.MultipartParameters:
    return discord.http.handle_message_parameters(content=content)
