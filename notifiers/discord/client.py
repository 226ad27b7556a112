"""The discord.py client: minimal intents and caches, the command tree, and guild events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.domain import Platform
from bot.core.language import negotiate
from bot.store import repository
from notifiers.discord.handlers import DiscordCommands
from notifiers.discord.interactions import CommandContext, something_went_wrong, user_message
from notifiers.discord.languages import CatalogTranslator, answer_words
from notifiers.discord.reports import DiscordReports, ModerationButton

log = logging.getLogger(__name__)


def minimal_intents() -> discord.Intents:
    """Only GUILDS: guilds, roles and channels, which the permission checks need.

    Slash commands arrive whatever the intents; members, presences and message content
    (the privileged ones) and messages are neither needed nor cached.
    """
    intents = discord.Intents.none()
    intents.guilds = True
    return intents


# discord.py looks for idle rate-limit buckets only from this many on (its own threshold).
BUCKETS_BEFORE_SWEEP = 256
# A bucket unused this long, its window over, is dropped (discord.py waits five minutes).
BUCKET_IDLE_SECONDS = 60.0


class BucketSweep:
    """discord.py's sweep of rate-limit buckets: linear, and of every bucket that knows nothing.

    discord.py keeps a bucket per channel it posts in and drops those idle for five minutes,
    but it looks for them by scanning every bucket each time it makes a new one (once it
    holds 256). A fan-out to n channels makes n buckets within those minutes, so it scans
    n²/2 of them: at 5,000 Discord channels that was a third of codecast's CPU, at 100,000
    hours. This sweep runs only once the buckets doubled since the last one: O(n) work in
    all.

    And it drops a bucket idle for a minute rather than five, when it holds no limit:
    nothing in flight or waiting, and its window over (or never told one). Such a bucket is
    what discord.py makes for a channel it has never posted in (the window's count is reset
    at the next request either way), so dropping it loses nothing, while five minutes of
    idle buckets are thousands of objects after a fan-out. The minute keeps a bucket that a
    request holds but has not entered yet (waiting for the global limit) from being dropped
    under it.
    """

    def __init__(self, http: discord.http.HTTPClient) -> None:
        self._http = http
        self._next = BUCKETS_BEFORE_SWEEP
        self.sweeps = 0

    def __call__(self) -> None:
        buckets = self._http._buckets
        if len(buckets) < self._next:
            return
        for key in [key for key, bucket in buckets.items() if holds_nothing(bucket)]:
            del buckets[key]
        self.sweeps += 1
        self._next = max(BUCKETS_BEFORE_SWEEP, 2 * len(buckets))

    @classmethod
    def install(cls, http: discord.http.HTTPClient) -> BucketSweep:
        sweep = cls(http)
        # An instance attribute in place of the method: discord.py calls it from
        # get_ratelimit as self._try_clear_expired_ratelimits().
        setattr(http, "_try_clear_expired_ratelimits", sweep)  # noqa: B010
        return sweep


def holds_nothing(bucket: discord.http.Ratelimit) -> bool:
    """A bucket idle for a while, with no request in it and no window running: a new one
    would be the same."""
    return (
        bucket._loop.time() - bucket._last_request >= BUCKET_IDLE_SECONDS
        and bucket.outgoing == 0
        and not bucket._pending_requests
        and not bucket._sleeping.locked()
        and (bucket.expires is None or bucket.is_expired())
    )


class CodecastTree(app_commands.CommandTree["CodecastClient"]):
    """The command tree, with the one error handler of the Discord bot."""

    async def on_error(
        self, interaction: discord.Interaction[CodecastClient], error: app_commands.AppCommandError
    ) -> None:
        words = answer_words(interaction)
        message = user_message(error, words)
        command = interaction.command.qualified_name if interaction.command else "?"
        if message is None:
            cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
            log.error(
                "discord /%s failed (guild %s, channel %s, user %s)",
                command,
                interaction.guild_id,
                interaction.channel_id,
                interaction.user.id,
                exc_info=cause,
            )
            message = something_went_wrong(words)
        else:
            log.info(
                "discord /%s refused (guild %s, user %s): %s",
                command,
                interaction.guild_id,
                interaction.user.id,
                type(error).__name__,
            )
        try:
            if interaction.response.is_done():
                await interaction.followup.send(message, ephemeral=True)
            else:
                await interaction.response.send_message(message, ephemeral=True)
        except (discord.HTTPException, aiohttp.ClientError, RuntimeError) as exc:
            # The token expired, Discord is down or the client is closing: nobody to tell.
            log.warning("discord /%s: could not answer the error: %r", command, exc)


class CodecastClient(discord.AutoShardedClient):
    """An AutoShardedClient that keeps next to nothing in memory and ends gone guilds."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        shard_count: int | None = None,
        shard_ids: Sequence[int] | None = None,
        max_ratelimit_timeout: float | None = None,
        **options: Any,
    ) -> None:
        if shard_ids is not None:
            options["shard_ids"] = list(shard_ids)
        super().__init__(
            intents=minimal_intents(),
            member_cache_flags=discord.MemberCacheFlags.none(),
            max_messages=None,
            chunk_guilds_at_startup=False,
            shard_count=shard_count,
            max_ratelimit_timeout=max_ratelimit_timeout,
            **options,
        )
        self.bucket_sweep = BucketSweep.install(self.http)
        self.sessions = sessions
        self.clock = clock
        self.tree = CodecastTree(self)
        self.context: CommandContext | None = None
        self.gateway_ready = asyncio.Event()
        self.reports: DiscordReports | None = None
        self._connected_shards: set[int] = set()

    def install_commands(self, ctx: CommandContext) -> None:
        self.context = ctx
        for command in DiscordCommands(ctx).commands():
            self.tree.add_command(command)
        # Moderators' buttons, found by their custom ids (also on posts from before a restart).
        self.reports = ctx.reports
        if ctx.reports is not None:
            self.add_dynamic_items(ModerationButton)

    async def sync_commands(self, test_guild_id: int | None = None) -> None:
        """Register the commands, with their names and descriptions in every language
        codecast speaks: globally, and at once in a test guild when one is set."""
        await self.tree.set_translator(CatalogTranslator())
        synced = await self.tree.sync()
        if self.context is not None:
            # Answers mention the commands by id: Discord shows them in each reader's language.
            self.context.command_ids.update({c.name: c.id for c in synced})
        log.info("discord: %d global commands synced", len(synced))
        if test_guild_id is not None:
            guild = discord.Object(id=test_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("discord: %d commands synced to test guild %s", len(synced), test_guild_id)

    async def launch_shards(self) -> None:
        # discord.py asks `GET /gateway/bot` for the gateway URL only when it also chooses the
        # shard count; with a configured count it would connect to Discord's fixed gateway
        # and bypass CODECAST_DISCORD_API_URL. So the URL is always asked for here.
        if self.is_closed():
            return
        recommended, url, _limits = await self.http.get_bot_gateway()
        if self.shard_count is None:
            self.shard_count = recommended
        self._connection.shard_count = self.shard_count
        shard_ids = self.shard_ids or list(range(self.shard_count))
        self._connection.shard_ids = shard_ids
        gateway = yarl.URL(url)
        for shard_id in shard_ids:
            await self.launch_shard(gateway, shard_id, initial=shard_id == shard_ids[0])

    # -- events ------------------------------------------------------------------------

    async def on_shard_connect(self, shard_id: int) -> None:
        self._connected_shards.add(shard_id)
        expected = self.shard_ids or range(self.shard_count or 1)
        if self._connected_shards.issuperset(expected):
            self.gateway_ready.set()

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Kicked, banned or the server deleted: its channels get nothing more."""
        async with self.sessions.begin() as session:
            ended = await repository.deactivate_space(
                session,
                Platform.DISCORD,
                str(guild.id),
                reason="bot removed from the server",
                now=self.clock(),
            )
        log.info("discord: removed from guild %s; %d subscriptions ended", guild.id, ended)

    async def on_guild_update(self, before: discord.Guild, after: discord.Guild) -> None:
        """A server changed its language: its channels' announcements follow (the cache has
        it at once; the record is for processes without this server in their cache)."""
        if before.preferred_locale == after.preferred_locale:
            return
        tag = negotiate(str(after.preferred_locale)).tag
        async with self.sessions.begin() as session:
            channels = await repository.space_chats(session, Platform.DISCORD, str(after.id))
            for channel_id in channels:
                await repository.set_chat_language(
                    session, Platform.DISCORD, channel_id, tag, chosen=False, now=self.clock()
                )
        log.info("discord: guild %s speaks %s now (%d channels)", after.id, tag, len(channels))

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        async with self.sessions.begin() as session:
            ended = await repository.deactivate_chat(
                session,
                Platform.DISCORD,
                str(channel.id),
                reason="channel deleted",
                now=self.clock(),
            )
            await repository.end_chat_boards(
                session,
                Platform.DISCORD,
                str(channel.id),
                reason="channel deleted",
                now=self.clock(),
            )
        if ended:
            log.info("discord: channel %s deleted; %d subscriptions ended", channel.id, ended)
