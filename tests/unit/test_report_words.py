"""The words of reports, once for both bots: Discord and Telegram say the same sentence, each in
its own markup and escaping, except where a platform has a sentence of its own."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.core.catalog import load_catalog
from bot.core.language import Words, english, words
from bot.core.redeem import NotACode, Unreadable
from bot.core.submission import (
    OPERATOR,
    Action,
    History,
    Refusal,
    Route,
    SubmissionState,
    SubmissionView,
)
from bot.store.repository.submissions import Decided
from notifiers import report_words
from notifiers.discord import report_format as discord_texts
from notifiers.discord.format import MARKUP as DISCORD
from notifiers.report_words import Markup
from notifiers.reports import Receipt
from notifiers.telegram import report_format as telegram_texts
from notifiers.telegram.format import MARKUP as TELEGRAM

CATALOG = load_catalog()
GENSHIN = CATALOG.games["genshin"]
HOSTILE = "<b>*_x_*</b> @everyone"


def plain(text: str, markup: Markup) -> str:
    """What a reader sees, markup and escaping taken away."""
    if markup is DISCORD:
        return re.sub(r"\\(.)", r"\1", text.replace("**", "").replace("`", ""))
    return html.unescape(re.sub(r"</?(?:b|code)>", "", text)).replace("@\u2060", "@")


PENDING = SubmissionView(
    id=7,
    game="genshin",
    code="GENSHINGIFT",
    rewards="60 Primogems",
    platform="telegram",
    state=SubmissionState.PENDING,
    created_at=datetime(2025, 3, 1, tzinfo=UTC),
    history=History(accepted=2, rejected=1),
)


def report(**changes: Any) -> SubmissionView:
    return replace(PENDING, **changes)


def receipt_texts(receipt: Receipt, w: Words | None = None) -> tuple[str, str]:
    return (
        discord_texts.receipt_text(receipt, CATALOG, w),
        telegram_texts.receipt_text(receipt, CATALOG, w),
    )


# Refusals both platforms word alike; the others name each platform's own way of asking.
SHARED_REFUSALS = [
    Refusal.NO_REPORTER,
    Refusal.KNOWN_EXPIRED,
    Refusal.ALREADY_REJECTED,
    Refusal.ALREADY_REPORTED,
    Refusal.USER_LIMIT,
    Refusal.IGNORED,
    Refusal.BLOCKED,
]
OWN_REFUSALS = [Refusal.UNKNOWN_GAME, Refusal.KNOWN_ACTIVE, Refusal.CHAT_LIMIT]


def test_every_refusal_is_either_shared_or_the_platforms_own() -> None:
    assert {*SHARED_REFUSALS, *OWN_REFUSALS, Refusal.NOT_A_CODE} == set(Refusal)


@pytest.mark.parametrize("refusal", SHARED_REFUSALS)
@pytest.mark.parametrize("language", ["en", "de", "ja"])
def test_both_platforms_give_the_same_sentence_for_a_refusal(
    refusal: Refusal, language: str
) -> None:
    w = words(language)
    discord_text, telegram_text = receipt_texts(
        Receipt(code="GENSHINGIFT", game=GENSHIN, refusal=refusal), w
    )
    assert plain(discord_text, DISCORD) == plain(telegram_text, TELEGRAM)
    if "GENSHINGIFT" in discord_text:
        assert "`GENSHINGIFT`" in discord_text
        assert "<code>GENSHINGIFT</code>" in telegram_text


@pytest.mark.parametrize("route", [Route.VERIFY, Route.MODERATE])
def test_both_platforms_thank_the_reporter_alike(route: Route) -> None:
    discord_text, telegram_text = receipt_texts(
        Receipt(code="GENSHINGIFT", game=GENSHIN, route=route)
    )
    assert discord_text.startswith("Thanks! `GENSHINGIFT` (**Genshin Impact**)")
    assert telegram_text.startswith("Thanks! <code>GENSHINGIFT</code> (<b>Genshin Impact</b>)")
    assert plain(discord_text, DISCORD) == plain(telegram_text, TELEGRAM)


def test_the_platforms_own_sentences_stay_their_own() -> None:
    def both(refusal: Refusal) -> tuple[str, str]:
        return receipt_texts(Receipt(code="GENSHINGIFT", game=GENSHIN, refusal=refusal))

    discord_text, telegram_text = both(Refusal.CHAT_LIMIT)
    assert discord_text.startswith("This server has reported many codes")
    assert telegram_text.startswith("This chat has reported many codes")
    discord_text, telegram_text = both(Refusal.KNOWN_ACTIVE)
    assert discord_text.endswith("see /codes.")
    assert telegram_text.endswith("see /codes genshin")
    discord_text, telegram_text = both(Refusal.UNKNOWN_GAME)
    assert discord_text == "That code fits several games: pick the game in the `game` option."
    assert "<code>genshin</code>" in telegram_text
    assert telegram_texts.submit_usage() in telegram_text

    approved = Receipt(
        code="GENSHINGIFT",
        game=GENSHIN,
        route=Route.APPROVE,
        decided=Decided(report(), changed=True, announcement_id=1, deliveries=3),
    )
    discord_text, telegram_text = receipt_texts(approved)
    assert discord_text.endswith("to 3 channels and chats.")
    assert telegram_text.endswith("to 3 chats.")


def test_a_text_that_is_no_code_is_explained_with_the_platforms_how_to() -> None:
    wrong = NotACode(Unreadable.NOT_THE_GAMES_PATTERN, "no", GENSHIN)
    discord_text, telegram_text = receipt_texts(
        Receipt(code="no", refusal=Refusal.NOT_A_CODE, not_a_code=wrong)
    )
    assert discord_text == (
        f"`no` does not look like a Genshin Impact code.\n{discord_texts.submit_help()}"
    )
    assert telegram_text == (
        f"<code>no</code> does not look like a Genshin Impact code.\n"
        f"{telegram_texts.submit_usage()}"
    )
    link = NotACode(Unreadable.LINK_WITHOUT_CODE)
    assert report_words.not_a_code_text(link, english(), DISCORD).startswith(
        "That link has no `?code=`"
    )
    assert report_words.not_a_code_text(link, english(), TELEGRAM).startswith(
        "That link has no <code>?code=</code>"
    )


def test_a_hostile_code_is_written_harmlessly_on_each_platform() -> None:
    discord_text, telegram_text = receipt_texts(
        Receipt(code=HOSTILE, game=GENSHIN, refusal=Refusal.ALREADY_REJECTED)
    )
    # Discord keeps only what a code can hold; Telegram escapes it inside <code>.
    assert discord_text.startswith("`b_x_beveryone` (**Genshin Impact**)")
    assert telegram_text.startswith(
        "<code>&lt;b&gt;*_x_*&lt;/b&gt; @everyone</code> (<b>Genshin Impact</b>)"
    )


def test_a_hostile_credit_and_rewards_are_escaped_in_each_platforms_way() -> None:
    hostile = report(credit=HOSTILE[:32], rewards=HOSTILE)
    discord_record = report_words.record_text(hostile, english(), DISCORD)
    telegram_record = report_words.record_text(hostile, english(), TELEGRAM)
    assert "\\*\\_x\\_\\*" in discord_record
    assert "@everyone" not in discord_record
    assert "&lt;b&gt;*_x_*&lt;/b&gt;" in telegram_record
    assert "<b>" not in telegram_record
    assert "@\u2060everyone" in telegram_record
    assert plain(discord_record, DISCORD).replace("\u200b", "") == plain(telegram_record, TELEGRAM)
    for markup in (DISCORD, TELEGRAM):
        entry = report_words.waiting_entry(hostile, CATALOG, english(), markup)
        assert "*_x_*</b>" not in entry
        assert "@everyone" not in entry


def test_the_moderation_post_says_the_same_on_both_platforms() -> None:
    decided = report(
        state=SubmissionState.REJECTED, decided_by="Ada <b>", reason="**expired** already"
    )
    discord_lines = report_words.report_details(decided, english(), DISCORD)
    telegram_lines = report_words.report_details(decided, english(), TELEGRAM)
    assert discord_lines[-1] == "❌ **Rejected** by Ada <b> (\\*\\*expired\\*\\* already)"
    assert telegram_lines[-1] == "❌ <b>Rejected</b> by Ada &lt;b&gt; (**expired** already)"
    assert [plain(t, DISCORD) for t in discord_lines] == [
        plain(t, TELEGRAM) for t in telegram_lines
    ]
    assert plain(discord_lines[1], DISCORD) == (
        "Reported by a player on Telegram: 2 accepted, 1 rejected"
    )


def test_a_report_from_the_shell_reads_as_the_operators_on_both_platforms() -> None:
    for markup in (DISCORD, TELEGRAM):
        record = report_words.record_text(report(platform=OPERATOR.key), english(), markup)
        assert record == "the operator"


def test_a_tap_notice_is_escaped_for_discord_and_left_plain_for_telegram() -> None:
    taken = report(state=SubmissionState.ACCEPTED, decided_by="*Ada*")
    assert discord_texts.tap_answer(taken, False, Action.APPROVE) == (
        "Already accepted by \\*Ada\\*."
    )
    assert telegram_texts.tap_answer(taken, False, False) == "Already accepted by *Ada*."
