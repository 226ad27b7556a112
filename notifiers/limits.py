"""Rate limits a sender obeys before it sends, so that 429s are the exception, not the signal."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass

from aiolimiter import AsyncLimiter


@dataclass(frozen=True)
class Rate:
    """`count` sends per `seconds`."""

    count: float
    seconds: float


class KeyedLimiter:
    """One leaky-bucket limiter per key (chat, channel), created on first use.

    Only keys whose bucket may still hold sends are kept: a key not asked for during a whole
    bucket period, whose bucket is empty, has nothing left to remember, and is forgotten as
    later sends come (the least recently used first). Memory follows the sends of the last
    moments, not the number of subscribers.
    """

    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        # key -> its limiter and when it was last handed out (event loop time).
        self._limiters: OrderedDict[str, tuple[AsyncLimiter, float]] = OrderedDict()

    def limiter(self, key: str) -> AsyncLimiter:
        now = asyncio.get_running_loop().time()
        entry = self._limiters.get(key)
        if entry is None:
            self._forget_idle(now)
            limiter = AsyncLimiter(self.rate.count, self.rate.seconds)
        else:
            limiter = entry[0]
            self._limiters.move_to_end(key)
        self._limiters[key] = (limiter, now)
        return limiter

    def _forget_idle(self, now: float) -> None:
        # The least recently used first. One asked for within a bucket period is kept even
        # when its bucket looks empty: its caller may not have taken its turn yet. One still
        # draining is kept too: forgetting it would let the next send to its key burst early.
        # Those are the keys sent to within a bucket's time, which the overall rate bounds.
        while self._limiters:
            limiter, handed_out = next(iter(self._limiters.values()))
            if now - handed_out < self.rate.seconds or not limiter.has_capacity(self.rate.count):
                break
            self._limiters.popitem(last=False)

    def __len__(self) -> int:
        return len(self._limiters)


class PauseGate:
    """A gate every sender passes; a 429 closes it for everybody until `retry_after` is over.

    Without it, a global 429 answered to one send would be followed by a herd of others
    hitting the same wall.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until = 0.0

    def pause(self, seconds: float) -> None:
        self._until = max(self._until, self._clock() + seconds)

    @property
    def paused(self) -> bool:
        return self._until > self._clock()

    async def wait(self) -> None:
        # A loop, not an Event: another 429 may push the end of the pause further out.
        while (delay := self._until - self._clock()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)


class Pacer:
    """Evenly spaced acquisitions, one per `interval`, each allowed up to `early` s ahead.

    `AsyncLimiter(1, interval)` spaces sends the same way but restarts its clock at every
    wake-up, and event-loop timers wake up to a millisecond late: at hundreds of sends per
    second that costs a quarter of the rate. A pacer keeps its schedule instead (the generic
    cell rate algorithm): after a late send the next may go up to `early` seconds sooner, so
    lateness is made up, never banked beyond `early`. Waiters are served first come, first
    served.

    At a thousand acquisitions a second a timer that wakes a millisecond late has missed a
    whole slot, more than `early` can make up without bunching sends after idle time too.
    So while acquisitions queue (one waited for its slot, or for the one before it), the
    schedule also keeps up to `catch_up` seconds of slots missed that way, and the next
    ones go at once until it is back on time; after idle time it starts afresh. A window
    of answered requests (`AnsweredWindow`), not the pacer, is what keeps a platform's limit.
    """

    def __init__(
        self,
        interval: float,
        *,
        early: float = 0.0,
        catch_up: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if interval <= 0 or not 0 <= early < interval or catch_up < 0:
            raise ValueError("need interval > 0, 0 <= early < interval and catch_up >= 0")
        self.interval = interval
        self.early = early
        self.catch_up = catch_up
        self._clock = clock
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self, *, queued: bool = False) -> None:
        """Wait for the next slot; `queued` says the caller waited behind another caller
        of the same budget (in a lock of its own), so that lateness is made up."""
        queued = queued or self._lock.locked()
        async with self._lock:
            now = self._clock()
            wait = self._next - self.early - now
            if wait > 0:
                await asyncio.sleep(wait)
                now = self._clock()
                queued = True
            # Behind a queue the schedule keeps what late timers lost, up to `catch_up`.
            start = now - self.catch_up if queued else now
            self._next = max(start, self._next) + self.interval

    def ready(self) -> bool:
        """Whether an acquisition now would not wait (nobody waiting, the slot is due)."""
        return not self._lock.locked() and self._next - self.early <= self._clock()

    def take(self) -> None:
        """Acquire without waiting; only right after `ready()` said True."""
        self._next = max(self._clock(), self._next) + self.interval


class AnsweredWindow:
    """At most `count` requests in any `seconds` as the server counts them, whatever the delays.

    A request reaches the server some time between being sent and being answered, and that
    time varies: a new connection, a TLS handshake, a busy CPU on either end. Limiters that
    count sends can then see a request arrive late and the next ones on time, squeezing more
    than `count` into the server's window. Here a request may start only once the `count`-th
    one before it was *answered* at least `seconds` ago, so it arrives at least `seconds`
    after that one did. The cost is one round trip per window.

    `acquire()` returns a slot; call `slot.answered()` when the answer came (or the request
    failed without one), or the window stops; `async with window.slot():` does both around
    a block. Telegram's limiter and Discord's sender share it: neither aiolimiter nor
    discord.py offers it (both count on the client's clock only).
    """

    def __init__(
        self, count: int, seconds: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if count < 1 or seconds <= 0:
            raise ValueError("need count >= 1 and seconds > 0")
        self.window = seconds
        self._clock = clock
        self._slots: deque[WindowSlot] = deque(maxlen=count)
        self._lock = asyncio.Lock()

    async def acquire(self) -> WindowSlot:
        async with self._lock:
            while len(self._slots) == self._slots.maxlen:
                oldest = self._slots[0]
                if oldest.answered_at is None:
                    await oldest.wait()
                    continue
                wait = oldest.answered_at + self.window - self._clock()
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
            slot = WindowSlot(self._clock)
            self._slots.append(slot)
            return slot

    def try_acquire(self) -> WindowSlot | None:
        """A slot now, or None when taking one would mean waiting."""
        if self._lock.locked():
            return None
        if len(self._slots) == self._slots.maxlen:
            oldest = self._slots[0].answered_at
            if oldest is None or oldest + self.window > self._clock():
                return None
        slot = WindowSlot(self._clock)
        self._slots.append(slot)
        return slot

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """A place for the request made inside the block; answered when the block ends."""
        taken = await self.acquire()
        try:
            yield
        finally:
            taken.answered()

    def occupied(self) -> int:
        """Requests that still count: in flight, or answered less than a window ago."""
        horizon = self._clock() - self.window
        return sum(1 for s in self._slots if s.answered_at is None or s.answered_at > horizon)


class WindowSlot:
    """One request's place in an AnsweredWindow.

    A window holds as many slots as its limit counts (1,000 for paid broadcasts), nearly all
    of them answered: an Event is made only for a slot someone waits on, not for every one.
    """

    __slots__ = ("_clock", "_done", "answered_at")

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._done: asyncio.Event | None = None
        self.answered_at: float | None = None

    def answered(self) -> None:
        if self.answered_at is None:
            self.answered_at = self._clock()
            if self._done is not None:
                self._done.set()  # the waiters hold it; the slot needs it no more
                self._done = None

    async def wait(self) -> None:
        if self.answered_at is not None:
            return
        if self._done is None:
            self._done = asyncio.Event()
        await self._done.wait()


class PriorityLock:
    """A lock handed on by priority (lower numbers first), first come first served within one.

    A queue of urgent waiters that never empties would starve the others, so after
    `patience` hand-overs in a row that passed a less urgent waiter by, the least urgent
    one waiting goes next: urgent work gets most of the turns, never all of them.
    """

    def __init__(self, *, patience: int = 4) -> None:
        if patience < 1:
            raise ValueError("need patience >= 1")
        self.patience = patience
        self._locked = False
        self._queues: dict[int, deque[asyncio.Future[None]]] = {}
        self._passed_over = 0

    @property
    def locked(self) -> bool:
        return self._locked

    async def acquire(self, priority: int) -> None:
        if not self._locked and not any(self._queues.values()):
            self._locked = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._queues.setdefault(priority, deque())
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed the lock, then cancelled: hand it on
            elif waiter in queue:
                queue.remove(waiter)
            raise

    def release(self) -> None:
        if not self._locked:
            raise RuntimeError("release of an unlocked PriorityLock")
        while (waiter := self._next()) is not None:
            if not waiter.done():
                waiter.set_result(None)  # the lock passes on, still locked
                return
        self._locked = False

    def _next(self) -> asyncio.Future[None] | None:
        waiting = sorted(p for p, queue in self._queues.items() if queue)
        if not waiting:
            return None
        if len(waiting) > 1 and self._passed_over >= self.patience:
            self._passed_over = 0
            return self._queues[waiting[-1]].popleft()
        self._passed_over = self._passed_over + 1 if len(waiting) > 1 else 0
        return self._queues[waiting[0]].popleft()


@dataclass
class _KeyedEntry:
    lock: asyncio.Lock
    users: int = 0


class KeyedLock:
    """One first-come-first-served lock per key (a chat), kept only while it is held or
    waited for, so memory follows the chats busy now, not every chat ever seen."""

    def __init__(self) -> None:
        self._entries: dict[Hashable, _KeyedEntry] = {}

    async def acquire(self, key: Hashable) -> None:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _KeyedEntry(asyncio.Lock())
        entry.users += 1
        try:
            await entry.lock.acquire()
        except BaseException:
            self._leave(key, entry)
            raise

    def release(self, key: Hashable) -> None:
        entry = self._entries[key]
        entry.lock.release()
        self._leave(key, entry)

    def _leave(self, key: Hashable, entry: _KeyedEntry) -> None:
        entry.users -= 1
        if entry.users == 0:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
