"""Updates in parallel across chats, in order within one, and floods cut short."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Coroutine
from typing import Any

import pytest
from telegram import Update

from notifiers.telegram.service import Webhook, WebhookSecretError, webhook_secret
from notifiers.telegram.updates import (
    Admission,
    ChatOrderedUpdates,
    FloodGuard,
    FloodRule,
    flood_sender,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def command(update_id: int, chat_id: int, user_id: int, text: str = "/codes") -> Update:
    chat_type = "private" if chat_id > 0 else "supergroup"
    data = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": chat_id, "type": chat_type},
            "from": {"id": user_id, "is_bot": False, "first_name": "U"},
            "text": text,
        },
    }
    return Update.de_json(data, None)


def membership(update_id: int, chat_id: int, user_id: int) -> Update:
    member = {"user": {"id": 1, "is_bot": True, "first_name": "bot"}}
    data = {
        "update_id": update_id,
        "my_chat_member": {
            "chat": {"id": chat_id, "type": "supergroup"},
            "from": {"id": user_id, "is_bot": False, "first_name": "U"},
            "date": 0,
            "old_chat_member": {**member, "status": "member"},
            "new_chat_member": {**member, "status": "kicked", "until_date": 0},
        },
    }
    return Update.de_json(data, None)


# --- the flood guard --------------------------------------------------------------------------


def test_a_sender_over_the_rule_is_warned_once_then_ignored_until_quiet_ends() -> None:
    clock = Clock()
    guard = FloodGuard(FloodRule(updates=3, within=10.0, quiet=60.0), clock=clock)
    seen = [guard.admit(7) for _ in range(6)]
    assert seen == [Admission.HANDLE] * 3 + [Admission.WARN] + [Admission.IGNORE] * 2
    assert guard.admit(8) is Admission.HANDLE  # others are not affected
    clock.now += 61
    assert guard.admit(7) is Admission.HANDLE


def test_a_steady_sender_within_the_rule_is_always_handled() -> None:
    clock = Clock()
    guard = FloodGuard(FloodRule(updates=3, within=10.0, quiet=60.0), clock=clock)
    for _ in range(20):
        assert guard.admit(7) is Admission.HANDLE
        clock.now += 3.4


def test_idle_senders_are_forgotten_and_memory_is_bounded() -> None:
    clock = Clock()
    guard = FloodGuard(FloodRule(updates=3, within=1.0, quiet=5.0), clock=clock, max_senders=50)
    for sender in range(40):
        guard.admit(sender)
    clock.now += 6
    guard.admit(1000)
    assert len(guard) == 1
    for sender in range(200):
        guard.admit(sender)
    assert len(guard) <= 51


def test_membership_changes_are_never_counted_as_flooding() -> None:
    assert flood_sender(membership(1, -100, 7)) is None
    assert flood_sender(command(2, -100, 7)) == 7


# --- the update processor ---------------------------------------------------------------------


async def test_one_chat_runs_in_order_while_other_chats_run_alongside() -> None:
    processor = ChatOrderedUpdates(handlers=8, flood=FloodRule(updates=100))
    events: list[str] = []

    async def handle(name: str, seconds: float) -> None:
        events.append(f"{name} start")
        await asyncio.sleep(seconds)
        events.append(f"{name} end")

    await asyncio.gather(
        processor.process_update(command(1, 42, 42), handle("a1", 0.05)),
        processor.process_update(command(2, 42, 42), handle("a2", 0.0)),
        processor.process_update(command(3, 43, 43), handle("b1", 0.0)),
    )
    assert events.index("a1 end") < events.index("a2 start")
    assert events.index("b1 end") < events.index("a1 end")


async def test_a_chat_waiting_for_its_turn_holds_no_handler_place() -> None:
    processor = ChatOrderedUpdates(handlers=2, flood=FloodRule(updates=100))
    release = asyncio.Event()
    events: list[str] = []

    async def slow() -> None:
        await release.wait()
        events.append("a1")

    async def quick(name: str) -> None:
        events.append(name)
        if name == "b1":
            release.set()

    first = asyncio.create_task(processor.process_update(command(1, 42, 42), slow()))
    await asyncio.sleep(0)
    queued = asyncio.create_task(processor.process_update(command(2, 42, 42), quick("a2")))
    other = asyncio.create_task(processor.process_update(command(3, 43, 43), quick("b1")))
    await asyncio.wait_for(asyncio.gather(first, queued, other), 1.0)
    # b1 ran while a1 held one of the two places and a2 waited for a1 without the other.
    assert events == ["b1", "a1", "a2"]


async def test_a_flooding_sender_is_told_once_and_the_rest_is_dropped() -> None:
    told: list[int] = []

    async def slow_down(update: Update, quiet: float) -> None:
        assert update.effective_user is not None
        told.append(update.effective_user.id)

    processor = ChatOrderedUpdates(flood=FloodRule(updates=2, quiet=60.0), slow_down=slow_down)
    handled: list[int] = []
    dropped: list[Coroutine[Any, Any, None]] = []

    async def handle(update_id: int) -> None:
        handled.append(update_id)

    for update_id in range(1, 6):
        work = handle(update_id)
        await processor.process_update(command(update_id, 42, 42), work)
        if update_id not in handled:
            dropped.append(work)
    await processor.process_update(command(9, 43, 43), handle(9))
    assert handled == [1, 2, 9]
    assert told == [42]
    assert all(inspect.getcoroutinestate(c) == inspect.CORO_CLOSED for c in dropped)


# --- the webhook's secret ---------------------------------------------------------------------


def test_a_webhook_without_a_configured_secret_gets_a_random_one() -> None:
    first, second = webhook_secret(None), webhook_secret("")
    assert len(first) >= 40
    assert first != second
    Webhook(url="https://codecast.example/hook", secret=first)


def test_a_configured_secret_telegram_would_refuse_stops_the_start() -> None:
    assert webhook_secret("s3cret-token_1") == "s3cret-token_1"
    with pytest.raises(WebhookSecretError, match="A-Z"):
        webhook_secret("has spaces")
    with pytest.raises(WebhookSecretError):
        webhook_secret("x" * 257)


def test_a_webhook_cannot_be_made_without_a_secret() -> None:
    with pytest.raises(WebhookSecretError):
        Webhook(url="https://codecast.example/hook", secret="")
