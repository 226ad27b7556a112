"""/board: a message with a game's codes that codecast keeps up to date, posted and pinned
(notifiers/discord/boards.py builds and posts it)."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.core.domain import Platform
from bot.core.language import words
from bot.store import repository
from notifiers.discord.boards import board_payload, delete_board, post_board
from notifiers.discord.boards import view_of as board_view
from notifiers.discord.format import inert, name_of
from notifiers.discord.interactions import (
    CommandContext,
    announce_channel,
    known_game,
    may_manage_server,
    permission_names,
    require_permissions,
    say,
)
from notifiers.discord.languages import answer_words, command_text


class BoardCommand:
    """The /board command, sharing the commands' context."""

    def __init__(self, ctx: CommandContext) -> None:
        self.ctx = ctx

    @app_commands.rename(
        game=command_text("option name", "game"), channel=command_text("option name", "channel")
    )
    @app_commands.describe(
        game=command_text("option description", "The game whose codes the board shows"),
        channel=command_text(
            "option description", "Where to post it (this channel when left out)"
        ),
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
        w = answer_words(interaction)
        chosen = known_game(self.ctx.catalog, game, w)
        target = announce_channel(interaction, channel, w)
        require_permissions(
            interaction,
            target,
            w,
            self.ctx,
            lambda missing: w._(
                "I cannot post in %(channel)s: I am missing **%(permissions)s** there. Give "
                "codecast these permissions in the channel settings, then run /board again.",
                channel=target.mention,
                permissions=missing,
            ),
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = self.ctx.clock()
        async with self.ctx.sessions() as session:
            codes = await repository.board_codes(session, chosen.id, now)
        # The board speaks its server's language, as the keeper's edits will.
        spoken = words(str(target.guild.preferred_locale))
        payload = board_payload(chosen, codes, self.ctx.source_names, spoken)
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
        name = inert(name_of(chosen, w))
        if pinned:
            text = w._(
                "The **%(game)s** board is in %(channel)s and pinned.",
                game=name,
                channel=target.mention,
            )
        else:
            text = w._(
                "The **%(game)s** board is in %(channel)s. I could not pin it: give me "
                "**%(pin_messages)s** there, or pin it yourself.",
                game=name,
                channel=target.mention,
                pin_messages=permission_names(w)["pin_messages"],
            )
        await say(interaction, text, w, self.ctx)
