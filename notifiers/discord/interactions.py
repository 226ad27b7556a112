"""What every slash command shares: its context, who may use it, what the bot may do in a
channel, how a user is answered, and what they are told when a command cannot do its job —
all in the user's language."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import discord
from discord import app_commands
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.catalog import Catalog
from bot.core.domain import Game, Platform
from bot.core.language import Words, english, negotiate
from bot.store import repository
from notifiers.discord.format import inert, with_commands
from notifiers.discord.reports import DiscordReports

# What the bot needs in a channel to announce there.
REQUIRED_CHANNEL_PERMISSIONS = ("view_channel", "send_messages", "embed_links")


@dataclass(frozen=True)
class CommandContext:
    """What the commands need from the rest of codecast."""

    catalog: Catalog
    sessions: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime]
    source_names: Mapping[str, str] = field(default_factory=dict)
    # The commands' ids once synced (name → id), for mentions that run them with a tap.
    command_ids: dict[str, int] = field(default_factory=dict)
    # /submit and /moderation, when players' reports are taken.
    reports: DiscordReports | None = None


# --- permissions -----------------------------------------------------------------------


def permission_names(words: Words) -> dict[str, str]:
    """Permissions by the names Discord's app shows them under, in the reader's language."""
    return {
        "view_channel": words.pgettext("discord permission", "View Channel"),
        "send_messages": words.pgettext("discord permission", "Send Messages"),
        "embed_links": words.pgettext("discord permission", "Embed Links"),
        "manage_guild": words.pgettext("discord permission", "Manage Server"),
        "manage_channels": words.pgettext("discord permission", "Manage Channels"),
        "mention_everyone": words.pgettext(
            "discord permission", "Mention @everyone, @here and All Roles"
        ),
        "pin_messages": words.pgettext("discord permission", "Pin Messages"),
    }


def missing_permissions(perms: discord.Permissions, words: Words | None = None) -> list[str]:
    """The permissions the bot lacks to announce in a channel, by their names in Discord."""
    names = permission_names(words or english())
    return [names[name] for name in REQUIRED_CHANNEL_PERMISSIONS if not getattr(perms, name)]


def bot_permissions_in(
    interaction: discord.Interaction, channel: discord.abc.GuildChannel
) -> discord.Permissions | None:
    """The bot's permissions in `channel`, from the guild cache; None when unknown."""
    guild = interaction.guild
    me = guild.me if guild is not None else None
    if me is not None:
        return channel.permissions_for(me)
    if interaction.channel_id == channel.id:
        # Discord computes them for the channel the command was used in.
        return interaction.app_permissions
    return None


def require_permissions(
    interaction: discord.Interaction,
    channel: discord.abc.GuildChannel,
    words: Words,
    ctx: CommandContext,
    missing_text: Callable[[str], str],
) -> discord.Permissions:
    """The bot's permissions in `channel` when it may post there; else the command is refused:
    to try again soon when they are not known yet, or with `missing_text` (the command's own
    sentence, given the names of the missing permissions) when some are missing."""
    perms = bot_permissions_in(interaction, channel)
    if perms is None:
        raise CommandRefused(
            words._(
                "I cannot check my permissions in %(channel)s yet; try again in a minute.",
                channel=channel.mention,
            )
        )
    missing = missing_permissions(perms, words)
    if missing:
        names = words.pgettext("list separator", ", ").join(missing)
        raise CommandRefused(with_commands(missing_text(names), words, ctx.command_ids))
    return perms


def role_ping_warning(
    role: discord.Role, perms: discord.Permissions, words: Words | None = None
) -> str | None:
    if role.mentionable or perms.mention_everyone:
        return None
    w = words or english()
    return w._(
        "Note: %(role)s is not mentionable and I lack **%(permission)s** there, so "
        "announcements will name the role without pinging it.",
        role=role.mention,
        permission=permission_names(w)["mention_everyone"],
    )


# --- checks -------------------------------------------------------------------------------


def member_permissions_in_target(interaction: discord.Interaction) -> discord.Permissions:
    """The invoking member's permissions in the channel the command is about: the `channel`
    option (it arrives resolved with them), else the channel the command came from."""
    named = getattr(interaction.namespace, "channel", None)
    here = named.permissions if isinstance(named, app_commands.AppCommandChannel) else None
    return here if here is not None else interaction.permissions


def may_change_subscriptions(interaction: discord.Interaction) -> bool:
    """Who may speak for a channel: members with Manage Server, or with Manage Channels in
    the channel the command is about (the `channel` option, else the one it came from).

    Discord shows the commands to Manage Server by default (a server can open them to more
    roles in its Integrations settings); this check holds whatever a server configured.
    """
    if interaction.permissions.manage_guild:
        return True
    if member_permissions_in_target(interaction).manage_channels:
        return True
    raise NotChannelManager()


def may_choose_role(interaction: discord.Interaction, role: discord.Role) -> bool:
    """Whether the member may have codecast ping `role` with each announcement.

    codecast pings with its own rights, which may exceed the member's: someone allowed in
    through Manage Channels alone may choose only a role anyone can mention, or one they
    could mention themselves there. Manage Server speaks for the whole server.
    """
    if interaction.permissions.manage_guild or role.mentionable:
        return True
    return member_permissions_in_target(interaction).mention_everyone


def announce_channel(
    interaction: discord.Interaction, channel: discord.TextChannel | None, words: Words
) -> discord.TextChannel:
    """The channel a subscription is for: the one named, else the one the command came from."""
    if channel is not None:
        return channel
    here = interaction.channel
    if isinstance(here, discord.TextChannel):
        return here
    raise CommandRefused(
        words._(
            "Announcements go to text channels; name one with the `%(option)s` option.",
            option=words.pgettext("option name", "channel"),
        )
    )


# --- what a user is told when a command cannot do its job --------------------------------


class CommandRefused(app_commands.AppCommandError):
    """The command cannot do what was asked; the message says why, for the user."""


class NotChannelManager(app_commands.CheckFailure):
    """The member may not change the subscriptions of that channel."""


class NotServerManager(app_commands.CheckFailure):
    """The command is for members with Manage Server only."""


def may_manage_server(interaction: discord.Interaction) -> bool:
    """Boards speak for the whole server (and are pinned): Manage Server only."""
    if interaction.permissions.manage_guild:
        return True
    raise NotServerManager()


class UnknownGame(CommandRefused):
    def __init__(self, game_id: str, words: Words) -> None:
        super().__init__(
            words._(
                "I do not know the game `%(game)s`. Pick one from the list.",
                game=inert(game_id)[:40],
            )
        )


def known_game(catalog: Catalog, game_id: str, words: Words) -> Game:
    game = catalog.games.get(game_id)
    if game is None:
        raise UnknownGame(game_id, words)
    return game


def user_message(error: app_commands.AppCommandError, words: Words | None = None) -> str | None:
    """The short answer for an error a user caused; None for our own failures."""
    w = words or english()
    match error:
        case CommandRefused():
            return str(error)
        case NotServerManager():
            return w._(
                "Only members with the **%(manage_server)s** permission can do this.",
                manage_server=permission_names(w)["manage_guild"],
            )
        case app_commands.MissingPermissions() | NotChannelManager():
            names = permission_names(w)
            return w._(
                "Only members with the **%(manage_server)s** permission, or "
                "**%(manage_channels)s** in that channel, can change its subscriptions.",
                manage_server=names["manage_guild"],
                manage_channels=names["manage_channels"],
            )
        case app_commands.NoPrivateMessage():
            return w._("This command works in servers only.")
        case app_commands.TransformerError():
            return w._("I cannot see that channel or role. Check my permissions and try again.")
        case app_commands.CommandOnCooldown():
            seconds = max(1, round(error.retry_after))
            return w.ngettext(
                "Slow down: try again in %(count)s second.",
                "Slow down: try again in %(count)s seconds.",
                seconds,
            )
        case app_commands.CheckFailure():
            return w._("You cannot use this command here.")
    return None


def something_went_wrong(words: Words | None = None) -> str:
    return (words or english())._("Something went wrong on my side. Please try again in a moment.")


# --- answering ---------------------------------------------------------------------------

NONE = discord.AllowedMentions.none()


async def say(
    interaction: discord.Interaction, text: str, words: Words, ctx: CommandContext
) -> None:
    """A follow-up only the user sees, its /commands shown as the user can run them."""
    await interaction.followup.send(
        with_commands(text, words, ctx.command_ids), ephemeral=True, allowed_mentions=NONE
    )


async def record_server_language(
    interaction: discord.Interaction, channel_id: int, ctx: CommandContext
) -> None:
    """The server's language as Discord gave it now: announcements fall back to it when the
    server is in no cache of this process."""
    locale = interaction.guild_locale
    if locale is None:
        return
    async with ctx.sessions.begin() as session:
        await repository.set_chat_language(
            session,
            Platform.DISCORD,
            str(channel_id),
            negotiate(str(locale)).tag,
            chosen=False,
            now=ctx.clock(),
        )
