"""How the bot takes its updates: many chats at once, each chat in order, floods cut short.

python-telegram-bot runs every update as its own task and lets `BaseUpdateProcessor` decide
when each one runs. Here updates of different chats run side by side (at most
`handlers` at a time), updates of one chat run one after the other in the order Telegram
sent them (a reply never overtakes the command before it), and a chat waiting for its turn
holds no handler's place. A sender of more than `FloodRule.updates` commands or taps in
`FloodRule.within` seconds is told once to slow down and then not listened to for
`FloodRule.quiet` seconds, so one person can neither starve the others nor the
announcements behind the replies.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import BaseUpdateProcessor

from notifiers.limits import KeyedLock

log = logging.getLogger(__name__)

# Handlers running at once. Most of a handler's time is a database query or a reply waiting
# for its turn under Telegram's limits, so more would only queue in the limiter.
CONCURRENT_HANDLERS = 32
# Updates taken in at once, running or waiting for their chat; more wait in PTB's queue.
ADMITTED_UPDATES = 1024
# Senders whose recent updates are remembered; the idle ones are forgotten first.
MAX_TRACKED_SENDERS = 20_000


@dataclass(frozen=True)
class FloodRule:
    """More than `updates` commands or taps within `within` seconds is a flood."""

    updates: int = 10
    within: float = 10.0
    quiet: float = 60.0


class Admission(Enum):
    HANDLE = "handle"
    WARN = "warn"  # the first update over the rule: say "slow down" once
    IGNORE = "ignore"


@dataclass
class _Sender:
    recent: deque[float] = field(default_factory=deque)
    quiet_until: float = 0.0


class FloodGuard:
    """Counts each sender's updates over a sliding window and says which to handle."""

    def __init__(
        self,
        rule: FloodRule,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_senders: int = MAX_TRACKED_SENDERS,
    ) -> None:
        self.rule = rule
        self.clock = clock
        self.max_senders = max_senders
        self._senders: OrderedDict[int, _Sender] = OrderedDict()

    def admit(self, sender_id: int) -> Admission:
        now = self.clock()
        sender = self._senders.get(sender_id)
        if sender is None:
            sender = self._senders[sender_id] = _Sender()
            self._forget_idle(now)
        else:
            self._senders.move_to_end(sender_id)
        if sender.quiet_until > now:
            return Admission.IGNORE
        recent = sender.recent
        while recent and recent[0] <= now - self.rule.within:
            recent.popleft()
        if len(recent) >= self.rule.updates:
            recent.clear()
            sender.quiet_until = now + self.rule.quiet
            return Admission.WARN
        recent.append(now)
        return Admission.HANDLE

    def _forget_idle(self, now: float) -> None:
        horizon = now - max(self.rule.within, self.rule.quiet)
        while len(self._senders) > 1:
            oldest = next(iter(self._senders.values()))
            last = oldest.recent[-1] if oldest.recent else oldest.quiet_until - self.rule.quiet
            if last > horizon and len(self._senders) <= self.max_senders:
                break
            self._senders.popitem(last=False)

    def __len__(self) -> int:
        return len(self._senders)


def flood_sender(update: Update) -> int | None:
    """Who a command or tap counts against; None for what no one floods with (membership
    changes, service messages), which is always handled."""
    if update.callback_query is not None:
        return update.callback_query.from_user.id
    message = update.message or update.channel_post
    if message is None or not message.text:
        return None
    sender = update.effective_sender
    return sender.id if sender is not None else message.chat.id


def chat_of(update: Update) -> int | None:
    chat = update.effective_chat
    return chat.id if chat is not None else None


def slow_down_text(quiet: float) -> str:
    return f"Slow down, please: I will answer you again in {max(1, round(quiet))} seconds."


async def tell_to_slow_down(update: Update, quiet: float) -> None:
    """The one answer a flooding sender gets (through the same limits as every reply)."""
    text = slow_down_text(quiet)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text)
    except TelegramError as error:
        log.info("telegram: could not ask %s to slow down: %s", flood_sender(update), error)


class ChatOrderedUpdates(BaseUpdateProcessor):
    """PTB's update processor for codecast; see the module docstring."""

    def __init__(
        self,
        *,
        handlers: int = CONCURRENT_HANDLERS,
        admitted: int = ADMITTED_UPDATES,
        flood: FloodRule | None = None,
        slow_down: Callable[[Update, float], Awaitable[None]] = tell_to_slow_down,
    ) -> None:
        super().__init__(max(admitted, handlers))
        self.flood = FloodGuard(flood or FloodRule())
        self._slow_down = slow_down
        self._running = asyncio.Semaphore(handlers)
        self._chats = KeyedLock()

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close: PTB waits for the running updates itself."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # Everything up to the chat's lock runs without yielding, so updates reach their
        # chat's queue in the order PTB started them: the order Telegram sent them.
        admission, chat = Admission.HANDLE, None
        if isinstance(update, Update):
            sender = flood_sender(update)
            if sender is not None:
                admission = self.flood.admit(sender)
            if admission is Admission.IGNORE:
                _drop(coroutine)
                return
            if admission is Admission.WARN:
                _drop(coroutine)
                log.info("telegram: %s floods; quiet for %gs", sender, self.flood.rule.quiet)
                coroutine = self._slow_down(update, self.flood.rule.quiet)
            chat = chat_of(update)
        if chat is None:
            async with self._running:
                await coroutine
            return
        # The "slow down" too comes after the answers before it.
        await self._chats.acquire(chat)
        try:
            async with self._running:
                await coroutine
        finally:
            self._chats.release(chat)


def _drop(coroutine: Awaitable[Any]) -> None:
    """An update not handled: its coroutine is closed, never started (no warning)."""
    if inspect.iscoroutine(coroutine):
        with contextlib.suppress(RuntimeError):
            coroutine.close()
