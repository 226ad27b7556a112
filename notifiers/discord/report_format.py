"""Discord's words for reports: receipts for players, posts and lists for moderators.

Pure, like format.py: codes, rewards and names from players go through `inert` (Markdown
escaped, no mention can fire); the reporter's platform id is never shown, only their record.
Moderators' buttons are plain data here (`DecisionButton`); the handlers make them views.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.core.catalog import Catalog
from bot.core.submission import Action, Refusal, Route, SubmissionState, SubmissionView
from bot.core.text import clip
from notifiers.discord.format import (
    COMPONENT_ACTION_ROW,
    COMPONENT_BUTTON,
    MAX_BUTTON_LABEL_CHARS,
    MAX_DESCRIPTION_CHARS,
    allowed_mentions,
    code_span,
    inert,
    not_a_code_text,
)
from notifiers.reports import Receipt

# A moderator's button: `codecast:mod:<a|r|b>:<report id>`, `:l` when under /moderation.
CUSTOM_ID = r"codecast:mod:(?P<action>[arb]):(?P<id>[0-9]{1,18})(?P<list>:l)?"
_LETTERS = {Action.APPROVE: "a", Action.REJECT: "r", Action.BLOCK: "b"}
ACTIONS = {letter: action for action, letter in _LETTERS.items()}
# /moderation puts buttons under this many reports (two per row, five rows at most).
MAX_LIST_BUTTONS = 5
REPORT_COLOUR = 0xF1C40F

SUBMIT_HELP = (
    "Report a code with `/submit`: pick the game, paste the code (or its redeem link), add "
    "the rewards if you know them, and `credit: True` to be named when it is announced."
)
NOT_A_MODERATOR = "Only moderators can decide reports."
MODERATORS_ONLY = "Only moderators can see the reports that wait."


@dataclass(frozen=True)
class DecisionButton:
    label: str
    style: discord.ButtonStyle
    custom_id: str


def custom_id(action: Action, report_id: int, *, in_list: bool = False) -> str:
    return f"codecast:mod:{_LETTERS[action]}:{report_id}" + (":l" if in_list else "")


def _game_name(report: SubmissionView | Receipt, catalog: Catalog) -> str:
    game_id = report.game.id if isinstance(report, Receipt) and report.game else None
    if isinstance(report, SubmissionView):
        game_id = report.game
    game = catalog.games.get(game_id or "")
    return inert(game.name if game else (game_id or "?"))


def receipt_text(receipt: Receipt, catalog: Catalog) -> str:
    """The answer to /submit."""
    code = code_span(receipt.code)
    game = f"**{_game_name(receipt, catalog)}**"
    if receipt.route is Route.VERIFY:
        return (
            f"Thanks! {code} ({game}) is being checked with HoYoverse now; if it works, "
            "everyone subscribed gets it."
        )
    if receipt.route is Route.MODERATE:
        return f"Thanks! {code} ({game}) will be checked by a moderator before anyone gets it."
    if receipt.route is Route.APPROVE:
        decided = receipt.decided
        if decided is not None and decided.announcement_id is not None:
            count = decided.deliveries
            return (
                f"Approved: {code} ({game}) is announced now, to {count} channel(s) and chat(s)."
            )
        return f"Approved: {code} ({game}) was already announced."
    match receipt.refusal:
        case Refusal.NOT_A_CODE if receipt.not_a_code is not None:
            return not_a_code_text(receipt.not_a_code)
        case Refusal.UNKNOWN_GAME:
            return "That code fits several games: pick the game in the `game` option."
        case Refusal.KNOWN_ACTIVE:
            return f"{code} is already known and active ({game}): see `/codes`."
        case Refusal.KNOWN_EXPIRED:
            return f"{code} is already known ({game}): it has expired."
        case Refusal.ALREADY_REJECTED:
            return f"{code} ({game}) was reported before and rejected."
        case Refusal.ALREADY_REPORTED:
            return f"{code} ({game}) was reported already and is being checked. Thanks!"
        case Refusal.USER_LIMIT:
            return "You have reported several codes in the last hour: please wait a while."
        case Refusal.CHAT_LIMIT:
            return "This server has reported many codes in the last hour: please wait a while."
        case Refusal.IGNORED:
            return "Your reports are not taken any more: too many of them were rejected."
        case Refusal.BLOCKED:
            return "Your reports are not taken any more."
    return SUBMIT_HELP


def record_text(report: SubmissionView) -> str:
    history = report.history
    text = (
        f"a player on {inert(report.platform.capitalize())}: "
        f"{history.accepted} accepted, {history.rejected} rejected"
    )
    if report.credit:
        text += f"; to be credited as “{inert(clip(report.credit, 32))}”"
    return text


def decision_text(report: SubmissionView) -> str | None:
    by = inert(clip(report.decided_by or "a moderator", 60))
    if report.state is SubmissionState.ACCEPTED:
        return f"✅ **Approved** by {by}"
    if report.state is SubmissionState.REJECTED:
        why = f" ({inert(report.reason)})" if report.reason else ""
        return f"❌ **Rejected** by {by}{why}"
    if report.state is SubmissionState.CHECKING:
        return "⏳ Being checked with HoYoverse"
    return None


def report_embed(report: SubmissionView, catalog: Catalog) -> discord.Embed:
    lines = [
        f"Code: {code_span(report.code)}",
        f"Rewards: {inert(report.rewards)}" if report.rewards else "Rewards: not given",
        f"Reported by {record_text(report)}",
    ]
    if (decided := decision_text(report)) is not None:
        lines.append(decided)
    return discord.Embed(
        title=clip(f"Report #{report.id}: {_game_name(report, catalog)}", 256),
        description=clip("\n".join(lines), MAX_DESCRIPTION_CHARS),
        colour=REPORT_COLOUR,
    )


def decision_buttons(report: SubmissionView) -> list[DecisionButton]:
    if not report.state.open:
        return []
    return [
        DecisionButton(
            "Approve", discord.ButtonStyle.success, custom_id(Action.APPROVE, report.id)
        ),
        DecisionButton("Reject", discord.ButtonStyle.danger, custom_id(Action.REJECT, report.id)),
        DecisionButton(
            "Reject and block reporter",
            discord.ButtonStyle.secondary,
            custom_id(Action.BLOCK, report.id),
        ),
    ]


def button_rows(buttons: Sequence[DecisionButton], per_row: int) -> list[dict[str, Any]]:
    """Buttons as the API's component payload."""
    return [
        {
            "type": COMPONENT_ACTION_ROW,
            "components": [
                {
                    "type": COMPONENT_BUTTON,
                    "style": b.style.value,
                    "label": clip(b.label, MAX_BUTTON_LABEL_CHARS),
                    "custom_id": b.custom_id,
                }
                for b in buttons[start : start + per_row]
            ],
        }
        for start in range(0, len(buttons), per_row)
    ]


def report_payload(report: SubmissionView, catalog: Catalog) -> dict[str, Any]:
    """A moderation post as the JSON body of a message create or edit."""
    return {
        "embeds": [report_embed(report, catalog).to_dict()],
        "components": button_rows(decision_buttons(report), 3),
        "allowed_mentions": allowed_mentions(None),
    }


def waiting_embed(reports: Sequence[SubmissionView], catalog: Catalog) -> discord.Embed:
    """The answer to /moderation: what waits."""
    if not reports:
        return discord.Embed(title="No reports are waiting.", colour=REPORT_COLOUR)
    lines = []
    for report in reports:
        state = (
            "checking with HoYoverse" if report.state is SubmissionState.CHECKING else "waiting"
        )
        rewards = inert(report.rewards) if report.rewards else "no rewards given"
        lines.append(
            f"**#{report.id}** {code_span(report.code)} · {_game_name(report, catalog)} · "
            f"{state}\n{rewards} · {record_text(report)}"
        )
    count = len(reports)
    return discord.Embed(
        title=f"{count} report{'s' if count != 1 else ''} waiting",
        description=clip("\n\n".join(lines), MAX_DESCRIPTION_CHARS),
        colour=REPORT_COLOUR,
    )


def waiting_buttons(reports: Sequence[SubmissionView]) -> list[DecisionButton]:
    """Approve / Reject under the oldest few, two per row."""
    buttons = []
    for report in reports[:MAX_LIST_BUTTONS]:
        label = clip(report.code, 40)
        buttons.append(
            DecisionButton(
                f"Approve {label}",
                discord.ButtonStyle.success,
                custom_id(Action.APPROVE, report.id, in_list=True),
            )
        )
        buttons.append(
            DecisionButton(
                f"Reject {label}",
                discord.ButtonStyle.danger,
                custom_id(Action.REJECT, report.id, in_list=True),
            )
        )
    return buttons


def tap_answer(report: SubmissionView, changed: bool, action: Action) -> str:
    if not changed:
        return f"Already {report.state} by {inert(clip(report.decided_by or 'someone', 60))}."
    if action is Action.BLOCK:
        return "Rejected; the reporter is blocked."
    return "Approved and announced." if report.state is SubmissionState.ACCEPTED else "Rejected."
