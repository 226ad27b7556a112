"""Telegram's words for reports: receipts for players, posts and lists for moderators, in HTML.

Pure, like format.py: codes, rewards and names from players are escaped and cannot mention
anyone (format.inert); the reporter's platform id is never shown, only their record. Every
function takes the reader's `Words` (English when none is given).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.catalog import Catalog
from bot.core.language import Words, english
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
    name_of,
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


def _code(code: str) -> str:
    return f"<code>{escape(clip(code, 40))}</code>"


def _game(receipt: Receipt, w: Words) -> str:
    return f"<b>{name_of(receipt.game, w)}</b>" if receipt.game else ""


def _game_of(report: SubmissionView, catalog: Catalog, w: Words) -> str:
    game = catalog.games.get(report.game)
    return name_of(game, w) if game else escape(clip(report.game, MAX_NAME_LENGTH))


def not_a_code_text(error: NotACode, words: Words | None = None) -> str:
    w = words or english()
    if error.reason is Unreadable.LINK_WITHOUT_CODE:
        return w._("That link has no <code>?code=</code> in it.")
    if error.reason is Unreadable.NOT_THE_GAMES_PATTERN and error.game is not None:
        return w._(
            "%(code)s does not look like a %(game)s code.",
            code=_code(error.code),
            game=name_of(error.game, w),
        )
    return w._("That does not look like a code of any game I know.")


def receipt_text(receipt: Receipt, catalog: Catalog, words: Words | None = None) -> str:
    """The answer to /submit."""
    w = words or english()
    code, game = _code(receipt.code), _game(receipt, w)
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
                "Approved: %(code)s (%(game)s) is announced now, to %(count)s chat.",
                "Approved: %(code)s (%(game)s) is announced now, to %(count)s chats.",
                decided.deliveries,
                code=code,
                game=game,
            )
        return w._("Approved: %(code)s (%(game)s) was already announced.", code=code, game=game)
    return refusal_text(receipt, catalog, w)


def refusal_text(receipt: Receipt, catalog: Catalog, words: Words | None = None) -> str:
    w = words or english()
    code, game = _code(receipt.code), _game(receipt, w)
    match receipt.refusal:
        case Refusal.NOT_A_CODE if receipt.not_a_code is not None:
            return f"{not_a_code_text(receipt.not_a_code, w)}\n{submit_usage(w)}"
        case Refusal.UNKNOWN_GAME:
            ids = w.pgettext("list separator", ", ").join(
                f"<code>{escape(g)}</code>" for g in catalog.games
            )
            return w._(
                "Which game is it? Name it first: %(usage)s\nGames: %(ids)s.",
                usage=submit_usage(w),
                ids=ids,
            )
        case Refusal.NO_REPORTER:
            return w._("Reports come from people: send me /submit in a private chat or a group.")
        case Refusal.KNOWN_ACTIVE:
            gid = escape(receipt.game.id) if receipt.game else ""
            return w._(
                "%(code)s is already known and active (%(game)s): see /codes %(id)s",
                code=code,
                game=game,
                id=gid,
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
            return w._("This chat has reported many codes in the last hour: please wait a while.")
        case Refusal.IGNORED:
            return w._("Your reports are not taken any more: too many of them were rejected.")
        case Refusal.BLOCKED:
            return w._("Your reports are not taken any more.")
    return submit_usage(w)


# --- moderators ---------------------------------------------------------------------------


def record_text(report: SubmissionView, words: Words | None = None) -> str:
    """The reporter's record: never who they are, only how their reports fared."""
    w = words or english()
    history = report.history
    if report.platform == "operator":
        text = w._("the operator")
    else:
        text = w._(
            "a player on %(platform)s: %(accepted)s accepted, %(rejected)s rejected",
            platform=escape(report.platform.capitalize()),
            accepted=w.number(history.accepted),
            rejected=w.number(history.rejected),
        )
    if report.credit:
        text += w._("; to be credited as “%(name)s”", name=inert(clip(report.credit, 32)))
    return text


def report_text(report: SubmissionView, catalog: Catalog, words: Words | None = None) -> str:
    """A report as moderators see it: the code, its rewards, the reporter's record, and once
    decided, who decided."""
    w = words or english()
    name = _game_of(report, catalog, w)
    rewards = (
        w._("Rewards: %(rewards)s", rewards=inert(report.rewards))
        if report.rewards
        else w._("Rewards: not given")
    )
    lines = [
        w._("📝 <b>Report #%(id)s</b>: %(game)s", id=report.id, game=name),
        _code(report.code),
        rewards,
        w._("Reported by %(record)s", record=record_text(report, w)),
    ]
    if (decided := decision_text(report, w)) is not None:
        lines.append(decided)
    return "\n".join(lines)


def decision_text(report: SubmissionView, words: Words | None = None) -> str | None:
    w = words or english()
    by = inert(clip(report.decided_by or w._("a moderator"), 60))
    if report.state is SubmissionState.ACCEPTED:
        return w._("✅ <b>Approved</b> by %(name)s", name=by)
    if report.state is SubmissionState.REJECTED:
        if report.reason:
            return w._(
                "❌ <b>Rejected</b> by %(name)s (%(reason)s)",
                name=by,
                reason=escape(report.reason),
            )
        return w._("❌ <b>Rejected</b> by %(name)s", name=by)
    if report.state is SubmissionState.CHECKING:
        return w._("⏳ Being checked with HoYoverse")
    return None


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
    blocks = []
    rows: list[tuple[Button, ...]] = []
    for report in reports:
        state = (
            w._("checking with HoYoverse")
            if report.state is SubmissionState.CHECKING
            else w._("waiting")
        )
        rewards = inert(report.rewards) or w._("no rewards given")
        blocks.append(
            f"#{report.id} {_code(report.code)} · {_game_of(report, catalog, w)} · {state}\n"
            f"{rewards} · {record_text(report, w)}"
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
    title = w.ngettext(
        "<b>%(count)s report waiting</b>", "<b>%(count)s reports waiting</b>", len(reports)
    )
    return Message(title + "\n\n" + "\n\n".join(blocks), tuple(rows))


def tap_answer(
    report: SubmissionView, changed: bool, blocked: bool, words: Words | None = None
) -> str:
    """The little notice a moderator's tap gets."""
    w = words or english()
    if not changed:
        by = clip(report.decided_by or w._("someone"), 60)
        if report.state is SubmissionState.ACCEPTED:
            return w._("Already accepted by %(name)s.", name=by)
        if report.state is SubmissionState.REJECTED:
            return w._("Already rejected by %(name)s.", name=by)
        return w._("Already decided by %(name)s.", name=by)
    if blocked:
        return w._("Rejected; the reporter is blocked.")
    if report.state is SubmissionState.ACCEPTED:
        return w._("Approved and announced.")
    return w._("Rejected.")


def not_a_moderator(words: Words | None = None) -> str:
    return (words or english())._("Only moderators can decide reports.")


def moderators_only(words: Words | None = None) -> str:
    return (words or english())._("Only moderators can see the reports that wait.")
