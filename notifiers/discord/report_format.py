"""Discord's words for reports: receipts for players, posts and lists for moderators.

Pure, like format.py: codes, rewards and names from players go through `inert` (Markdown
escaped, no mention can fire); the reporter's platform id is never shown, only their record.
Moderators' buttons are plain data here (`DecisionButton`); the handlers make them views.
Every function takes the reader's `Words` (English when none is given).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.core.catalog import Catalog
from bot.core.language import Words, english
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
    name_of,
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


def submit_help(words: Words | None = None) -> str:
    return (words or english())._(
        "Report a code with /submit: pick the game, paste the code (or its redeem link), add "
        "the rewards if you know them, and `credit: True` to be named when it is announced."
    )


def not_a_moderator(words: Words | None = None) -> str:
    return (words or english())._("Only moderators can decide reports.")


def moderators_only(words: Words | None = None) -> str:
    return (words or english())._("Only moderators can see the reports that wait.")


@dataclass(frozen=True)
class DecisionButton:
    label: str
    style: discord.ButtonStyle
    custom_id: str


def custom_id(action: Action, report_id: int, *, in_list: bool = False) -> str:
    return f"codecast:mod:{_LETTERS[action]}:{report_id}" + (":l" if in_list else "")


def _game_name(report: SubmissionView | Receipt, catalog: Catalog, w: Words) -> str:
    game_id = report.game.id if isinstance(report, Receipt) and report.game else None
    if isinstance(report, SubmissionView):
        game_id = report.game
    game = catalog.games.get(game_id or "")
    return inert(name_of(game, w) if game else (game_id or "?"))


def receipt_text(receipt: Receipt, catalog: Catalog, words: Words | None = None) -> str:
    """The answer to /submit."""
    w = words or english()
    code = code_span(receipt.code)
    game = f"**{_game_name(receipt, catalog, w)}**"
    if receipt.route is Route.VERIFY:
        return w._(
            "Thanks! %(code)s (%(game)s) is being checked with HoYoverse now; if it works, "
            "everyone subscribed gets it.",
            code=code,
            game=game,
        )
    if receipt.route is Route.MODERATE:
        return w._(
            "Thanks! %(code)s (%(game)s) will be checked by a moderator before anyone gets it.",
            code=code,
            game=game,
        )
    if receipt.route is Route.APPROVE:
        decided = receipt.decided
        if decided is not None and decided.announcement_id is not None:
            return w.ngettext(
                "Approved: %(code)s (%(game)s) is announced now, to %(count)s channel or chat.",
                "Approved: %(code)s (%(game)s) is announced now, to %(count)s channels and chats.",
                decided.deliveries,
                code=code,
                game=game,
            )
        return w._("Approved: %(code)s (%(game)s) was already announced.", code=code, game=game)
    match receipt.refusal:
        case Refusal.NOT_A_CODE if receipt.not_a_code is not None:
            return not_a_code_text(receipt.not_a_code, w)
        case Refusal.UNKNOWN_GAME:
            return w._(
                "That code fits several games: pick the game in the `%(option)s` option.",
                option=w.pgettext("option name", "game"),
            )
        case Refusal.KNOWN_ACTIVE:
            return w._(
                "%(code)s is already known and active (%(game)s): see /codes.",
                code=code,
                game=game,
            )
        case Refusal.KNOWN_EXPIRED:
            return w._(
                "%(code)s is already known (%(game)s): it has expired.", code=code, game=game
            )
        case Refusal.ALREADY_REJECTED:
            return w._(
                "%(code)s (%(game)s) was reported before and rejected.", code=code, game=game
            )
        case Refusal.ALREADY_REPORTED:
            return w._(
                "%(code)s (%(game)s) was reported already and is being checked. Thanks!",
                code=code,
                game=game,
            )
        case Refusal.USER_LIMIT:
            return w._("You have reported several codes in the last hour: please wait a while.")
        case Refusal.CHAT_LIMIT:
            return w._(
                "This server has reported many codes in the last hour: please wait a while."
            )
        case Refusal.IGNORED:
            return w._("Your reports are not taken any more: too many of them were rejected.")
        case Refusal.BLOCKED:
            return w._("Your reports are not taken any more.")
    return submit_help(w)


def record_text(report: SubmissionView, words: Words | None = None) -> str:
    w = words or english()
    history = report.history
    text = w._(
        "a player on %(platform)s: %(accepted)s accepted, %(rejected)s rejected",
        platform=inert(report.platform.capitalize()),
        accepted=w.number(history.accepted),
        rejected=w.number(history.rejected),
    )
    if report.credit:
        text += w._("; to be credited as “%(name)s”", name=inert(clip(report.credit, 32)))
    return text


def decision_text(report: SubmissionView, words: Words | None = None) -> str | None:
    w = words or english()
    by = inert(clip(report.decided_by or w._("a moderator"), 60))
    if report.state is SubmissionState.ACCEPTED:
        return w._("✅ **Approved** by %(name)s", name=by)
    if report.state is SubmissionState.REJECTED:
        if report.reason:
            reason = inert(report.reason)
            return w._("❌ **Rejected** by %(name)s (%(reason)s)", name=by, reason=reason)
        return w._("❌ **Rejected** by %(name)s", name=by)
    if report.state is SubmissionState.CHECKING:
        return w._("⏳ Being checked with HoYoverse")
    return None


def report_embed(
    report: SubmissionView, catalog: Catalog, words: Words | None = None
) -> discord.Embed:
    w = words or english()
    rewards = (
        w._("Rewards: %(rewards)s", rewards=inert(report.rewards))
        if report.rewards
        else w._("Rewards: not given")
    )
    lines = [
        w._("Code: %(code)s", code=code_span(report.code)),
        rewards,
        w._("Reported by %(record)s", record=record_text(report, w)),
    ]
    if (decided := decision_text(report, w)) is not None:
        lines.append(decided)
    title = w._("Report #%(id)s: %(game)s", id=report.id, game=_game_name(report, catalog, w))
    return discord.Embed(
        title=clip(title, 256),
        description=clip("\n".join(lines), MAX_DESCRIPTION_CHARS),
        colour=REPORT_COLOUR,
    )


def decision_buttons(report: SubmissionView, words: Words | None = None) -> list[DecisionButton]:
    if not report.state.open:
        return []
    w = words or english()
    return [
        DecisionButton(
            w._("Approve"), discord.ButtonStyle.success, custom_id(Action.APPROVE, report.id)
        ),
        DecisionButton(
            w._("Reject"), discord.ButtonStyle.danger, custom_id(Action.REJECT, report.id)
        ),
        DecisionButton(
            w._("Reject and block reporter"),
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


def report_payload(
    report: SubmissionView, catalog: Catalog, words: Words | None = None
) -> dict[str, Any]:
    """A moderation post as the JSON body of a message create or edit."""
    return {
        "embeds": [report_embed(report, catalog, words).to_dict()],
        "components": button_rows(decision_buttons(report, words), 3),
        "allowed_mentions": allowed_mentions(None),
    }


def waiting_embed(
    reports: Sequence[SubmissionView], catalog: Catalog, words: Words | None = None
) -> discord.Embed:
    """The answer to /moderation: what waits."""
    w = words or english()
    if not reports:
        return discord.Embed(title=w._("No reports are waiting."), colour=REPORT_COLOUR)
    lines = []
    for report in reports:
        state = (
            w._("checking with HoYoverse")
            if report.state is SubmissionState.CHECKING
            else w._("waiting")
        )
        rewards = inert(report.rewards) if report.rewards else w._("no rewards given")
        lines.append(
            f"**#{report.id}** {code_span(report.code)} · {_game_name(report, catalog, w)} · "
            f"{state}\n{rewards} · {record_text(report, w)}"
        )
    return discord.Embed(
        title=w.ngettext("%(count)s report waiting", "%(count)s reports waiting", len(reports)),
        description=clip("\n\n".join(lines), MAX_DESCRIPTION_CHARS),
        colour=REPORT_COLOUR,
    )


def waiting_buttons(
    reports: Sequence[SubmissionView], words: Words | None = None
) -> list[DecisionButton]:
    """Approve / Reject under the oldest few, two per row."""
    w = words or english()
    buttons = []
    for report in reports[:MAX_LIST_BUTTONS]:
        label = clip(report.code, 40)
        buttons.append(
            DecisionButton(
                w._("Approve %(code)s", code=label),
                discord.ButtonStyle.success,
                custom_id(Action.APPROVE, report.id, in_list=True),
            )
        )
        buttons.append(
            DecisionButton(
                w._("Reject %(code)s", code=label),
                discord.ButtonStyle.danger,
                custom_id(Action.REJECT, report.id, in_list=True),
            )
        )
    return buttons


def tap_answer(
    report: SubmissionView, changed: bool, action: Action, words: Words | None = None
) -> str:
    w = words or english()
    if not changed:
        by = inert(clip(report.decided_by or w._("someone"), 60))
        if report.state is SubmissionState.ACCEPTED:
            return w._("Already accepted by %(name)s.", name=by)
        if report.state is SubmissionState.REJECTED:
            return w._("Already rejected by %(name)s.", name=by)
        return w._("Already decided by %(name)s.", name=by)
    if action is Action.BLOCK:
        return w._("Rejected; the reporter is blocked.")
    if report.state is SubmissionState.ACCEPTED:
        return w._("Approved and announced.")
    return w._("Rejected.")
