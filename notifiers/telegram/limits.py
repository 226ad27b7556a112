"""Telegram's limits, kept before every Bot API call: overall, per chat, per group.

Telegram counts messages when they reach it. What a sender controls is when it starts a
request, and a request reaches Telegram some time between being started and being answered.
So the limits that jitter could break are counted from answers: a message to a chat starts
a full interval after the previous one to that chat was answered, and the overall window
starts a message only once the 30th before it was answered a second ago. Between those
bounds messages are spaced evenly, which keeps the load smooth on both ends.

Messages (sends, copies, edits) count against the published limits. Calls that post
nothing (answering a keyboard tap, getChatMember, getChat) count against none of them, and
Telegram publishes no limit of theirs; they keep to the overall rate anyway, on a budget of
their own, so a burst of taps cannot slow an announcement down, nor the other way round.
On either budget a person waiting for an answer goes before a broadcast (`Priority`).

Paid broadcasts (`allow_paid_broadcast`, Stars per message) raise the overall limit to 1,000
messages a second. A broadcast that may pay takes the free budget when it has a turn right
now, and otherwise a turn on a paid budget of the difference (970 a second): the free rate
is used in full and only what goes beyond it costs Stars.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import IntEnum

from telegram.constants import FloodLimit
from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning

from notifiers.limits import (
    AnsweredWindow,
    KeyedLimiter,
    KeyedLock,
    Pacer,
    PauseGate,
    PriorityLock,
    Rate,
    WindowSlot,
)

# Telegram's published limits (Bot FAQ; telegram.constants.FloodLimit).
OVERALL_RATE = Rate(int(FloodLimit.MESSAGES_PER_SECOND), 1.0)
PAID_RATE = Rate(int(FloodLimit.PAID_MESSAGES_PER_SECOND), 1.0)
PER_CHAT_RATE = Rate(int(FloodLimit.MESSAGES_PER_SECOND_PER_CHAT), 1.0)
PER_GROUP_RATE = Rate(int(FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP), 60.0)
# Sends are spaced this fraction wider than the limit allows; the answer-counted window
# guarantees the limit, the margin keeps that window from being what paces the sends.
SPACING_MARGIN = 0.02
# How far ahead of its slot a send may go, as a fraction of the interval: makes up for
# timers that wake late, without ever bunching sends.
PACER_EARLY = 0.5
# While sends queue, slots lost to timers that woke late are made up, this many seconds'
# worth at most (see Pacer): the event loop's timers wake a millisecond or more late (epoll
# counts in milliseconds), which at the paid rate, a send a millisecond, lost a slot at
# almost every wait.
PACER_CATCH_UP_SECONDS = 0.005
# A 429 with a longer retry_after is a penalty for one chat, not a reason to stop everybody.
MAX_GLOBAL_PAUSE = 60.0
# Two 429s for different chats within this many seconds mean the bot-wide limit was hit.
GLOBAL_429_WINDOW = 1.0
# While both wait, this many replies go before one broadcast message: people first, and an
# announcement still moves during a burst of commands.
REPLIES_PER_BROADCAST = 4


class Priority(IntEnum):
    """Who waits for a call: a person (replies, taps, checks) or nobody (a broadcast).

    Passed to the Bot API methods as `rate_limit_args`; a call without it is a reply.
    """

    REPLY = 1
    BROADCAST = 2


@dataclass
class PaidBroadcast:
    """`rate_limit_args` of a broadcast message that may go as a paid broadcast.

    The rate limiter decides: `paid` says afterwards whether the message went with
    `allow_paid_broadcast` (and so cost Stars) or on the free budget.
    """

    priority: Priority = Priority.BROADCAST
    paid: bool = False


CallArgs = Priority | PaidBroadcast


# Bot API methods that post or change a message, which Telegram's flood limits count.
_MESSAGE_METHODS = ("send", "editmessage", "copymessage", "forwardmessage", "stoppoll")
_NOT_MESSAGES = frozenset({"sendchataction"})


def counts_as_message(endpoint: str) -> bool:
    """Whether a Bot API method posts or changes a message (sendMessage, editMessageText…)."""
    name = endpoint.lower()
    return name.startswith(_MESSAGE_METHODS) and name not in _NOT_MESSAGES


def retry_after_seconds(error: RetryAfter) -> float:
    # PTB 22 warns on the int form of retry_after; both forms mean seconds.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return max(seconds, 0.0)


@dataclass(frozen=True)
class TelegramLimits:
    """The limits a sender keeps; None turns one off (benchmarks against an unlimited fake)."""

    overall: Rate | None = OVERALL_RATE
    per_chat: Rate | None = PER_CHAT_RATE
    per_group: Rate | None = PER_GROUP_RATE
    margin: float = SPACING_MARGIN
    # Every message together when paying for broadcasts; None: paid broadcasts are off.
    paid: Rate | None = None

    def scaled(self, factor: float) -> TelegramLimits:
        """Every rate `factor` times faster (tests and benchmarks on a sped-up fake)."""

        def faster(rate: Rate | None) -> Rate | None:
            return None if rate is None else Rate(rate.count, rate.seconds / factor)

        return replace(
            self,
            overall=faster(self.overall),
            per_chat=faster(self.per_chat),
            per_group=faster(self.per_group),
            paid=faster(self.paid),
        )

    @classmethod
    def unlimited(cls) -> TelegramLimits:
        return cls(overall=None, per_chat=None, per_group=None)


def spaced(rate: Rate, margin: float) -> Rate:
    """One send per interval, evenly spaced.

    aiolimiter is a leaky bucket: `AsyncLimiter(30, 1)` lets 30 through at once and then one
    every 1/30 s, so up to 59 in the first second, which breaks a sliding-window limit such
    as Telegram's. Evenly spaced sends never do, and they spread the load on both ends.
    """
    return Rate(1, rate.seconds / rate.count * (1 + margin))


def is_group(chat_id: str) -> bool:
    """Groups, supergroups and channels have negative ids; private chats positive ones."""
    return chat_id.startswith("-")


class ChatGaps:
    """One message at a time to a chat, each starting `gap` seconds after the last was
    answered (or later, while a 429 holds the chat).

    Memory holds only chats sent to within the last `gap` seconds, held, or busy now.
    """

    def __init__(self, gap: float) -> None:
        self.gap = gap
        self._turns = KeyedLock()
        # When each recently used chat may get its next message, soonest first (mostly).
        self._not_before: OrderedDict[str, float] = OrderedDict()

    async def acquire(self, chat_id: str) -> None:
        await self._turns.acquire(chat_id)
        try:
            # A loop, not an Event: a 429 may hold the chat longer while this send waits.
            while (wait := self._not_before.get(chat_id, 0.0) - time.monotonic()) > 0:  # noqa: ASYNC110
                await asyncio.sleep(wait)
        except BaseException:
            self._turns.release(chat_id)
            raise

    def release(self, chat_id: str) -> None:
        now = time.monotonic()
        self._remember(chat_id, now + self.gap)
        while self._not_before and next(iter(self._not_before.values())) < now:
            self._not_before.popitem(last=False)
        self._turns.release(chat_id)

    def hold(self, chat_id: str, seconds: float) -> None:
        """Telegram asked for a pause in this chat: nothing goes there for `seconds`."""
        self._remember(chat_id, time.monotonic() + seconds)

    def _remember(self, chat_id: str, at: float) -> None:
        self._not_before[chat_id] = max(at, self._not_before.get(chat_id, 0.0))
        self._not_before.move_to_end(chat_id)

    def __len__(self) -> int:
        return len(self._turns) + len(self._not_before)


@dataclass
class Turn:
    """A call's permission; `SendLimits.done` must get it back when the call is answered."""

    chat_id: str | None
    slot: WindowSlot | None
    # Taken on the paid budget: the message must go with allow_paid_broadcast.
    paid: bool = False


class _Budget:
    """Calls spaced evenly under one overall rate, urgent ones first."""

    def __init__(self, rate: Rate | None, margin: float, *, answered_window: bool) -> None:
        self._lock = PriorityLock(patience=REPLIES_PER_BROADCAST)
        self._pacer: Pacer | None = None
        self._window: AnsweredWindow | None = None
        if rate is None:
            return
        interval = spaced(rate, margin).seconds
        self._pacer = Pacer(
            interval, early=interval * PACER_EARLY, catch_up=PACER_CATCH_UP_SECONDS
        )
        if answered_window:
            count = max(1, int(rate.count))
            self._window = AnsweredWindow(count, rate.seconds * count / rate.count)

    def turn_now(self) -> tuple[bool, WindowSlot | None]:
        """A turn without waiting: (True, its slot, None without a window), or (False, None)
        when taking one would mean waiting (the budget is busy, or its rate used up)."""
        if self._pacer is None:
            return True, None
        if self._lock.locked or not self._pacer.ready():
            return False, None
        slot = self._window.try_acquire() if self._window is not None else None
        if self._window is not None and slot is None:
            return False, None
        self._pacer.take()
        return True, slot

    async def turn(self, priority: Priority) -> WindowSlot | None:
        if self._pacer is None:
            return None
        # Held while waiting for the window and the pacer: whoever is most urgent when the
        # lock is handed on gets the next slot.
        queued = self._lock.locked
        await self._lock.acquire(priority)
        try:
            slot = await self._window.acquire() if self._window is not None else None
            try:
                await self._pacer.acquire(queued=queued)
            except BaseException:
                if slot is not None:
                    slot.answered()  # a slot never answered would stop the window
                raise
            return slot
        finally:
            self._lock.release()


class SendLimits:
    """Waits until a call keeps every limit; one per bot (the limits are per bot)."""

    def __init__(self, limits: TelegramLimits, pause: PauseGate | None = None) -> None:
        self.limits = limits
        self.pause = pause or PauseGate()
        self._messages = _Budget(limits.overall, limits.margin, answered_window=True)
        self._calls = _Budget(limits.overall, limits.margin, answered_window=False)
        # What paying adds to the free rate: both budgets together keep the paid limit.
        self._paid = (
            _Budget(
                Rate(limits.paid.count - limits.overall.count, limits.paid.seconds),
                limits.margin,
                answered_window=True,
            )
            if limits.paid is not None
            and limits.overall is not None
            and limits.paid.count > limits.overall.count
            and limits.paid.seconds == limits.overall.seconds
            else None
        )
        self._chats = (
            ChatGaps(spaced(limits.per_chat, limits.margin).seconds)
            if limits.per_chat is not None
            else None
        )
        # 20 a minute to a group: sends 3 s apart. Jitter is nothing against such a gap, and a
        # spacing needs no memory of a group's last 20 sends.
        self._groups = (
            KeyedLimiter(spaced(limits.per_group, limits.margin))
            if limits.per_group is not None
            else None
        )
        self._recent_429: OrderedDict[str | None, float] = OrderedDict()

    async def wait_turn(
        self,
        chat_id: str | None,
        priority: Priority = Priority.BROADCAST,
        *,
        message: bool = True,
        may_pay: bool = False,
    ) -> Turn:
        """Wait for a message to `chat_id` (or, with `message` off, another call) to go.

        With `may_pay`, a message that would wait for the free rate goes as a paid broadcast
        instead (`Turn.paid`), when paid broadcasts are on."""
        chats = self._chats if message and chat_id is not None else None
        if chats is not None and chat_id is not None:
            await chats.acquire(chat_id)
        try:
            if message and self._groups is not None and chat_id and is_group(chat_id):
                await self._groups.limiter(chat_id).acquire()
            chat = chat_id if chats is not None else None
            if message and may_pay and self._paid is not None:
                return await self._paid_or_free_turn(chat, priority)
            slot = await self._overall_turn(self._messages if message else self._calls, priority)
            return Turn(chat, slot)
        except BaseException:
            if chats is not None and chat_id is not None:
                chats.release(chat_id)
            raise

    async def _paid_or_free_turn(self, chat_id: str | None, priority: Priority) -> Turn:
        assert self._paid is not None
        while True:
            await self.pause.wait()
            now, free = self._messages.turn_now()
            if now:
                return Turn(chat_id, free)
            slot = await self._paid.turn(priority)
            if not self.pause.paused:
                return Turn(chat_id, slot, paid=True)
            if slot is not None:
                slot.answered()

    async def _overall_turn(self, budget: _Budget, priority: Priority) -> WindowSlot | None:
        while True:
            await self.pause.wait()
            slot = await budget.turn(priority)
            # A 429 may have closed the gate while this call queued for its slot; going now
            # would hit the same wall. The slot is given up, not banked.
            if not self.pause.paused:
                return slot
            if slot is not None:
                slot.answered()

    def done(self, turn: Turn) -> None:
        """The call was answered (or failed): the windows count from now."""
        if turn.slot is not None:
            turn.slot.answered()
        if self._chats is not None and turn.chat_id is not None:
            self._chats.release(turn.chat_id)

    def rate_limited(self, chat_id: str | None, retry_after: float) -> str:
        """Record a 429 (after `done`); pause every call when it looks bot-wide, else hold
        that chat. Returns the scope."""
        now = time.monotonic()
        while self._recent_429 and next(iter(self._recent_429.values())) < now - GLOBAL_429_WINDOW:
            self._recent_429.popitem(last=False)
        others = any(chat != chat_id for chat in self._recent_429)
        self._recent_429[chat_id] = now
        self._recent_429.move_to_end(chat_id)
        # Per-chat and per-group limits are kept above, so a 429 to a private chat, to no
        # chat at all, or to several chats at once, points at the overall limit: stop
        # everybody, not one chat.
        bot_wide = chat_id is None or not is_group(chat_id) or others
        if retry_after <= MAX_GLOBAL_PAUSE and bot_wide:
            self.pause.pause(retry_after)
            return "global"
        if chat_id is not None and self._chats is not None:
            self._chats.hold(chat_id, retry_after)
        return "chat"
