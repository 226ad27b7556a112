"""Telegram's sending limits, kept before each send: overall, per chat, per group.

Telegram counts messages when they reach it. What a sender controls is when it starts a
request, and a request reaches Telegram some time between being started and being answered.
So the limits that jitter could break are counted from answers: a send to a chat starts a
full interval after the previous send to that chat was answered, and the overall window
starts a send only once the 30th send before it was answered a second ago. Between those
bounds sends are spaced evenly, which keeps the load smooth on both ends.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, replace

from telegram.constants import FloodLimit

from notifiers.limits import AnsweredWindow, KeyedLimiter, Pacer, PauseGate, Rate, WindowSlot

# Telegram's published limits (Bot FAQ; telegram.constants.FloodLimit).
OVERALL_RATE = Rate(int(FloodLimit.MESSAGES_PER_SECOND), 1.0)
PER_CHAT_RATE = Rate(int(FloodLimit.MESSAGES_PER_SECOND_PER_CHAT), 1.0)
PER_GROUP_RATE = Rate(int(FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP), 60.0)
# Sends are spaced this fraction wider than the limit allows; the answer-counted window
# guarantees the limit, the margin keeps that window from being what paces the sends.
SPACING_MARGIN = 0.02
# How far ahead of its slot a send may go, as a fraction of the interval: makes up for
# timers that wake late, without ever bunching sends.
PACER_EARLY = 0.5
# A 429 with a longer retry_after is a penalty for one chat, not a reason to stop everybody.
MAX_GLOBAL_PAUSE = 60.0
# Two 429s for different chats within this many seconds mean the bot-wide limit was hit.
GLOBAL_429_WINDOW = 1.0
# Groups whose spacing is remembered; idle ones are forgotten first (see KeyedLimiter).
MAX_TRACKED_GROUPS = 2_000


@dataclass(frozen=True)
class TelegramLimits:
    """The limits a sender keeps; None turns one off (benchmarks against an unlimited fake)."""

    overall: Rate | None = OVERALL_RATE
    per_chat: Rate | None = PER_CHAT_RATE
    per_group: Rate | None = PER_GROUP_RATE
    margin: float = SPACING_MARGIN

    def scaled(self, factor: float) -> TelegramLimits:
        """Every rate `factor` times faster (tests and benchmarks on a sped-up fake)."""

        def faster(rate: Rate | None) -> Rate | None:
            return None if rate is None else Rate(rate.count, rate.seconds / factor)

        return replace(
            self,
            overall=faster(self.overall),
            per_chat=faster(self.per_chat),
            per_group=faster(self.per_group),
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


@dataclass
class _ChatTurns:
    lock: asyncio.Lock
    users: int = 0


class ChatGaps:
    """One send at a time to a chat, each starting `gap` seconds after the last was answered.

    Memory holds only chats sent to within the last `gap` seconds, or busy now.
    """

    def __init__(self, gap: float) -> None:
        self.gap = gap
        self._busy: dict[str, _ChatTurns] = {}
        self._answered: OrderedDict[str, float] = OrderedDict()

    async def acquire(self, chat_id: str) -> None:
        turns = self._busy.get(chat_id)
        if turns is None:
            turns = self._busy[chat_id] = _ChatTurns(asyncio.Lock())
        turns.users += 1
        try:
            await turns.lock.acquire()
        except BaseException:
            self._leave(chat_id, turns)
            raise
        last = self._answered.get(chat_id)
        if last is not None and (wait := last + self.gap - time.monotonic()) > 0:
            try:
                await asyncio.sleep(wait)
            except BaseException:
                turns.lock.release()
                self._leave(chat_id, turns)
                raise

    def release(self, chat_id: str) -> None:
        now = time.monotonic()
        self._answered[chat_id] = now
        self._answered.move_to_end(chat_id)
        while self._answered and next(iter(self._answered.values())) < now - self.gap:
            self._answered.popitem(last=False)
        turns = self._busy.get(chat_id)
        if turns is not None:
            turns.lock.release()
            self._leave(chat_id, turns)

    def _leave(self, chat_id: str, turns: _ChatTurns) -> None:
        turns.users -= 1
        if turns.users == 0:
            del self._busy[chat_id]

    def __len__(self) -> int:
        return len(self._busy) + len(self._answered)


@dataclass
class Turn:
    """A send's permission; `SendLimits.done` must get it back when the send is answered."""

    chat_id: str
    slot: WindowSlot | None


class SendLimits:
    """Waits until a send to a chat keeps every limit; one per bot (the limits are per bot)."""

    def __init__(self, limits: TelegramLimits, pause: PauseGate | None = None) -> None:
        self.limits = limits
        self.pause = pause or PauseGate()
        self._pacer: Pacer | None = None
        self._window: AnsweredWindow | None = None
        if limits.overall is not None:
            interval = spaced(limits.overall, limits.margin).seconds
            self._pacer = Pacer(interval, early=interval * PACER_EARLY)
            count = max(1, int(limits.overall.count))
            self._window = AnsweredWindow(
                count, limits.overall.seconds * count / limits.overall.count
            )
        self._chats = (
            ChatGaps(spaced(limits.per_chat, limits.margin).seconds)
            if limits.per_chat is not None
            else None
        )
        # 20 a minute to a group: sends 3 s apart. Jitter is nothing against such a gap, and a
        # spacing needs no memory of a group's last 20 sends.
        self._groups = (
            KeyedLimiter(spaced(limits.per_group, limits.margin), max_keys=MAX_TRACKED_GROUPS)
            if limits.per_group is not None
            else None
        )
        self._recent_429: OrderedDict[str, float] = OrderedDict()

    async def wait_turn(self, chat_id: str) -> Turn:
        if self._chats is not None:
            await self._chats.acquire(chat_id)
        try:
            if self._groups is not None and is_group(chat_id):
                await self._groups.limiter(chat_id).acquire()
            return Turn(chat_id, await self._overall_turn())
        except BaseException:
            if self._chats is not None:
                self._chats.release(chat_id)
            raise

    async def _overall_turn(self) -> WindowSlot | None:
        while True:
            await self.pause.wait()
            slot = await self._window.acquire() if self._window is not None else None
            if self._pacer is not None:
                try:
                    await self._pacer.acquire()
                except BaseException:
                    if slot is not None:
                        slot.answered()  # a slot never answered would stop the window
                    raise
            # A 429 may have closed the gate while this send queued for its slot; going now
            # would hit the same wall. The slot is given up, not banked.
            if not self.pause.paused:
                return slot
            if slot is not None:
                slot.answered()

    def done(self, turn: Turn) -> None:
        """The send was answered (or failed): the windows count from now."""
        if turn.slot is not None:
            turn.slot.answered()
        if self._chats is not None:
            self._chats.release(turn.chat_id)

    def rate_limited(self, chat_id: str, retry_after: float) -> str:
        """Record a 429; pause every send when it looks bot-wide. Returns the scope."""
        now = time.monotonic()
        while self._recent_429 and next(iter(self._recent_429.values())) < now - GLOBAL_429_WINDOW:
            self._recent_429.popitem(last=False)
        others = any(chat != chat_id for chat in self._recent_429)
        self._recent_429[chat_id] = now
        self._recent_429.move_to_end(chat_id)
        # Per-chat and per-group limits are kept above, so a 429 to a private chat, or to
        # several chats at once, points at the overall limit: stop everybody, not one chat.
        if retry_after <= MAX_GLOBAL_PAUSE and (not is_group(chat_id) or others):
            self.pause.pause(retry_after)
            return "global"
        return "chat"
