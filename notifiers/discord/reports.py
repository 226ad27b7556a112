"""Reports on Discord: /submit and /moderation, moderators' buttons, and the moderation channel.

The commands hand reports and decisions to the shared `ReportDesk`; what they say is built
by `report_format`. A moderator's button is a discord.py `DynamicItem` (its custom id names
the report), so taps are understood after a restart too. Every interaction is deferred
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
from bot.core.submission import Decider, Reporter, SubmissionView
from notifiers.discord import report_format as words
from notifiers.discord.sender import DiscordSender
from notifiers.reports import ReportDesk

log = logging.getLogger(__name__)

_CUSTOM_ID = re.compile(words.CUSTOM_ID)
_NO_MENTIONS = discord.AllowedMentions.none()


class ModerationButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=words.CUSTOM_ID,
):
    """Approve, Reject or Block under a report; the client's `reports` carries the tap out."""

    def __init__(self, button: words.DecisionButton) -> None:
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
        return cls(words.DecisionButton(label, style, match.group(0)))

    async def callback(self, interaction: discord.Interaction[discord.Client]) -> None:
        reports = getattr(interaction.client, "reports", None)
        if isinstance(reports, DiscordReports):
            await reports.tap(interaction, self.button_id)


def view_of(buttons: Sequence[words.DecisionButton], per_row: int) -> discord.ui.View | None:
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

    def __init__(self, desk: ReportDesk, catalog: Catalog) -> None:
        self.desk = desk
        self.catalog = catalog

    def commands(self, with_games: Any) -> list[app_commands.Command[Any, Any, Any]]:
        return [
            with_games(
                app_commands.Command(
                    name="submit",
                    description="Report a code you found; it is checked before anyone gets it",
                    callback=self.submit,
                )
            ),
            app_commands.Command(
                name="moderation",
                description="Reports waiting for a moderator (moderators only)",
                callback=self.moderation,
            ),
        ]

    def moderator(self, user: discord.abc.User) -> bool:
        roles = tuple(str(role.id) for role in getattr(user, "roles", ()))
        return self.desk.rules.moderators.is_moderator(Platform.DISCORD, str(user.id), roles)

    @app_commands.describe(
        game="The game the code is for",
        code="The code, or its redeem link",
        rewards="What it gives, if you know",
        credit="Name me when it is announced",
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
        await interaction.followup.send(
            words.receipt_text(receipt, self.catalog),
            ephemeral=True,
            allowed_mentions=_NO_MENTIONS,
        )

    async def moderation(self, interaction: discord.Interaction) -> None:
        if not self.moderator(interaction.user):
            await interaction.response.send_message(words.MODERATORS_ONLY, ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        reports = await self.desk.waiting()
        embed = words.waiting_embed(reports, self.catalog)
        view = view_of(words.waiting_buttons(reports), 2)
        if view is None:
            await interaction.followup.send(embed=embed, ephemeral=True)
        else:
            await interaction.followup.send(embed=embed, view=view, ephemeral=True)

    async def tap(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        found = _CUSTOM_ID.fullmatch(custom_id)
        if found is None:
            return
        if not self.moderator(interaction.user):
            # Nothing changes; the tapper is told why, and no one else sees it.
            await interaction.response.send_message(words.NOT_A_MODERATOR, ephemeral=True)
            return
        await interaction.response.defer()
        action = words.ACTIONS[found["action"]]
        in_list = found["list"] is not None
        user = interaction.user
        decided = await self.desk.decide(
            int(found["id"]),
            action,
            Decider(f"{Platform.DISCORD}:{user.id}", user.display_name),
            shown_on=None if in_list else str(Platform.DISCORD),
        )
        if in_list:
            reports = await self.desk.waiting()
            embed = words.waiting_embed(reports, self.catalog)
            view = view_of(words.waiting_buttons(reports), 2)
        else:
            embed = words.report_embed(decided.submission, self.catalog)
            view = view_of(words.decision_buttons(decided.submission), 3)
        await interaction.edit_original_response(embed=embed, view=view)
        await interaction.followup.send(
            words.tap_answer(decided.submission, decided.changed, action),
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

    async def post(self, report: SubmissionView) -> str | None:
        return await self.sender.post_message(
            self.chat_id, words.report_payload(report, self.catalog)
        )

    async def show(self, chat_id: str, message_id: str, report: SubmissionView) -> bool:
        return await self.sender.edit_message(
            chat_id, message_id, words.report_payload(report, self.catalog)
        )
