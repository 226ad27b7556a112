"""Telegram's side of the words for reports: the /submit how-to, moderation posts and the
waiting list as HTML messages, and the moderators' inline keyboards.

The sentences themselves are shared with Discord (notifiers/report_words.py) and written in
Telegram's HTML by `format.MARKUP`: codes, rewards and names from players are escaped and
cannot mention anyone (format.inert). Pure, like format.py; every function takes the reader's
`Words` (English when none is given).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.catalog import Catalog
from bot.core.language import Words, english
from bot.core.submission import SubmissionView
from notifiers import report_words
from notifiers.reports import Receipt
from notifiers.telegram.format import (
    MARKUP,
    MAX_BUTTON_CODE_LENGTH,
    MOD_APPROVE,
    MOD_BLOCK,
    MOD_REJECT,
    Button,
    Keyboard,
    Message,
    clip,
    code_html,
    encode_callback,
)

# /moderation puts buttons under this many reports; the rest are listed.
MAX_LIST_BUTTONS = 5
LIST = "l"


def submit_usage(words: Words | None = None) -> str:
    return (words or english())._(
        "Report a code: <code>/submit GAME CODE [rewards]</code>, for example "
        "<code>/submit genshin GENSHINGIFT 60 Primogems</code>. A redeem link works as the "
        "code. Add <code>credit</code> at the end to be named when it is announced."
    )


def receipt_text(receipt: Receipt, catalog: Catalog, words: Words | None = None) -> str:
    """The answer to /submit."""
    w = words or english()
    return report_words.receipt_text(receipt, catalog, w, MARKUP, submit_usage(w))


# --- moderators ---------------------------------------------------------------------------


def report_text(report: SubmissionView, catalog: Catalog, words: Words | None = None) -> str:
    """A report as moderators see it: the code, its rewards, the reporter's record, and once
    decided, who decided."""
    w = words or english()
    game = report_words.report_game(report, catalog, w, MARKUP)
    lines = [
        w._("📝 <b>Report #%(id)s</b>: %(game)s", id=report.id, game=game),
        code_html(report.code),
        *report_words.report_details(report, w, MARKUP),
    ]
    return "\n".join(lines)


def decision_keyboard(
    report: SubmissionView, where: str = "", words: Words | None = None
) -> Keyboard:
    if not report.state.open:
        return ()
    w = words or english()
    target = str(report.id)
    return (
        (
            Button(w._("✅ Approve"), callback_data=encode_callback(MOD_APPROVE, target, where)),
            Button(w._("❌ Reject"), callback_data=encode_callback(MOD_REJECT, target, where)),
        ),
        (
            Button(
                w._("🚫 Reject and block reporter"),
                callback_data=encode_callback(MOD_BLOCK, target, where),
            ),
        ),
    )


def report_post(report: SubmissionView, catalog: Catalog, words: Words | None = None) -> Message:
    return Message(report_text(report, catalog, words), decision_keyboard(report, words=words))


def waiting_list(
    reports: Sequence[SubmissionView], catalog: Catalog, words: Words | None = None
) -> Message:
    """The answer to /moderation: what waits, with buttons under the oldest few."""
    w = words or english()
    if not reports:
        return Message(w._("No reports are waiting. 🎉"))
    blocks = [report_words.waiting_entry(report, catalog, w, MARKUP) for report in reports]
    rows: list[tuple[Button, ...]] = []
    for report in reports[:MAX_LIST_BUTTONS]:
        label = clip(report.code, MAX_BUTTON_CODE_LENGTH)
        target = str(report.id)
        rows.append(
            (
                Button(f"✅ {label}", callback_data=encode_callback(MOD_APPROVE, target, LIST)),
                Button(f"❌ {label}", callback_data=encode_callback(MOD_REJECT, target, LIST)),
            )
        )
    title = w.ngettext(
        "<b>%(count)s report waiting</b>", "<b>%(count)s reports waiting</b>", len(reports)
    )
    return Message(title + "\n\n" + "\n\n".join(blocks), tuple(rows))


def tap_answer(
    report: SubmissionView, changed: bool, blocked: bool, words: Words | None = None
) -> str:
    """The little notice a moderator's tap gets: plain text, nothing to escape."""
    return report_words.tap_answer(
        report, words or english(), changed=changed, blocked=blocked, name=str
    )
