"""Reports on Discord: /submit and /moderation, moderators' buttons, and the moderation channel.

The commands hand reports and decisions to the shared `ReportDesk`; what they say is built
by `report_format` (with `report_words`), in the user's language (a moderation post in its
server's). A moderator's button is a discord.py `DynamicItem` (its custom id names the
report), so taps are understood after a restart too. Every interaction is deferred
before the database is asked. `DiscordBoard` is the `ModerationBoard` the watcher posts
through, within the sender's limits.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands

from bot.core.catalog import Catalog
from bot.core.domain import Game, Platform
from bot.core.language import Words, words
from bot.core.submission import Decider, Reporter, SubmissionView
from notifiers import report_words
from notifiers.discord import report_format as texts
from notifiers.discord.format import with_commands
from notifiers.discord.languages import answer_words, command_text
from notifiers.discord.sender import DiscordSender
from notifiers.reports import ReportDesk

log = logging.getLogger(__name__)

_CUSTOM_ID = re.compile(texts.CUSTOM_ID)
_NO_MENTIONS = discord.AllowedMentions.none()


class ModerationButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=texts.CUSTOM_ID,
):
    """Approve, Reject or Block under a report; the client's `reports` carries the tap out."""

    def __init__(self, button: texts.DecisionButton) -> None:
        super().__init__(
            discord.ui.Button(label=button.label, style=button.style, custom_id=button.custom_id)
        )
        self.button_id = button.custom_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[discord.Client],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> ModerationButton:
        label = getattr(item, "label", None) or ""
        style = getattr(item, "style", discord.ButtonStyle.secondary)
        return cls(texts.DecisionButton(label, style, match.group(0)))

    async def callback(self, interaction: discord.Interaction[discord.Client]) -> None:
        reports = getattr(interaction.client, "reports", None)
        if isinstance(reports, DiscordReports):
            await reports.tap(interaction, self.button_id)


def view_of(buttons: Sequence[texts.DecisionButton], per_row: int) -> discord.ui.View | None:
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for index, button in enumerate(buttons):
        item = ModerationButton(button)
        item.item.row = index // per_row
        view.add_item(item)
    return view


class DiscordReports:
    """The report commands and taps of the Discord bot."""

    def __init__(
        self, desk: ReportDesk, catalog: Catalog, command_ids: dict[str, int] | None = None
    ) -> None:
        self.desk = desk
        self.catalog = catalog
        self.command_ids = command_ids if command_ids is not None else {}

    def commands(self, with_games: Any) -> list[app_commands.Command[Any, Any, Any]]:
        return [
            with_games(
                app_commands.Command(
                    name=command_text("command name", "submit"),
                    description=command_text(
                        "command description",
                        "Report a code you found; it is checked before anyone gets it",
                    ),
                    callback=self.submit,
                )
            ),
            app_commands.Command(
                name=command_text("command name", "moderation"),
                description=command_text(
                    "command description", "Reports waiting for a moderator (moderators only)"
                ),
                callback=self.moderation,
            ),
        ]

    def moderator(self, user: discord.abc.User) -> bool:
        roles = tuple(str(role.id) for role in getattr(user, "roles", ()))
        return self.desk.rules.moderators.is_moderator(Platform.DISCORD, str(user.id), roles)

    @app_commands.rename(
        game=command_text("option name", "game"),
        code=command_text("option name", "code"),
        rewards=command_text("option name", "rewards"),
        credit=command_text("option name", "credit"),
    )
    @app_commands.describe(
        game=command_text("option description", "The game the code is for"),
        code=command_text("option description", "The code, or its redeem link"),
        rewards=command_text("option description", "What it gives, if you know"),
        credit=command_text("option description", "Name me when it is announced"),
    )
    async def submit(
        self,
        interaction: discord.Interaction,
        game: str,
        code: str,
        rewards: str | None = None,
        credit: bool = False,
    ) -> None:
        chosen: Game | None = self.catalog.games.get(game)
        await interaction.response.defer(ephemeral=True, thinking=True)
        user = interaction.user
        reporter = Reporter(
            platform=Platform.DISCORD,
            user_id=str(user.id),
            chat_id=str(interaction.channel_id) if interaction.channel_id else None,
            space_id=str(interaction.guild_id) if interaction.guild_id else None,
            name=user.display_name,
            roles=tuple(str(role.id) for role in getattr(user, "roles", ())),
        )
        receipt = await self.desk.submit(
            reporter, chosen, code, rewards=rewards or "", credit=credit
        )
        w = answer_words(interaction)
        await interaction.followup.send(
            with_commands(texts.receipt_text(receipt, self.catalog, w), w, self.command_ids),
            ephemeral=True,
            allowed_mentions=_NO_MENTIONS,
        )

    async def moderation(self, interaction: discord.Interaction) -> None:
        w = answer_words(interaction)
        if not self.moderator(interaction.user):
            await interaction.response.send_message(
                report_words.moderators_only(w), ephemeral=True
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        reports = await self.desk.waiting()
        embed = texts.waiting_embed(reports, self.catalog, w)
        view = view_of(texts.waiting_buttons(reports, w), 2)
        if view is None:
            await interaction.followup.send(embed=embed, ephemeral=True)
        else:
            await interaction.followup.send(embed=embed, view=view, ephemeral=True)

    async def tap(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        found = _CUSTOM_ID.fullmatch(custom_id)
        if found is None:
            return
        tapper = answer_words(interaction)
        if not self.moderator(interaction.user):
            # Nothing changes; the tapper is told why, and no one else sees it.
            await interaction.response.send_message(
                report_words.not_a_moderator(tapper), ephemeral=True
            )
            return
        await interaction.response.defer()
        action = texts.ACTIONS[found["action"]]
        in_list = found["list"] is not None
        user = interaction.user
        decided = await self.desk.decide(
            int(found["id"]),
            action,
            Decider(f"{Platform.DISCORD}:{user.id}", user.display_name),
            shown_on=None if in_list else str(Platform.DISCORD),
        )
        if in_list:
            # The list is the tapper's own (ephemeral): in their language.
            reports = await self.desk.waiting()
            embed = texts.waiting_embed(reports, self.catalog, tapper)
            view = view_of(texts.waiting_buttons(reports, tapper), 2)
        else:
            # The post is the moderation channel's: in its server's language.
            post = words(str(interaction.guild_locale) if interaction.guild_locale else None)
            embed = texts.report_embed(decided.submission, self.catalog, post)
            view = view_of(texts.decision_buttons(decided.submission, post), 3)
        await interaction.edit_original_response(embed=embed, view=view)
        await interaction.followup.send(
            texts.tap_answer(decided.submission, decided.changed, action, tapper),
            ephemeral=True,
            allowed_mentions=_NO_MENTIONS,
        )


class DiscordBoard:
    """The Discord moderation channel (CODECAST_MODERATION_DISCORD_CHANNEL)."""

    platform = str(Platform.DISCORD)

    def __init__(self, sender: DiscordSender, catalog: Catalog, channel_id: str) -> None:
        self.sender = sender
        self.catalog = catalog
        self.chat_id = channel_id

    def _words(self, chat_id: str) -> Words:
        """The moderation channel's server language, from the gateway's cache; English when
        this process does not hold the server."""
        channel = self.sender.client.get_channel(int(chat_id)) if chat_id.isdigit() else None
        guild = getattr(channel, "guild", None)
        return words(str(guild.preferred_locale) if guild is not None else None)

    async def post(self, report: SubmissionView) -> str | None:
        return await self.sender.post_message(
            self.chat_id, texts.report_payload(report, self.catalog, self._words(self.chat_id))
        )

    async def show(self, chat_id: str, message_id: str, report: SubmissionView) -> bool:
        return await self.sender.edit_message(
            chat_id, message_id, texts.report_payload(report, self.catalog, self._words(chat_id))
        )
