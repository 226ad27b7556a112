"""Discord's side of the words for reports: the /submit how-to, moderation posts as embeds,
the waiting list, and the moderators' buttons.

The sentences themselves are shared with Telegram (notifiers/report_words.py) and written in
Discord's Markdown by `format.MARKUP`: codes, rewards and names from players go through
`inert` (Markdown escaped, no mention can fire). Pure, like format.py; moderators' buttons
are plain data here (`DecisionButton`); the handlers make them views. Every function takes
the reader's `Words` (English when none is given).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.core.catalog import Catalog
from bot.core.language import Words, english
from bot.core.submission import Action, SubmissionView
from bot.core.text import clip
from notifiers import report_words
from notifiers.discord.format import (
    COMPONENT_ACTION_ROW,
    COMPONENT_BUTTON,
    MARKUP,
    MAX_BUTTON_LABEL_CHARS,
    MAX_DESCRIPTION_CHARS,
    allowed_mentions,
    code_span,
    inert,
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


@dataclass(frozen=True)
class DecisionButton:
    label: str
    style: discord.ButtonStyle
    custom_id: str


def custom_id(action: Action, report_id: int, *, in_list: bool = False) -> str:
    return f"codecast:mod:{_LETTERS[action]}:{report_id}" + (":l" if in_list else "")


def receipt_text(receipt: Receipt, catalog: Catalog, words: Words | None = None) -> str:
    """The answer to /submit."""
    w = words or english()
    return report_words.receipt_text(receipt, catalog, w, MARKUP, submit_help(w))


def report_embed(
    report: SubmissionView, catalog: Catalog, words: Words | None = None
) -> discord.Embed:
    w = words or english()
    lines = [
        w._("Code: %(code)s", code=code_span(report.code)),
        *report_words.report_details(report, w, MARKUP),
    ]
    game = report_words.report_game(report, catalog, w, MARKUP)
    title = w._("Report #%(id)s: %(game)s", id=report.id, game=game)
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
    lines = [report_words.waiting_entry(report, catalog, w, MARKUP) for report in reports]
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
    """The notice a moderator's tap gets: an ephemeral message, so Markdown."""
    return report_words.tap_answer(
        report, words or english(), changed=changed, blocked=action is Action.BLOCK, name=inert
    )
