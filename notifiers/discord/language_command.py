"""/language: the language of a channel's announcements (of one game, or all), or its
server's again."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.core.domain import Platform
from bot.core.language import BY_TAG, LANGUAGES
from bot.store import repository
from notifiers.discord.format import LANGUAGE_OPTION, inert, name_of
from notifiers.discord.interactions import (
    CommandContext,
    CommandRefused,
    announce_channel,
    known_game,
    may_change_subscriptions,
    record_server_language,
    say,
)
from notifiers.discord.languages import answer_words, command_text

# The /language choice that makes a subscription follow its server's language again.
SERVER_LANGUAGE = "server"


def language_choices() -> list[app_commands.Choice[str]]:
    """The /language choices: the server's language, then every language by its own name."""
    return [
        app_commands.Choice(
            name=command_text("choice", "The server's language"), value=SERVER_LANGUAGE
        ),
        *(app_commands.Choice(name=language.name, value=language.tag) for language in LANGUAGES),
    ]


class LanguageCommand:
    """The /language command, sharing the commands' context."""

    def __init__(self, ctx: CommandContext) -> None:
        self.ctx = ctx

    @app_commands.rename(
        language=command_text("option name", "language"),
        game=command_text("option name", "game"),
        channel=command_text("option name", "channel"),
    )
    @app_commands.describe(
        language=command_text("option description", "The language its announcements are in"),
        game=command_text(
            "option description", "Only this game's announcements (all when left out)"
        ),
        channel=command_text("option description", "The channel (this channel when left out)"),
    )
    @app_commands.choices(language=language_choices())
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(may_change_subscriptions)
    async def language(
        self,
        interaction: discord.Interaction,
        language: str,
        game: str | None = None,
        channel: discord.TextChannel | None = None,
    ) -> None:
        """Sets the language of a channel's announcements (of one game, or all of them)."""
        w = answer_words(interaction)
        chosen = BY_TAG.get(language)
        if chosen is None and language != SERVER_LANGUAGE:
            raise CommandRefused(w._("Pick a language from the list."))
        only = known_game(self.ctx.catalog, game, w) if game else None
        target = announce_channel(interaction, channel, w)
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.ctx.sessions.begin() as session:
            changed = await repository.set_option(
                session,
                Platform.DISCORD,
                str(target.id),
                LANGUAGE_OPTION,
                chosen.tag if chosen is not None else None,
                games=[only.id] if only is not None else None,
                now=self.ctx.clock(),
            )
        await record_server_language(interaction, target.id, self.ctx)
        if not changed:
            text = w._(
                "%(channel)s gets no announcements to set a language for: add some with "
                "/subscribe first.",
                channel=target.mention,
            )
            await say(interaction, text, w, self.ctx)
            return
        games = w.pgettext("list separator", ", ").join(
            inert(name_of(self.ctx.catalog.games[game_id], w))
            if game_id in self.ctx.catalog.games
            else inert(game_id)
            for game_id in changed
        )
        if chosen is not None:
            text = w._(
                "Announcements in %(channel)s (%(games)s) will be in %(language)s.",
                channel=target.mention,
                games=games,
                language=chosen.name,
            )
        else:
            text = w._(
                "Announcements in %(channel)s (%(games)s) will be in the server's language.",
                channel=target.mention,
                games=games,
            )
        await say(interaction, text, w, self.ctx)
