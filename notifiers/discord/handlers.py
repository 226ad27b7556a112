"""The slash commands (/codes, /subscribe, /unsubscribe, /subscriptions, /redeem, /board)
and what a user is told when one cannot do its job."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import discord
from discord import app_commands
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.catalog import Catalog
from bot.core.domain import Game, Platform
from bot.core.redeem import NotACode, redeem_targets
from bot.store import repository
from bot.store.repository.codes import REMIND_OPTION
from notifiers.addresses import BadTarget, parse_address, subscribe_address
from notifiers.discord.boards import board_payload, delete_board, post_board
from notifiers.discord.boards import view_of as board_view
from notifiers.discord.format import (
    ROLE_OPTION,
    RedeemButton,
    SubscriptionLine,
    codes_messages,
    inert,
    not_a_code_text,
    redeem_target_buttons,
    redeem_text,
    role_to_ping,
    subscriptions_text,
)
from notifiers.discord.reports import DiscordReports

log = logging.getLogger(__name__)

# Discord shows at most 25 choices for an option; a larger catalog gets autocomplete.
MAX_CHOICES = 25

# What the bot needs in a channel to announce there; names as Discord's UI shows them.
REQUIRED_CHANNEL_PERMISSIONS: Mapping[str, str] = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
}

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class CommandContext:
    """What the commands need from the rest of codecast."""

    catalog: Catalog
    sessions: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime]
    source_names: Mapping[str, str] = field(default_factory=dict)
    # /submit and /moderation, when players' reports are taken.
    reports: DiscordReports | None = None


# --- permissions -----------------------------------------------------------------------


def missing_permissions(perms: discord.Permissions) -> list[str]:
    """The permissions the bot lacks to announce in a channel, by their names in Discord."""
    return [
        label for name, label in REQUIRED_CHANNEL_PERMISSIONS.items() if not getattr(perms, name)
    ]


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


def role_ping_warning(role: discord.Role, perms: discord.Permissions) -> str | None:
    if role.mentionable or perms.mention_everyone:
        return None
    return (
        f"Note: {role.mention} is not mentionable and I lack **Mention @everyone, @here and "
        "All Roles** there, so announcements will name the role without pinging it."
    )


# --- options and checks ------------------------------------------------------------------


def game_option(catalog: Catalog) -> Callable[[F], F]:
    """Choices for the `game` option, or autocomplete when the catalog has too many games."""
    games = sorted(catalog.games.values(), key=lambda g: g.name.lower())
    if len(games) <= MAX_CHOICES:
        return app_commands.choices(
            game=[app_commands.Choice(name=g.name, value=g.id) for g in games]
        )

    async def complete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        needle = current.lower()
        found = [g for g in games if needle in g.name.lower() or needle in g.id.lower()]
        return [app_commands.Choice(name=g.name, value=g.id) for g in found[:MAX_CHOICES]]

    return app_commands.autocomplete(game=complete)


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
    interaction: discord.Interaction, channel: discord.TextChannel | None
) -> discord.TextChannel:
    """The channel a subscription is for: the one named, else the one the command came from."""
    if channel is not None:
        return channel
    here = interaction.channel
    if isinstance(here, discord.TextChannel):
        return here
    raise CommandRefused("Announcements go to text channels; name one with the `channel` option.")


def link_view(buttons: Sequence[RedeemButton]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for button in buttons:
        view.add_item(discord.ui.Button(label=button.label, url=button.url))
    return view


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
    def __init__(self, game_id: str) -> None:
        super().__init__(
            f"I do not know the game `{inert(game_id)[:40]}`. Pick one from the list."
        )


def user_message(error: app_commands.AppCommandError) -> str | None:
    """The short answer for an error a user caused; None for our own failures."""
    match error:
        case CommandRefused():
            return str(error)
        case NotServerManager():
            return "Only members with the **Manage Server** permission can do this."
        case app_commands.MissingPermissions() | NotChannelManager():
            return (
                "Only members with the **Manage Server** permission, or **Manage Channels** "
                "in that channel, can change its subscriptions."
            )
        case app_commands.NoPrivateMessage():
            return "This command works in servers only."
        case app_commands.TransformerError():
            return "I cannot see that channel or role. Check my permissions and try again."
        case app_commands.CommandOnCooldown():
            return f"Slow down: try again in {error.retry_after:.0f}s."
        case app_commands.CheckFailure():
            return "You cannot use this command here."
    return None


# --- the commands ----------------------------------------------------------------------


class DiscordCommands:
    """Every slash command of the bot, sharing the catalog and the database.

    Each command is a method; `commands()` makes discord.py's command objects from the bound
    methods (discord.py reads the options from their signatures and decorators).
    """

    def __init__(self, ctx: CommandContext) -> None:
        self.ctx = ctx
        self.catalog = ctx.catalog

    def commands(self) -> list[app_commands.Command[Any, Any, Any]]:
        def with_games(command: Any) -> Any:
            # A fresh decorator each time: applied to a Command, discord.py consumes its choices.
            return game_option(self.catalog)(command)

        def command(name: str, description: str, callback: Any) -> Any:
            return app_commands.Command(name=name, description=description, callback=callback)

        return [
            with_games(command("codes", "Active redemption codes with their rewards", self.codes)),
            with_games(
                command("subscribe", "Announce new codes of a game in a channel", self.subscribe)
            ),
            with_games(
                command("unsubscribe", "Stop announcing a game in a channel", self.unsubscribe)
            ),
            command(
                "subscriptions",
                "Which channels of this server get which games",
                self.subscriptions,
            ),
            with_games(
                command("redeem", "The redeem link for a code or a gift link", self.redeem)
            ),
            with_games(
                command(
                    "board",
                    "Post a message with a game's codes that codecast keeps up to date",
                    self.board,
                )
            ),
            *(self.ctx.reports.commands(with_games) if self.ctx.reports else ()),
        ]

    def known_game(self, game_id: str) -> Game:
        game = self.catalog.games.get(game_id)
        if game is None:
            raise UnknownGame(game_id)
        return game

    @app_commands.describe(game="Only this game's codes (all games when left out)")
    async def codes(self, interaction: discord.Interaction, game: str | None = None) -> None:
        games = [self.known_game(game)] if game else list(self.catalog.games.values())
        # The database may be slow under load; Discord's 3-second deadline is not.
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.ctx.sessions() as session:
            found = [(g, await repository.current_codes(session, g.id)) for g in games]
        for embeds in codes_messages(found, source_names=self.ctx.source_names):
            await interaction.followup.send(embeds=embeds, ephemeral=True)

    @app_commands.describe(
        game="The game whose new codes are announced",
        channel="Where to announce (this channel when left out)",
        role="A role to mention with each announcement",
        remind="Also a reminder when codes expire within 24 hours",
        webhook="Post through this Discord webhook URL instead (Manage Server; no bot needed)",
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(may_change_subscriptions)
    async def subscribe(
        self,
        interaction: discord.Interaction,
        game: str,
        channel: discord.TextChannel | None = None,
        role: discord.Role | None = None,
        remind: bool = False,
        webhook: str | None = None,
    ) -> None:
        chosen = self.known_game(game)
        if webhook is not None:
            await self._subscribe_webhook(interaction, chosen, webhook, remind=remind)
            return
        target = announce_channel(interaction, channel)
        if role is not None and role.is_default():
            raise CommandRefused("Pick a role to mention; @everyone cannot be pinged by codecast.")
        if role is not None and not may_choose_role(interaction, role):
            raise CommandRefused(
                f"You cannot have me ping {role.mention}: it is not mentionable, and you may "
                f"not mention it yourself in {target.mention} (**Mention @everyone, @here and "
                "All Roles**). Pick a mentionable role, or ask someone with **Manage Server**."
            )
        perms = bot_permissions_in(interaction, target)
        if perms is None:
            raise CommandRefused(
                f"I cannot check my permissions in {target.mention} yet; try again in a minute."
            )
        missing = missing_permissions(perms)
        if missing:
            raise CommandRefused(
                f"I cannot announce in {target.mention}: I am missing "
                f"**{', '.join(missing)}** there. Give codecast these permissions in the "
                "channel settings, then run /subscribe again."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.ctx.sessions.begin() as session:
            await repository.subscribe(
                session,
                Platform.DISCORD,
                str(target.id),
                chosen.id,
                now=self.ctx.clock(),
                space_id=str(target.guild.id),
                options={
                    **({ROLE_OPTION: str(role.id)} if role is not None else {}),
                    **({REMIND_OPTION: True} if remind else {}),
                },
            )
        text = f"New **{inert(chosen.name)}** codes will be announced in {target.mention}"
        text += f", mentioning {role.mention}." if role is not None else "."
        if remind:
            text += "\nCodes about to expire (within 24 hours) are announced once more."
        warning = role_ping_warning(role, perms) if role is not None else None
        if warning:
            text += "\n" + warning
        await interaction.followup.send(
            text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    async def _subscribe_webhook(
        self, interaction: discord.Interaction, game: Game, url: str, *, remind: bool
    ) -> None:
        """A Discord webhook as the target: the server need not have the bot in the channel.
        The URL is a secret: it is never repeated back, only the webhook's id."""
        if not interaction.permissions.manage_guild:
            raise NotServerManager()
        try:
            address = parse_address(url, Platform.DISCORD_WEBHOOK)
        except BadTarget:
            raise CommandRefused(
                "That is not a Discord webhook URL (Server Settings → Integrations → Webhooks "
                "→ Copy Webhook URL)."
            ) from None
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.ctx.sessions.begin() as session:
            await subscribe_address(
                session,
                address,
                [game.id],
                origin=repository.ORIGIN_DISCORD,
                now=self.ctx.clock(),
                remind=remind,
                space_id=str(interaction.guild_id),
            )
        await interaction.followup.send(
            f"New **{inert(game.name)}** codes will be posted through {inert(address.label)}.",
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @app_commands.describe(
        game="The game whose codes the board shows",
        channel="Where to post it (this channel when left out)",
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(may_manage_server)
    async def board(
        self,
        interaction: discord.Interaction,
        game: str,
        channel: discord.TextChannel | None = None,
    ) -> None:
        chosen = self.known_game(game)
        target = announce_channel(interaction, channel)
        perms = bot_permissions_in(interaction, target)
        if perms is None:
            raise CommandRefused(
                f"I cannot check my permissions in {target.mention} yet; try again in a minute."
            )
        missing = missing_permissions(perms)
        if missing:
            raise CommandRefused(
                f"I cannot post in {target.mention}: I am missing **{', '.join(missing)}** "
                "there. Give codecast these permissions in the channel settings, then run "
                "/board again."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = self.ctx.clock()
        async with self.ctx.sessions() as session:
            codes = await repository.board_codes(session, chosen.id, now)
        payload = board_payload(chosen, codes, self.ctx.source_names)
        http = interaction.client.http
        message_id, pinned = await post_board(http, target.id, payload)
        async with self.ctx.sessions.begin() as session:
            _, replaced = await repository.add_board(
                session,
                Platform.DISCORD,
                str(target.id),
                chosen.id,
                message_id,
                now=now,
                space_id=str(target.guild.id),
                shown=board_view(payload).digest,
            )
        for old in replaced:
            await delete_board(http, int(old.chat_id), old.message_id)
        text = f"The **{inert(chosen.name)}** board is in {target.mention}"
        text += (
            " and pinned."
            if pinned
            else ". I could not pin it: give me **Pin Messages** there, or pin it yourself."
        )
        await interaction.followup.send(
            text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    @app_commands.describe(
        game="The game to stop announcing", channel="The channel (this channel when left out)"
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(may_change_subscriptions)
    async def unsubscribe(
        self,
        interaction: discord.Interaction,
        game: str,
        channel: discord.TextChannel | None = None,
    ) -> None:
        chosen = self.known_game(game)
        target = announce_channel(interaction, channel)
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.ctx.sessions.begin() as session:
            ended = await repository.unsubscribe(
                session, Platform.DISCORD, str(target.id), chosen.id, now=self.ctx.clock()
            )
        name = inert(chosen.name)
        text = (
            f"{target.mention} will no longer get **{name}** codes."
            if ended
            else f"{target.mention} was not subscribed to **{name}** codes."
        )
        await interaction.followup.send(
            text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    @app_commands.guild_only()
    async def subscriptions(self, interaction: discord.Interaction) -> None:
        guild_id = interaction.guild_id
        assert guild_id is not None  # guild_only
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.ctx.sessions() as session:
            found = await repository.space_subscriptions(session, Platform.DISCORD, str(guild_id))
        lines = [
            SubscriptionLine(
                s.chat_id,
                self.catalog.games[s.game].name if s.game in self.catalog.games else s.game,
                role_to_ping(s.options),
            )
            for s in found
        ]
        for text in subscriptions_text(lines):
            await interaction.followup.send(
                text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )

    @app_commands.describe(
        code="A code, or a gift link with ?code= in it", game="The game (guessed when left out)"
    )
    async def redeem(
        self, interaction: discord.Interaction, code: str, game: str | None = None
    ) -> None:
        if game is not None:
            self.known_game(game)
        try:
            targets = redeem_targets(code, list(self.catalog.games.values()), game_id=game)
        except NotACode as exc:
            raise CommandRefused(not_a_code_text(exc)) from None
        await interaction.response.send_message(
            redeem_text(targets),
            view=link_view(redeem_target_buttons(targets)),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )
