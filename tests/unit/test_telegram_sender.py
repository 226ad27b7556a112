"""Telegram error classification and the limits the sender keeps before each send."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from notifiers.delivery import Failed, Gone, RateLimited, Retry
from notifiers.limits import AnsweredWindow, Rate
from notifiers.telegram.limits import ChatGaps, SendLimits, TelegramLimits, is_group, spaced
from notifiers.telegram.sender import Migrated, classify


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (RetryAfter(3), RateLimited(3.0)),
        (RetryAfter(timedelta(seconds=7)), RateLimited(7.0)),
        (ChatMigrated(-1001234), Migrated("-1001234")),
        (Forbidden("Forbidden: bot was blocked by the user"), Gone),
        (Forbidden("Forbidden: user is deactivated"), Gone),
        (Forbidden("Forbidden: bot was kicked from the group chat"), Gone),
        (BadRequest("Bad Request: chat not found"), Gone),
        (BadRequest("Bad Request: need administrator rights in the channel chat"), Gone),
        (BadRequest("Bad Request: can't parse entities: unsupported start tag"), Failed),
        (BadRequest("Bad Request: message is too long"), Failed),
        (TimedOut(), Retry),
        (NetworkError("Internal Server Error (500)"), Retry),
        (NetworkError("Bad Gateway (502)"), Retry),
        (InvalidToken("Unauthorized"), Retry),
        (Conflict("Conflict"), Retry),
        (TelegramError("Invalid server response"), Retry),
        (RuntimeError("surprise"), Retry),
    ],
)
def test_errors_are_classified_into_outcomes(error: Exception, expected: object) -> None:
    outcome = classify(error)
    if isinstance(expected, type):
        assert isinstance(outcome, expected), outcome
    else:
        assert outcome == expected


def test_gone_keeps_telegrams_reason() -> None:
    assert classify(Forbidden("Forbidden: bot was blocked by the user")) == Gone(
        "Forbidden: bot was blocked by the user"
    )


def test_groups_and_channels_are_told_by_their_negative_ids() -> None:
    assert is_group("-1001234567890")
    assert is_group("-5001")
    assert not is_group("123456")


def test_spacing_keeps_a_sliding_window_with_margin() -> None:
    interval = spaced(Rate(30, 1.0), 0.02)
    assert interval.count == 1
    assert interval.seconds == pytest.approx(1.02 / 30)


def test_scaled_limits_are_faster_by_the_factor() -> None:
    limits = TelegramLimits().scaled(10)
    assert limits.overall == Rate(30, 0.1)
    assert limits.per_group == Rate(20, 6.0)


async def test_a_chat_gets_its_next_send_a_gap_after_the_last_answer() -> None:
    gaps = ChatGaps(0.05)
    await gaps.acquire("42")
    await asyncio.sleep(0.03)  # the request is in flight
    gaps.release("42")
    answered = time.monotonic()
    await gaps.acquire("42")
    assert time.monotonic() - answered >= 0.05 * 0.99
    gaps.release("42")


async def test_sends_to_one_chat_wait_for_each_other() -> None:
    gaps = ChatGaps(0.0)
    order: list[str] = []

    async def send(name: str) -> None:
        await gaps.acquire("42")
        order.append(f"{name} starts")
        await asyncio.sleep(0.01)
        order.append(f"{name} answered")
        gaps.release("42")

    await asyncio.gather(send("a"), send("b"))
    assert order == ["a starts", "a answered", "b starts", "b answered"]


async def test_chat_gaps_forget_chats_once_their_gap_is_over() -> None:
    gaps = ChatGaps(0.01)
    for chat in range(100):
        await gaps.acquire(str(chat))
        gaps.release(str(chat))
    await asyncio.sleep(0.02)
    await gaps.acquire("last")
    gaps.release("last")
    assert len(gaps) == 1


async def test_the_window_counts_from_answers_so_late_arrivals_cannot_bunch_up() -> None:
    window = AnsweredWindow(2, 0.05)
    first = await window.acquire()
    second = await window.acquire()
    await asyncio.sleep(0.03)  # the first request took long to reach the server and answer
    first.answered()
    answered = time.monotonic()
    second.answered()
    third = await window.acquire()
    assert time.monotonic() - answered >= 0.05 * 0.99
    third.answered()


@pytest.mark.timing
async def test_overall_rate_never_exceeds_the_limit_in_any_window() -> None:
    # 30 per 0.1 s (the real limit, ten times faster), many chats at once.
    limits = SendLimits(TelegramLimits(per_chat=None, per_group=None).scaled(10))
    times: list[float] = []

    async def send(chat: int) -> None:
        turn = await limits.wait_turn(str(chat))
        times.append(time.monotonic())
        await asyncio.sleep(0.001)  # the round trip
        limits.done(turn)

    await asyncio.gather(*(send(chat) for chat in range(90)))
    times.sort()
    for index in range(30, len(times)):
        assert times[index] - times[index - 30] >= 0.1
    # and not far below it: 90 sends at 300/s take about 0.3 s (more on a busy machine)
    assert times[-1] - times[0] < 0.6


async def test_a_429_to_a_private_chat_pauses_every_send() -> None:
    limits = SendLimits(TelegramLimits.unlimited())
    assert limits.rate_limited("42", 0.2) == "global"
    started = time.monotonic()
    limits.done(await limits.wait_turn("43"))
    assert time.monotonic() - started >= 0.19


async def test_a_single_429_to_a_group_holds_only_that_group() -> None:
    limits = SendLimits(TelegramLimits.unlimited())
    assert limits.rate_limited("-1001", 5) == "chat"
    assert not limits.pause.paused
    # a second group answering 429 at once points at the bot-wide limit
    assert limits.rate_limited("-1002", 0.1) == "global"
    assert limits.pause.paused


def test_a_long_penalty_never_pauses_everybody() -> None:
    limits = SendLimits(TelegramLimits.unlimited())
    assert limits.rate_limited("42", 3600) == "chat"
    assert not limits.pause.paused
