"""Telegram's words for reports: receipts for players, posts and lists for moderators, in HTML.

Pure, like format.py: codes, rewards and names from players are escaped and cannot mention
anyone (format.inert); the reporter's platform id is never shown, only their record.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.catalog import Catalog
from bot.core.redeem import NotACode, Unreadable
from bot.core.submission import Refusal, Route, SubmissionState, SubmissionView
from notifiers.reports import Receipt
from notifiers.telegram.format import (
    MAX_BUTTON_CODE_LENGTH,
    MAX_NAME_LENGTH,
    MOD_APPROVE,
    MOD_BLOCK,
    MOD_REJECT,
    Button,
    Keyboard,
    Message,
    clip,
    encode_callback,
    escape,
    inert,
)

# /moderation puts buttons under this many reports; the rest are listed.
MAX_LIST_BUTTONS = 5
LIST = "l"

SUBMIT_USAGE = (
    "Report a code: <code>/submit GAME CODE [rewards]</code>, for example "
    "<code>/submit genshin GENSHINGIFT 60 Primogems</code>. A redeem link works as the code. "
    "Add <code>credit</code> at the end to be named when it is announced."
)


def _code(code: str) -> str:
    return f"<code>{escape(clip(code, 40))}</code>"


def _game(receipt: Receipt) -> str:
    return f"<b>{escape(clip(receipt.game.name, MAX_NAME_LENGTH))}</b>" if receipt.game else ""


def not_a_code_text(error: NotACode) -> str:
    if error.reason is Unreadable.LINK_WITHOUT_CODE:
        return "That link has no <code>?code=</code> in it."
    if error.reason is Unreadable.NOT_THE_GAMES_PATTERN and error.game is not None:
        name = escape(clip(error.game.name, MAX_NAME_LENGTH))
        return f"{_code(error.code)} does not look like a {name} code."
    return "That does not look like a code of any game I know."


def receipt_text(receipt: Receipt, catalog: Catalog) -> str:
    """The answer to /submit."""
    code, game = _code(receipt.code), _game(receipt)
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
            chats = "chat" if count == 1 else "chats"
            return f"Approved: {code} ({game}) is announced now, to {count} {chats}."
        return f"Approved: {code} ({game}) was already announced."
    return refusal_text(receipt, catalog)


def refusal_text(receipt: Receipt, catalog: Catalog) -> str:
    code, game = _code(receipt.code), _game(receipt)
    match receipt.refusal:
        case Refusal.NOT_A_CODE if receipt.not_a_code is not None:
            return f"{not_a_code_text(receipt.not_a_code)}\n{SUBMIT_USAGE}"
        case Refusal.UNKNOWN_GAME:
            ids = ", ".join(f"<code>{escape(g)}</code>" for g in catalog.games)
            return f"Which game is it? Name it first: {SUBMIT_USAGE}\nGames: {ids}."
        case Refusal.NO_REPORTER:
            return "Reports come from people: send me /submit in a private chat or a group."
        case Refusal.KNOWN_ACTIVE:
            gid = escape(receipt.game.id) if receipt.game else ""
            return f"{code} is already known and active ({game}): see /codes {gid}"
        case Refusal.KNOWN_EXPIRED:
            return f"{code} is already known ({game}): it has expired."
        case Refusal.ALREADY_REJECTED:
            return f"{code} ({game}) was reported before and rejected."
        case Refusal.ALREADY_REPORTED:
            return f"{code} ({game}) was reported already and is being checked. Thanks!"
        case Refusal.USER_LIMIT:
            return "You have reported several codes in the last hour: please wait a while."
        case Refusal.CHAT_LIMIT:
            return "This chat has reported many codes in the last hour: please wait a while."
        case Refusal.IGNORED:
            return "Your reports are not taken any more: too many of them were rejected."
        case Refusal.BLOCKED:
            return "Your reports are not taken any more."
    return SUBMIT_USAGE


# --- moderators ---------------------------------------------------------------------------


def record_text(report: SubmissionView) -> str:
    """The reporter's record: never who they are, only how their reports fared."""
    history = report.history
    platform = escape(report.platform.capitalize())
    text = (
        f"a player on {platform}: {history.accepted} accepted, {history.rejected} rejected"
        if report.platform != "operator"
        else "the operator"
    )
    if report.credit:
        text += f"; to be credited as “{inert(clip(report.credit, 32))}”"
    return text


def report_text(report: SubmissionView, catalog: Catalog) -> str:
    """A report as moderators see it: the code, its rewards, the reporter's record, and once
    decided, who decided."""
    game = catalog.games.get(report.game)
    name = escape(clip(game.name if game else report.game, MAX_NAME_LENGTH))
    lines = [
        f"📝 <b>Report #{report.id}</b>: {name}",
        _code(report.code),
        f"Rewards: {inert(report.rewards)}" if report.rewards else "Rewards: not given",
        f"Reported by {record_text(report)}",
    ]
    if (decided := decision_text(report)) is not None:
        lines.append(decided)
    return "\n".join(lines)


def decision_text(report: SubmissionView) -> str | None:
    by = inert(clip(report.decided_by or "a moderator", 60))
    if report.state is SubmissionState.ACCEPTED:
        return f"✅ <b>Approved</b> by {by}"
    if report.state is SubmissionState.REJECTED:
        why = f" ({escape(report.reason)})" if report.reason else ""
        return f"❌ <b>Rejected</b> by {by}{why}"
    if report.state is SubmissionState.CHECKING:
        return "⏳ Being checked with HoYoverse"
    return None


def decision_keyboard(report: SubmissionView, where: str = "") -> Keyboard:
    if not report.state.open:
        return ()
    target = str(report.id)
    return (
        (
            Button("✅ Approve", callback_data=encode_callback(MOD_APPROVE, target, where)),
            Button("❌ Reject", callback_data=encode_callback(MOD_REJECT, target, where)),
        ),
        (
            Button(
                "🚫 Reject and block reporter",
                callback_data=encode_callback(MOD_BLOCK, target, where),
            ),
        ),
    )


def report_post(report: SubmissionView, catalog: Catalog) -> Message:
    return Message(report_text(report, catalog), decision_keyboard(report))


def waiting_list(reports: Sequence[SubmissionView], catalog: Catalog) -> Message:
    """The answer to /moderation: what waits, with buttons under the oldest few."""
    if not reports:
        return Message("No reports are waiting. 🎉")
    blocks = []
    rows: list[tuple[Button, ...]] = []
    for report in reports:
        game = catalog.games.get(report.game)
        name = escape(clip(game.name if game else report.game, MAX_NAME_LENGTH))
        state = (
            "checking with HoYoverse" if report.state is SubmissionState.CHECKING else "waiting"
        )
        blocks.append(
            f"#{report.id} {_code(report.code)} · {name} · {state}\n"
            f"{inert(report.rewards) or 'no rewards given'} · {record_text(report)}"
        )
        if len(rows) < MAX_LIST_BUTTONS:
            label = clip(report.code, MAX_BUTTON_CODE_LENGTH)
            target = str(report.id)
            rows.append(
                (
                    Button(
                        f"✅ {label}", callback_data=encode_callback(MOD_APPROVE, target, LIST)
                    ),
                    Button(f"❌ {label}", callback_data=encode_callback(MOD_REJECT, target, LIST)),
                )
            )
    count = len(reports)
    title = f"<b>{count} report{'s' if count != 1 else ''} waiting</b>"
    return Message(title + "\n\n" + "\n\n".join(blocks), tuple(rows))


def tap_answer(report: SubmissionView, changed: bool, blocked: bool) -> str:
    """The little notice a moderator's tap gets."""
    if not changed:
        return f"Already {report.state} by {clip(report.decided_by or 'someone', 60)}."
    if blocked:
        return "Rejected; the reporter is blocked."
    return "Approved and announced." if report.state is SubmissionState.ACCEPTED else "Rejected."


NOT_A_MODERATOR = "Only moderators can decide reports."
MODERATORS_ONLY = "Only moderators can see the reports that wait."
