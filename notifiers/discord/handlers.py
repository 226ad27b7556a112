"""The slash commands (/codes, /subscribe, /unsubscribe, /subscriptions, /redeem; /board
and /language in modules of their own), each answering in the user's language."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.core.catalog import Catalog
from bot.core.domain import Game, Platform
from bot.core.language import Words
from bot.core.redeem import NotACode, redeem_targets
from bot.store import repository
from bot.store.repository.announcements import REMIND_OPTION
from notifiers.addresses import BadTarget, parse_address, subscribe_address
from notifiers.discord.board_command import BoardCommand
from notifiers.discord.format import (
    LANGUAGE_OPTION,
    ROLE_OPTION,
    RedeemButton,
    SubscriptionLine,
    codes_messages,
    inert,
    name_of,
    not_a_code_text,
    redeem_target_buttons,
    redeem_text,
    role_to_ping,
    subscriptions_text,
)
from notifiers.discord.interactions import (
    NONE,
    CommandContext,
    CommandRefused,
    NotServerManager,
    announce_channel,
    known_game,
    may_change_subscriptions,
    may_choose_role,
    permission_names,
    record_server_language,
    require_permissions,
    role_ping_warning,
    say,
)
from notifiers.discord.language_command import LanguageCommand
from notifiers.discord.languages import answer_words, chosen_language, command_text

log = logging.getLogger(__name__)

# Discord shows at most 25 choices for an option; a larger catalog gets autocomplete.
MAX_CHOICES = 25

F = TypeVar("F", bound=Callable[..., Any])


# --- options ------------------------------------------------------------------------------


def game_option(catalog: Catalog) -> Callable[[F], F]:
    """Choices for the `game` option, or autocomplete when the catalog has too many games;
    either way each user sees the games' names in their language."""
    games = sorted(catalog.games.values(), key=lambda g: g.name.lower())
    if len(games) <= MAX_CHOICES:
        return app_commands.choices(
            game=[
                app_commands.Choice(name=command_text("game", g.name), value=g.id) for g in games
            ]
        )

    async def complete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        w = answer_words(interaction)
        needle = current.lower()
        found = [
            (g, name_of(g, w))
            for g in games
            if needle in g.name.lower()
            or needle in g.id.lower()
            or needle in name_of(g, w).lower()
        ]
        return [app_commands.Choice(name=name, value=g.id) for g, name in found[:MAX_CHOICES]]

    return app_commands.autocomplete(game=complete)


def link_view(buttons: Sequence[RedeemButton]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for button in buttons:
        view.add_item(discord.ui.Button(label=button.label, url=button.url))
    return view


# --- the commands ----------------------------------------------------------------------


class DiscordCommands:
    """Every slash command of the bot, sharing the catalog and the database.

    Each command is a method; `commands()` makes discord.py's command objects from the bound
    methods (discord.py reads the options from their signatures and decorators). Names,
    descriptions and options are `command_text`s, which the tree's translator puts in every
    language codecast speaks; every answer is in the user's language (`answer_words`).
    """

    def __init__(self, ctx: CommandContext) -> None:
        self.ctx = ctx
        self.catalog = ctx.catalog

    def commands(self) -> list[app_commands.Command[Any, Any, Any]]:
        def with_games(command: Any) -> Any:
            # A fresh decorator each time: applied to a Command, discord.py consumes its choices.
            return game_option(self.catalog)(command)

        def command(
            name: app_commands.locale_str, description: app_commands.locale_str, callback: Any
        ) -> Any:
            return app_commands.Command(name=name, description=description, callback=callback)

        return [
            with_games(
                command(
                    command_text("command name", "codes"),
                    command_text(
                        "command description", "Active redemption codes with their rewards"
                    ),
                    self.codes,
                )
            ),
            with_games(
                command(
                    command_text("command name", "subscribe"),
                    command_text(
                        "command description", "Announce new codes of a game in a channel"
                    ),
                    self.subscribe,
                )
            ),
            with_games(
                command(
                    command_text("command name", "unsubscribe"),
                    command_text("command description", "Stop announcing a game in a channel"),
                    self.unsubscribe,
                )
            ),
            command(
                command_text("command name", "subscriptions"),
                command_text(
                    "command description", "Which channels of this server get which games"
                ),
                self.subscriptions,
            ),
            with_games(
                command(
                    command_text("command name", "redeem"),
                    command_text(
                        "command description", "The redeem link for a code or a gift link"
                    ),
                    self.redeem,
                )
            ),
            with_games(
                command(
                    command_text("command name", "board"),
                    command_text(
                        "command description",
                        "Post a message with a game's codes that codecast keeps up to date",
                    ),
                    BoardCommand(self.ctx).board,
                )
            ),
            *(self.ctx.reports.commands(with_games) if self.ctx.reports else ()),
            with_games(
                command(
                    command_text("command name", "language"),
                    command_text(
                        "command description", "The language of a channel's announcements"
                    ),
                    LanguageCommand(self.ctx).language,
                )
            ),
        ]

    @app_commands.rename(game=command_text("option name", "game"))
    @app_commands.describe(
        game=command_text("option description", "Only this game's codes (all games when left out)")
    )
    async def codes(self, interaction: discord.Interaction, game: str | None = None) -> None:
        w = answer_words(interaction)
        games = [known_game(self.catalog, game, w)] if game else list(self.catalog.games.values())
        # The database may be slow under load; Discord's 3-second deadline is not.
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.ctx.sessions() as session:
            found = [(g, await repository.current_codes(session, g.id)) for g in games]
        for embeds in codes_messages(found, source_names=self.ctx.source_names, words=w):
            await interaction.followup.send(embeds=embeds, ephemeral=True)

    @app_commands.rename(
        game=command_text("option name", "game"),
        channel=command_text("option name", "channel"),
        role=command_text("option name", "role"),
        remind=command_text("option name", "remind"),
        webhook=command_text("option name", "webhook"),
    )
    @app_commands.describe(
        game=command_text("option description", "The game whose new codes are announced"),
        channel=command_text(
            "option description", "Where to announce (this channel when left out)"
        ),
        role=command_text("option description", "A role to mention with each announcement"),
        remind=command_text(
            "option description", "Also a reminder when codes expire within 24 hours"
        ),
        webhook=command_text(
            "option description",
            "Post through this Discord webhook URL instead (Manage Server; no bot needed)",
        ),
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
        w = answer_words(interaction)
        chosen = known_game(self.catalog, game, w)
        if webhook is not None:
            await self._subscribe_webhook(interaction, chosen, webhook, remind=remind, words=w)
            return
        target = announce_channel(interaction, channel, w)
        if role is not None and role.is_default():
            raise CommandRefused(
                w._("Pick a role to mention; @everyone cannot be pinged by codecast.")
            )
        if role is not None and not may_choose_role(interaction, role):
            names = permission_names(w)
            raise CommandRefused(
                w._(
                    "You cannot have me ping %(role)s: it is not mentionable, and you may not "
                    "mention it yourself in %(channel)s (**%(mention_everyone)s**). Pick a "
                    "mentionable role, or ask someone with **%(manage_server)s**.",
                    role=role.mention,
                    channel=target.mention,
                    mention_everyone=names["mention_everyone"],
                    manage_server=names["manage_guild"],
                )
            )
        perms = require_permissions(
            interaction,
            target,
            w,
            self.ctx,
            lambda missing: w._(
                "I cannot announce in %(channel)s: I am missing **%(permissions)s** there. "
                "Give codecast these permissions in the channel settings, then run "
                "/subscribe again.",
                channel=target.mention,
                permissions=missing,
            ),
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.ctx.sessions.begin() as session:
            # A channel keeps the language chosen for its other announcements.
            kept = [
                chosen_language(s.options)
                for s in await repository.chat_subscriptions(
                    session, Platform.DISCORD, str(target.id)
                )
            ]
            language = next((language for language in kept if language is not None), None)
            options: dict[str, Any] = {}
            if role is not None:
                options[ROLE_OPTION] = str(role.id)
            if remind:
                options[REMIND_OPTION] = True
            if language is not None:
                options[LANGUAGE_OPTION] = language.tag
            await repository.subscribe(
                session,
                Platform.DISCORD,
                str(target.id),
                chosen.id,
                now=self.ctx.clock(),
                space_id=str(target.guild.id),
                options=options,
                # The server's members, from the gateway: who hears first goes by it.
                audience=target.guild.member_count,
            )
        await record_server_language(interaction, target.id, self.ctx)
        name = inert(name_of(chosen, w))
        if role is not None:
            text = w._(
                "New **%(game)s** codes will be announced in %(channel)s, mentioning %(role)s.",
                game=name,
                channel=target.mention,
                role=role.mention,
            )
        else:
            text = w._(
                "New **%(game)s** codes will be announced in %(channel)s.",
                game=name,
                channel=target.mention,
            )
        if remind:
            text += "\n" + w._("Codes about to expire (within 24 hours) are announced once more.")
        warning = role_ping_warning(role, perms, w) if role is not None else None
        if warning:
            text += "\n" + warning
        await say(interaction, text, w, self.ctx)

    async def _subscribe_webhook(
        self,
        interaction: discord.Interaction,
        game: Game,
        url: str,
        *,
        remind: bool,
        words: Words,
    ) -> None:
        """A Discord webhook as the target: the server need not have the bot in the channel.
        The URL is a secret: it is never repeated back, only the webhook's id."""
        w = words
        if not interaction.permissions.manage_guild:
            raise NotServerManager()
        try:
            address = parse_address(url, Platform.DISCORD_WEBHOOK)
        except BadTarget:
            raise CommandRefused(
                w._(
                    "That is not a Discord webhook URL (Server Settings → Integrations → "
                    "Webhooks → Copy Webhook URL)."
                )
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
                # The server's members, from the gateway: who hears first goes by it.
                audience=interaction.guild.member_count if interaction.guild else None,
            )
        text = w._(
            "New **%(game)s** codes will be posted through %(webhook)s.",
            game=inert(name_of(game, w)),
            webhook=inert(address.label),
        )
        await say(interaction, text, w, self.ctx)

    @app_commands.rename(
        game=command_text("option name", "game"), channel=command_text("option name", "channel")
    )
    @app_commands.describe(
        game=command_text("option description", "The game to stop announcing"),
        channel=command_text("option description", "The channel (this channel when left out)"),
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
        w = answer_words(interaction)
        chosen = known_game(self.catalog, game, w)
        target = announce_channel(interaction, channel, w)
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.ctx.sessions.begin() as session:
            ended = await repository.unsubscribe(
                session, Platform.DISCORD, str(target.id), chosen.id, now=self.ctx.clock()
            )
        name = inert(name_of(chosen, w))
        if ended:
            text = w._(
                "%(channel)s will no longer get **%(game)s** codes.",
                channel=target.mention,
                game=name,
            )
        else:
            text = w._(
                "%(channel)s was not subscribed to **%(game)s** codes.",
                channel=target.mention,
                game=name,
            )
        await say(interaction, text, w, self.ctx)

    @app_commands.guild_only()
    async def subscriptions(self, interaction: discord.Interaction) -> None:
        w = answer_words(interaction)
        guild_id = interaction.guild_id
        assert guild_id is not None  # guild_only
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.ctx.sessions() as session:
            found = await repository.space_subscriptions(session, Platform.DISCORD, str(guild_id))
            hooks = await repository.space_subscriptions(
                session, Platform.DISCORD_WEBHOOK, str(guild_id)
            )
            labels = {
                s.chat_id: target.label
                for s in hooks
                if (target := await repository.get_target(session, s.chat_id)) is not None
            }

        def name(game: str) -> str:
            return self.catalog.games[game].name if game in self.catalog.games else game

        lines = []
        for s in found:
            language = chosen_language(s.options)
            lines.append(
                SubscriptionLine(
                    s.chat_id,
                    name(s.game),
                    role_to_ping(s.options),
                    language.name if language is not None else None,
                    remind=s.options.get(REMIND_OPTION) is True,
                )
            )
        # Webhook targets of the server, by their labels (never their URLs).
        lines += [
            SubscriptionLine(
                s.chat_id,
                name(s.game),
                None,
                label=labels.get(s.chat_id, "webhook"),
                remind=s.options.get(REMIND_OPTION) is True,
            )
            for s in hooks
        ]
        for text in subscriptions_text(lines, w):
            await say(interaction, text, w, self.ctx)

    @app_commands.rename(
        code=command_text("option name", "code"), game=command_text("option name", "game")
    )
    @app_commands.describe(
        code=command_text("option description", "A code, or a gift link with ?code= in it"),
        game=command_text("option description", "The game (guessed when left out)"),
    )
    async def redeem(
        self, interaction: discord.Interaction, code: str, game: str | None = None
    ) -> None:
        w = answer_words(interaction)
        if game is not None:
            known_game(self.catalog, game, w)
        try:
            targets = redeem_targets(code, list(self.catalog.games.values()), game_id=game)
        except NotACode as exc:
            raise CommandRefused(not_a_code_text(exc, w)) from None
        await interaction.response.send_message(
            redeem_text(targets, w),
            view=link_view(redeem_target_buttons(targets, w)),
            ephemeral=True,
            allowed_mentions=NONE,
        )
