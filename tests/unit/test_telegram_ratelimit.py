"""Every Bot API call under Telegram's limits: priorities, budgets, 429s waited out."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter

from notifiers.telegram.limits import (
    ChatGaps,
    Priority,
    SendLimits,
    TelegramLimits,
    counts_as_message,
)
from notifiers.telegram.ratelimit import TelegramRateLimiter, chat_key

FAST = TelegramLimits().scaled(10)  # 300 messages/s overall, 10/s per chat


@pytest.fixture(autouse=True)
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns on every int time period unless told to use timedelta already."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("sendMessage", True),
        ("sendmessage", True),
        ("editMessageText", True),
        ("editMessageReplyMarkup", True),
        ("copyMessage", True),
        ("sendChatAction", False),
        ("answerCallbackQuery", False),
        ("getChatMember", False),
        ("getChat", False),
        ("setMyCommands", False),
    ],
)
def test_messages_are_told_from_calls_that_post_nothing(endpoint: str, message: bool) -> None:
    assert counts_as_message(endpoint) is message


def test_chats_are_keyed_as_text_whatever_form_they_came_in() -> None:
    assert chat_key(42) == chat_key("42") == "42"
    assert chat_key("@codes") == "@codes"
    assert chat_key(None) is None


async def test_replies_take_the_overall_turns_before_waiting_broadcasts() -> None:
    limits = SendLimits(TelegramLimits(per_chat=None, per_group=None).scaled(10))
    order: list[str] = []

    async def call(name: str, priority: Priority) -> None:
        turn = await limits.wait_turn(name, priority)
        order.append(name)
        limits.done(turn)

    broadcasts = [call(f"b{i}", Priority.BROADCAST) for i in range(3)]
    replies = [call(f"r{i}", Priority.REPLY) for i in range(3)]
    await asyncio.gather(*broadcasts, *replies)
    # b0 went at once and b1 holds the next slot (waiting out the spacing); the replies,
    # queued after b2, go before it.
    assert order == ["b0", "b1", "r0", "r1", "r2", "b2"]


async def test_calls_that_post_nothing_do_not_use_the_message_budget() -> None:
    limits = SendLimits(TelegramLimits(per_chat=None, per_group=None))  # 30/s
    # Thirty messages' worth of the window is taken by sends still in flight …
    turns = [await limits.wait_turn(str(chat)) for chat in range(30)]
    started = time.monotonic()
    # … and a keyboard answer goes at once, on its own budget.
    limits.done(await limits.wait_turn(None, Priority.REPLY, message=False))
    assert time.monotonic() - started < 0.5
    for turn in turns:
        limits.done(turn)


async def test_a_held_chat_waits_for_the_hold_not_only_for_the_gap() -> None:
    gaps = ChatGaps(0.0)
    await gaps.acquire("-1001")
    gaps.release("-1001")
    gaps.hold("-1001", 0.2)
    started = time.monotonic()
    await gaps.acquire("-1001")
    assert time.monotonic() - started >= 0.19
    gaps.release("-1001")
    await gaps.acquire("-1002")  # other chats do not wait
    assert time.monotonic() - started < 0.3
    gaps.release("-1002")


async def test_a_429_in_a_group_holds_that_group_is_not_forgotten_before_the_hold_ends() -> None:
    limits = SendLimits(TelegramLimits(overall=None, per_group=None).scaled(10))
    turn = await limits.wait_turn("-1001", Priority.REPLY)
    limits.done(turn)
    assert limits.rate_limited("-1001", 0.3) == "chat"
    started = time.monotonic()
    limits.done(await limits.wait_turn("-1001", Priority.REPLY))
    assert time.monotonic() - started >= 0.29


# --- the rate limiter PTB calls --------------------------------------------------------------

Callback = Callable[..., Coroutine[Any, Any, Any]]


def answers(*outcomes: object) -> tuple[Callback, list[float]]:
    """A Bot API stand-in: answers (or raises) `outcomes` in turn, recording call times."""
    calls: list[float] = []
    queue = list(outcomes)

    async def call(*args: Any, **kwargs: Any) -> Any:
        calls.append(time.monotonic())
        outcome = queue.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return call, calls


async def test_a_reply_answered_429_waits_retry_after_and_goes_again() -> None:
    limiter = TelegramRateLimiter(SendLimits(FAST))
    call, calls = answers(RetryAfter(timedelta(seconds=0.3)), {"message_id": 7})
    answer = await limiter.process_request(
        call, (), {}, "sendMessage", {"chat_id": 42, "text": "hi"}, None
    )
    assert answer == {"message_id": 7}
    assert len(calls) == 2
    assert calls[1] - calls[0] >= 0.29


async def test_a_429_to_a_reply_pauses_every_other_call_too() -> None:
    limits = SendLimits(FAST)
    limiter = TelegramRateLimiter(limits)
    call, _ = answers(RetryAfter(timedelta(seconds=0.3)), True)
    retried = asyncio.create_task(
        limiter.process_request(call, (), {}, "sendMessage", {"chat_id": 42}, None)
    )
    await asyncio.sleep(0.05)
    assert limits.pause.paused
    other, other_calls = answers(True)
    started = time.monotonic()
    await limiter.process_request(other, (), {}, "answerCallbackQuery", {}, None)
    assert other_calls[0] - started >= 0.2
    assert await retried is True


async def test_a_broadcast_answered_429_raises_for_the_outbox_to_reschedule() -> None:
    limits = SendLimits(FAST)
    limiter = TelegramRateLimiter(limits)
    call, calls = answers(RetryAfter(timedelta(seconds=2)))
    with pytest.raises(RetryAfter):
        await limiter.process_request(
            call, (), {}, "sendmessage", {"chat_id": "42"}, Priority.BROADCAST
        )
    assert len(calls) == 1
    assert limits.pause.paused  # recorded all the same


async def test_a_reply_gives_up_once_telegram_asks_for_more_than_its_patience() -> None:
    limiter = TelegramRateLimiter(SendLimits(FAST), patience=0.5)
    call, calls = answers(RetryAfter(timedelta(seconds=0.3)), RetryAfter(timedelta(seconds=0.3)))
    with pytest.raises(RetryAfter):
        await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": -5}, None)
    assert len(calls) == 2


async def test_a_failed_call_gives_its_turn_back() -> None:
    limits = SendLimits(FAST)
    limiter = TelegramRateLimiter(limits)
    call, _ = answers(RuntimeError("connection reset"))
    with pytest.raises(RuntimeError):
        await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": 42}, None)
    ok, _ = answers(True)
    # The chat's turn came back: the next call to it is not stuck behind a lost one.
    assert await asyncio.wait_for(
        limiter.process_request(ok, (), {}, "sendMessage", {"chat_id": 42}, None), 1.0
    )
