"""Discord wired from its settings: the client, its commands, sender and expiry editor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.catalog import Catalog
from notifiers.boards import BoardKeeper
from notifiers.discord.boards import DiscordBoards
from notifiers.discord.client import CodecastClient
from notifiers.discord.interactions import CommandContext
from notifiers.discord.reports import DiscordBoard, DiscordReports
from notifiers.discord.sender import DiscordLimits, DiscordSender
from notifiers.discord.service import DiscordService
from notifiers.discord.settings import DiscordSettings
from notifiers.expiry import EXPIRY_CHECK_SECONDS, ExpiryWatcher
from notifiers.moderation import MODERATION_CHECK_SECONDS, ModerationWatcher
from notifiers.registry import PlatformParts, build_bot
from notifiers.reports import Announced, ReportDesk, ReportRules


def build_service(
    settings: DiscordSettings,
    catalog: Catalog,
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    *,
    expiry_check: float = EXPIRY_CHECK_SECONDS,
    reports: ReportRules | None = None,
    moderation_check: float = MODERATION_CHECK_SECONDS,
    on_announced: Announced | None = None,
    **client_options: Any,
) -> DiscordService:
    """The Discord bot as settings describe it; `client_options` go to discord.py's client."""
    if settings.discord_token is None:
        raise ValueError("DISCORD_TOKEN is not set")
    desk = ReportDesk(
        catalog, sessions, clock=clock, rules=reports or ReportRules(), on_announced=on_announced
    )
    # The commands' ids once synced: answers mention commands by them (shown in each
    # reader's language, run with a tap).
    command_ids: dict[str, int] = {}
    context = CommandContext(
        catalog=catalog,
        sessions=sessions,
        clock=clock,
        source_names={s.id: s.label for s in catalog.sources},
        command_ids=command_ids,
        reports=DiscordReports(desk, catalog, command_ids),
    )

    def make_client() -> CodecastClient:
        client = CodecastClient(
            sessions=sessions,
            clock=clock,
            shard_count=settings.discord_shard_count,
            shard_ids=settings.discord_shard_ids,
            max_ratelimit_timeout=settings.discord_max_ratelimit_wait,
            **client_options,
        )
        client.install_commands(context)
        return client

    client = make_client()
    sender = DiscordSender(
        client,
        catalog,
        limits=DiscordLimits(
            global_per_second=settings.discord_global_rate,
            channel_messages=settings.discord_channel_messages,
            channel_window=settings.discord_channel_window,
        ),
        crosspost=settings.discord_crosspost,
    )
    channel = settings.discord_moderation_channel
    moderation = ModerationWatcher(
        desk,
        sessions,
        board=DiscordBoard(sender, catalog, str(channel)) if channel else None,
        clock=clock,
        interval=moderation_check,
    )
    return DiscordService(
        client,
        sender,
        make_client=make_client,
        token=settings.discord_token.get_secret_value(),
        api_url=settings.discord_api_url,
        test_guild_id=settings.discord_test_guild_id,
        expiry=ExpiryWatcher(sender, sessions, clock=clock, interval=expiry_check),
        boards=BoardKeeper(
            DiscordBoards(sender), catalog, sessions, clock=clock, interval=expiry_check
        ),
        moderation=moderation,
    )


def build(settings: DiscordSettings, parts: PlatformParts) -> DiscordService:
    """The registry's entry: the bot as the settings describe it."""
    return build_bot(build_service, settings, parts)
