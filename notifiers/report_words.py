"""The words of reports, written once for both bots: a player's receipt, a reporter's record,
a moderator's decision, an entry of the waiting list.

Discord and Telegram say the same things about reports and differ in how they write them:
`Markup` is that difference (a code span, bold, the escaping of text from people), which each
platform's format module gives once. Where a platform has a sentence of its own (Discord's
commands take options, Telegram's take words; Discord has servers, Telegram chats) both
sentences stand here, each a literal message for `pybabel extract`, picked by
`Markup.platform`. Codes, rewards and names go in raw and come out escaped by the markup; the
reporter's platform id is never shown, only their record. Every function takes the reader's
`Words`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core.catalog import Catalog
from bot.core.domain import Game, Platform
from bot.core.glossary import game_name
from bot.core.language import Words
from bot.core.redeem import NotACode, Unreadable
from bot.core.submission import (
    MAX_CREDIT_LENGTH,
    OPERATOR,
    Refusal,
    Route,
    SubmissionState,
    SubmissionView,
)
from bot.core.text import clip, one_line

if TYPE_CHECKING:
    # Only a type here: the words stay pure, without the desk's store behind them.
    from notifiers.reports import Receipt

# Names shown in reports are cut to these many characters (a credit to MAX_CREDIT_LENGTH).
MAX_GAME_NAME_LENGTH = 100
MAX_DECIDER_LENGTH = 60


@dataclass(frozen=True)
class Markup:
    """How one platform writes the pieces of its words."""

    # Which platform's own sentences to say (Discord or Telegram).
    platform: Platform
    # A code (or a game id) as inline code; whatever a code cannot hold is made harmless.
    code: Callable[[str], str]
    # Text already written in this markup, in bold.
    bold: Callable[[str], str]
    # Text from a player, a moderator or a page: escaped, and unable to mention anyone.
    text: Callable[[str], str]

    @property
    def discord(self) -> bool:
        """Whether Discord's own sentences are said (else Telegram's)."""
        return self.platform is Platform.DISCORD


def short(text: str, limit: int) -> str:
    """A name on one line, cut to `limit` characters (escape it after)."""
    return clip(one_line(text), limit)


def game_text(game: Game | None, words: Words, markup: Markup, *, game_id: str = "") -> str:
    """A game's name in the reader's language, escaped; an id the catalog lacks, as given."""
    name = game_name(words, game.name) if game is not None else (game_id or "?")
    return markup.text(short(name, MAX_GAME_NAME_LENGTH))


def report_game(report: SubmissionView, catalog: Catalog, words: Words, markup: Markup) -> str:
    return game_text(catalog.games.get(report.game), words, markup, game_id=report.game)


# --- players ------------------------------------------------------------------------------


def not_a_code_text(error: NotACode, words: Words, markup: Markup) -> str:
    """Why a pasted text is no code."""
    w = words
    if error.reason is Unreadable.LINK_WITHOUT_CODE:
        if markup.discord:
            return w._("That link has no `?code=` in it.")
        return w._("That link has no <code>?code=</code> in it.")
    if error.reason is Unreadable.NOT_THE_GAMES_PATTERN and error.game is not None:
        return w._(
            "%(code)s does not look like a %(game)s code.",
            code=markup.code(error.code),
            game=game_text(error.game, w, markup),
        )
    return w._("That does not look like a code of any game I know.")


def receipt_text(
    receipt: Receipt, catalog: Catalog, words: Words, markup: Markup, usage: str
) -> str:
    """The answer to /submit: where the report went, or why it was not taken. `usage` is
    the platform's own how-to (already marked up), said when the report could not be read."""
    w = words
    code = markup.code(receipt.code)
    game = markup.bold(game_text(receipt.game, w, markup))
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
        if decided is None or decided.announcement_id is None:
            return w._(
                "Approved: %(code)s (%(game)s) was already announced.", code=code, game=game
            )
        if markup.discord:
            return w.ngettext(
                "Approved: %(code)s (%(game)s) is announced now, to %(count)s channel or chat.",
                "Approved: %(code)s (%(game)s) is announced now, to %(count)s channels and chats.",
                decided.deliveries,
                code=code,
                game=game,
            )
        return w.ngettext(
            "Approved: %(code)s (%(game)s) is announced now, to %(count)s chat.",
            "Approved: %(code)s (%(game)s) is announced now, to %(count)s chats.",
            decided.deliveries,
            code=code,
            game=game,
        )
    return refusal_text(receipt, catalog, w, markup, usage)


def refusal_text(
    receipt: Receipt, catalog: Catalog, words: Words, markup: Markup, usage: str
) -> str:
    """Why a report was not taken (the how-to when there is no refusal to tell)."""
    w = words
    code = markup.code(receipt.code)
    game = markup.bold(game_text(receipt.game, w, markup))
    match receipt.refusal:
        case Refusal.NOT_A_CODE if receipt.not_a_code is not None:
            return f"{not_a_code_text(receipt.not_a_code, w, markup)}\n{usage}"
        case Refusal.UNKNOWN_GAME if markup.discord:
            return w._(
                "That code fits several games: pick the game in the `%(option)s` option.",
                option=w.pgettext("option name", "game"),
            )
        case Refusal.UNKNOWN_GAME:
            ids = w.pgettext("list separator", ", ").join(markup.code(g) for g in catalog.games)
            return w._(
                "Which game is it? Name it first: %(usage)s\nGames: %(ids)s.",
                usage=usage,
                ids=ids,
            )
        case Refusal.NO_REPORTER:
            return w._("Reports come from people: send me /submit in a private chat or a group.")
        case Refusal.KNOWN_ACTIVE if markup.discord:
            # Discord's /codes asks for the game itself.
            return w._(
                "%(code)s is already known and active (%(game)s): see /codes.",
                code=code,
                game=game,
            )
        case Refusal.KNOWN_ACTIVE:
            return w._(
                "%(code)s is already known and active (%(game)s): see /codes %(id)s",
                code=code,
                game=game,
                id=markup.text(receipt.game.id) if receipt.game else "",
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
        case Refusal.CHAT_LIMIT if markup.discord:
            # Discord counts a whole server's reports together.
            return w._(
                "This server has reported many codes in the last hour: please wait a while."
            )
        case Refusal.CHAT_LIMIT:
            return w._("This chat has reported many codes in the last hour: please wait a while.")
        case Refusal.IGNORED:
            return w._("Your reports are not taken any more: too many of them were rejected.")
        case Refusal.BLOCKED:
            return w._("Your reports are not taken any more.")
    return usage


# --- moderators ---------------------------------------------------------------------------


def not_a_moderator(words: Words) -> str:
    return words._("Only moderators can decide reports.")


def moderators_only(words: Words) -> str:
    return words._("Only moderators can see the reports that wait.")


def record_text(report: SubmissionView, words: Words, markup: Markup) -> str:
    """The reporter's record: never who they are, only how their reports fared."""
    w = words
    if report.platform == OPERATOR.key:
        text = w._("the operator")
    else:
        text = w._(
            "a player on %(platform)s: %(accepted)s accepted, %(rejected)s rejected",
            platform=markup.text(report.platform.capitalize()),
            accepted=w.number(report.history.accepted),
            rejected=w.number(report.history.rejected),
        )
    if report.credit:
        credit = markup.text(short(report.credit, MAX_CREDIT_LENGTH))
        text += w._("; to be credited as “%(name)s”", name=credit)
    return text


def decision_text(report: SubmissionView, words: Words, markup: Markup) -> str | None:
    """Who decided the report and how, or that HoYoverse is checking it; None while it waits
    for a moderator."""
    w = words
    by = markup.text(short(report.decided_by or w._("a moderator"), MAX_DECIDER_LENGTH))
    if report.state is SubmissionState.ACCEPTED:
        if markup.discord:
            return w._("✅ **Approved** by %(name)s", name=by)
        return w._("✅ <b>Approved</b> by %(name)s", name=by)
    if report.state is SubmissionState.REJECTED:
        if report.reason:
            reason = markup.text(report.reason)
            if markup.discord:
                return w._("❌ **Rejected** by %(name)s (%(reason)s)", name=by, reason=reason)
            return w._("❌ <b>Rejected</b> by %(name)s (%(reason)s)", name=by, reason=reason)
        if markup.discord:
            return w._("❌ **Rejected** by %(name)s", name=by)
        return w._("❌ <b>Rejected</b> by %(name)s", name=by)
    if report.state is SubmissionState.CHECKING:
        return w._("⏳ Being checked with HoYoverse")
    return None


def report_details(report: SubmissionView, words: Words, markup: Markup) -> list[str]:
    """The lines of a moderation post under its code: rewards, the reporter's record, and
    once decided, who decided."""
    w = words
    rewards = (
        w._("Rewards: %(rewards)s", rewards=markup.text(report.rewards))
        if report.rewards
        else w._("Rewards: not given")
    )
    lines = [rewards, w._("Reported by %(record)s", record=record_text(report, w, markup))]
    if (decided := decision_text(report, w, markup)) is not None:
        lines.append(decided)
    return lines


def waiting_entry(report: SubmissionView, catalog: Catalog, words: Words, markup: Markup) -> str:
    """One report in the answer to /moderation: number, code, game, state; rewards, record."""
    w = words
    state = (
        w._("checking with HoYoverse")
        if report.state is SubmissionState.CHECKING
        else w._("waiting")
    )
    rewards = markup.text(report.rewards) if report.rewards else w._("no rewards given")
    return (
        f"{markup.bold(f'#{report.id}')} {markup.code(report.code)} · "
        f"{report_game(report, catalog, w, markup)} · {state}\n"
        f"{rewards} · {record_text(report, w, markup)}"
    )


def tap_answer(
    report: SubmissionView,
    words: Words,
    *,
    changed: bool,
    blocked: bool,
    name: Callable[[str], str],
) -> str:
    """The short notice a moderator's tap gets; `name` writes the decider's name the way the
    notice is shown (escaped in Markdown, as it is in plain text)."""
    w = words
    if not changed:
        by = name(short(report.decided_by or w._("someone"), MAX_DECIDER_LENGTH))
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
