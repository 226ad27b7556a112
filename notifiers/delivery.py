"""The delivery worker both platforms share: claim, send within limits, classify, record.

A platform plugs in a `Sender`, which turns one announcement into one message for one chat
and says what happened as an `Outcome` value. Everything else — claiming rows with a lease,
limits, retries with backoff, ending subscriptions of chats that are gone, writing outcomes
back — lives here, once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.domain import Announcement, Platform
from bot.core.waiting import wait_set
from bot.store import outbox, repository
from bot.store.outbox import Delivery

log = logging.getLogger(__name__)


# --- outcomes: what a send came to, as values -------------------------------------------


@dataclass(frozen=True)
class Sent:
    message_id: str | None


@dataclass(frozen=True)
class RateLimited:
    """The platform said 429: try again after `retry_after` seconds; not a failure."""

    retry_after: float
    scope: str = "chat"


@dataclass(frozen=True)
class Retry:
    """A transient failure (network, 5xx): try again later with backoff."""

    error: str


@dataclass(frozen=True)
class Gone:
    """The chat is gone for the bot (blocked, kicked, deleted, no access): end it."""

    reason: str


@dataclass(frozen=True)
class Failed:
    """A permanent error for this message only (e.g. a bad request): do not retry."""

    error: str


Outcome = Sent | RateLimited | Retry | Gone | Failed


class Sender(Protocol):
    """What a platform provides to the worker."""

    platform: Platform

    async def send(self, delivery: Delivery, announcement: Announcement) -> Outcome:
        """Send one announcement to one chat, within the platform's limits."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: float = 5.0
    max_delay: float = 3600.0

    def delay(self, attempts: int) -> float:
        """Exponential backoff with full jitter after `attempts` failed attempts."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** max(0, attempts - 1)))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security


@dataclass
class WorkerStats:
    sent: int = 0
    rate_limited: int = 0
    retried: int = 0
    gone: int = 0
    failed: int = 0


class DeliveryWorker:
    """Drains the outbox of one platform.

    At most `concurrency` sends are in flight, and outcomes are written back in small batches
    (at most `flush_size` rows or `flush_interval` seconds old). After a crash, at most
    `concurrency + flush_size` messages can be sent twice: the duplicate bound.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sender: Sender,
        *,
        clock: Callable[[], datetime],
        worker_id: str | None = None,
        batch_size: int = 200,
        concurrency: int = 16,
        flush_size: int = 50,
        flush_interval: float = 0.2,
        lease: timedelta = timedelta(minutes=2),
        idle_poll: float = 1.0,
        retry: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.sessions = sessions
        self.sender = sender
        self.platform = sender.platform
        self.clock = clock
        # Host and pid say which process sent a row (kept on sent rows); the suffix tells
        # two workers of one process apart.
        self.worker_id = worker_id or (
            f"{sender.platform}-{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        )
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.flush_size = flush_size
        self.flush_interval = flush_interval
        self.lease = lease
        self.idle_poll = idle_poll
        self.retry = retry
        self.stats = WorkerStats()
        self._wake = asyncio.Event()
        self._announcements: OrderedDict[int, asyncio.Future[Announcement]] = OrderedDict()
        # When the lease of each claimed row not yet started ends, as far as this worker
        # knows (its claim, then each renewal that found the lease still running).
        self._leases: dict[int, datetime] = {}
        # Rows claimed whose outcome is not written yet: never claimed again by this worker,
        # even when a lease ran out (a busy machine), since they may be sent already.
        self._held: set[int] = set()

        self._pending: list[tuple[Delivery, Outcome]] = []
        self._flush_lock = asyncio.Lock()
        # Sends started whose outcome is not committed yet, and who waits for that to drop.
        self._unconfirmed = 0
        self._confirmed = asyncio.Condition()

    @property
    def duplicate_bound(self) -> int:
        return self.concurrency + self.flush_size

    def wake(self) -> None:
        """New rows were queued: look now instead of at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver forever; survives database outages by waiting and trying again."""
        failures = 0
        while True:
            try:
                handled = await self.deliver_due()
                failures = 0
            except (SQLAlchemyError, OSError) as exc:
                failures += 1
                delay = min(30.0, 0.5 * 2**failures)
                log.warning(
                    "%s delivery: database unavailable (%s); retrying in %.1fs",
                    self.platform,
                    type(exc).__name__,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            if handled == 0:
                self._wake.clear()
                await wait_set(self._wake, self.idle_poll)

    async def drain(self, *, wait_for_retries: float = 30.0) -> WorkerStats:
        """Deliver until nothing is due; wait for retries due within `wait_for_retries` s."""
        while True:
            if await self.deliver_due():
                continue
            async with self.sessions() as session:
                due = await outbox.next_due_at(session, self.platform)
            if due is None:
                return self.stats
            wait = (due - self.clock()).total_seconds()
            if wait > wait_for_retries:
                return self.stats
            await asyncio.sleep(max(0.05, wait))

    async def deliver_batch(self) -> int:
        """Claim one batch of due rows, send them, record the outcomes; returns how many."""
        return await self._stream(claims=1)

    async def deliver_due(self) -> int:
        """Send every row that is due, as one stream; returns how many were handled.

        The next batch is claimed while the current one's last sends are still in flight
        (when fewer than `refill_at` claimed rows wait for a sender), so sends never stop
        for the database between batches: at a platform's full rate a pause of one claim
        and one final flush per batch costs a few percent of the limit.
        """
        return await self._stream(claims=None)

    @property
    def refill_at(self) -> int:
        return self.concurrency

    async def _stream(self, *, claims: int | None) -> int:
        waiting: deque[Delivery] = deque()
        # Set by a sender when the rows waiting run low; cleared by the claimer.
        hungry = asyncio.Event()
        hungry.set()
        # Set when a claim found rows or found none (then `done`): senders wait on it.
        arrived = asyncio.Event()
        done = False
        handled = 0

        async def claimer() -> None:
            nonlocal done, handled
            made = 0
            try:
                while claims is None or made < claims:
                    await hungry.wait()
                    hungry.clear()
                    batch = await self._claim()
                    made += 1
                    if not batch:
                        break
                    handled += len(batch)
                    waiting.extend(batch)
                    arrived.set()
            finally:
                done = True
                arrived.set()

        async def lane() -> None:
            while True:
                if not waiting:
                    if done:
                        return
                    arrived.clear()
                    await arrived.wait()
                    continue
                delivery = waiting.popleft()
                if len(waiting) < self.refill_at:
                    hungry.set()
                await self._deliver(delivery)

        stop = asyncio.Event()
        flusher = asyncio.create_task(self._flush_periodically(stop))
        try:
            # A failed claim (the database is down) ends the stream once the rows already
            # claimed are sent, and is raised then; lanes do not fail (see `_deliver`).
            results = await asyncio.gather(
                claimer(), *(lane() for _ in range(self.concurrency)), return_exceptions=True
            )
            for result in results:
                if isinstance(result, BaseException):
                    raise result
        finally:
            # Stopped, not cancelled: a cancel landing inside a write would leave that
            # transaction to the database driver's thread (holding SQLite's write lock) and
            # the batch queued again although it was written.
            stop.set()
            await flusher
            await self._flush()
            if waiting:
                # Claimed but never started (the worker is stopping): due again at once for
                # any worker, instead of after the lease.
                await self._release([d.id for d in waiting])
            for delivery in waiting:
                self._leases.pop(delivery.id, None)
                self._held.discard(delivery.id)
        return handled

    def _still_leased(self, delivery: Delivery) -> bool:
        """Whether the row is surely still this worker's for a while: a row whose lease ran
        out before a renewal reached it may have been claimed by another worker since, and
        sending it here too would repeat the message. Such a row is left to whoever has it."""
        end = self._leases.pop(delivery.id, None)
        if end is not None and self.clock() < end - self.lease / 3:
            return True
        self._held.discard(delivery.id)
        log.info(
            "%s delivery %d: its lease ran out before it was sent; left to the next claim",
            self.platform,
            delivery.id,
        )
        return False

    async def _claim(self) -> list[Delivery]:
        now = self.clock()
        async with self.sessions.begin() as session:
            claimed = await outbox.claim_due(
                session,
                self.platform,
                worker=self.worker_id,
                limit=self.batch_size,
                lease=self.lease,
                now=now,
                exclude=self._held,
            )
        for delivery in claimed:
            self._leases[delivery.id] = now + self.lease
            self._held.add(delivery.id)
        return claimed

    async def _release(self, ids: list[int]) -> None:
        try:
            async with self.sessions.begin() as session:
                await outbox.release(session, ids, worker=self.worker_id)
        except (SQLAlchemyError, OSError) as exc:
            log.warning(
                "%s delivery: %d claimed rows wait for their lease to end (%s)",
                self.platform,
                len(ids),
                type(exc).__name__,
            )

    async def _deliver(self, delivery: Delivery) -> None:
        # Back-pressure: a send starts only while fewer than `duplicate_bound` sends
        # await the commit of their outcome (a slow database holds new sends back), so
        # the messages a crash could send again never exceed that bound.
        async with self._confirmed:
            await self._confirmed.wait_for(lambda: self._unconfirmed < self.duplicate_bound)
            if not self._still_leased(delivery):
                return
            self._unconfirmed += 1
        try:
            announcement = await self._announcement(delivery.announcement_id)
            outcome = await self.sender.send(delivery, announcement)
        except SQLAlchemyError as exc:
            # The announcement could not be read (or a sender's own database work
            # failed): the database is down or restarting.
            log.warning(
                "%s delivery %d: database unavailable (%s); will retry",
                self.platform,
                delivery.id,
                type(exc).__name__,
            )
            outcome = Retry(f"database unavailable: {type(exc).__name__}")
        except Exception as exc:
            # A sender must classify its errors; an unexpected one is logged with its
            # traceback and retried like a transient failure, never lost.
            log.exception(
                "%s delivery %d to %s crashed", self.platform, delivery.id, delivery.chat_id
            )
            outcome = Retry(f"unexpected error: {type(exc).__name__}")
        self._pending.append((delivery, outcome))
        if len(self._pending) >= self.flush_size:
            await self._try_flush()

    async def _flush_periodically(self, stop: asyncio.Event) -> None:
        renewer = asyncio.create_task(self._renew_periodically(stop))
        try:
            while not stop.is_set():
                await wait_set(stop, self.flush_interval)
                await self._try_flush()
        finally:
            await renewer

    async def _renew_periodically(self, stop: asyncio.Event) -> None:
        """Every third of the lease, extend the lease of every row still held, on a timer of
        its own so that a slow flush does not hold it back: rows that wait long (a slow
        platform, a busy machine) must not be taken over by another worker meanwhile."""
        every = self.lease.total_seconds() / 3
        while not stop.is_set():
            if await wait_set(stop, every):
                return
            try:
                await self._renew_leases()
            except (SQLAlchemyError, OSError) as exc:
                log.warning(
                    "%s delivery: cannot renew leases (%s)", self.platform, type(exc).__name__
                )

    async def _try_flush(self) -> None:
        """Flush, but keep going through a database outage: the outcomes stay queued (and
        their sends count against the duplicate bound) until a later flush writes them.
        Without this, one failed write would stop the flusher and leave every send waiting
        for a commit that never comes."""
        try:
            await self._flush()
        except (SQLAlchemyError, OSError) as exc:
            log.warning(
                "%s delivery: cannot record outcomes yet, database unavailable (%s)",
                self.platform,
                type(exc).__name__,
            )

    async def _renew_leases(self) -> None:
        now = self.clock()
        async with self.sessions.begin() as session:
            await outbox.renew_leases(
                session,
                self.platform,
                worker=self.worker_id,
                lease=self.lease,
                now=now,
            )
        # Only leases still running when the renewal was committed were surely renewed.
        committed = self.clock()
        for delivery_id, end in self._leases.items():
            if end > committed:
                self._leases[delivery_id] = now + self.lease

    async def _flush(self) -> None:
        async with self._flush_lock:
            if not self._pending:
                return
            batch, self._pending = self._pending, []
            try:
                await self._record(batch)
            except BaseException:
                # Not written: keep them for the next flush (the lease protects the rows).
                self._pending[:0] = batch
                raise
            self._held.difference_update(d.id for d, _ in batch)
            async with self._confirmed:
                self._unconfirmed -= len(batch)
                self._confirmed.notify_all()

    async def _record(self, batch: Sequence[tuple[Delivery, Outcome]]) -> None:
        now = self.clock()
        sent = [(d.id, o.message_id) for d, o in batch if isinstance(o, Sent)]
        async with self.sessions.begin() as session:
            # The common outcome in one statement; the rest (rarer, varied) row by row.
            await outbox.mark_sent_many(session, sent, now=now)
            for delivery, outcome in batch:
                if not isinstance(outcome, Sent):
                    await self._record_one(session, delivery, outcome, now)
        self.stats.sent += len(sent)

    async def _record_one(
        self, session: AsyncSession, delivery: Delivery, outcome: Outcome, now: datetime
    ) -> None:
        match outcome:
            case Sent(message_id):
                self.stats.sent += 1
                await outbox.mark_sent(session, delivery.id, message_id=message_id, now=now)
            case RateLimited(retry_after):
                self.stats.rate_limited += 1
                await outbox.reschedule(
                    session,
                    delivery.id,
                    at=now + timedelta(seconds=retry_after),
                    error=f"rate limited for {retry_after:g}s",
                    count_attempt=False,
                )
            case Retry(error) if delivery.attempts < self.retry.max_attempts:
                self.stats.retried += 1
                delay = self.retry.delay(delivery.attempts)
                log.info(
                    "%s delivery %d to %s: %s; retry %d in %.0fs",
                    self.platform,
                    delivery.id,
                    delivery.chat_id,
                    error,
                    delivery.attempts,
                    delay,
                )
                await outbox.reschedule(
                    session, delivery.id, at=now + timedelta(seconds=delay), error=error
                )
            case Retry(error):
                self.stats.failed += 1
                log.warning(
                    "%s delivery %d to %s failed after %d attempts: %s",
                    self.platform,
                    delivery.id,
                    delivery.chat_id,
                    delivery.attempts,
                    error,
                )
                await outbox.mark_failed(
                    session, delivery.id, error=f"gave up after {delivery.attempts}: {error}"
                )
            case Gone(reason):
                self.stats.gone += 1
                ended = await outbox.mark_gone(session, delivery, reason=reason, now=now)
                log.info(
                    "%s chat %s is gone (%s): %d subscriptions ended",
                    self.platform,
                    delivery.chat_id,
                    reason,
                    ended,
                )
            case Failed(error):
                self.stats.failed += 1
                log.warning(
                    "%s delivery %d to %s failed: %s",
                    self.platform,
                    delivery.id,
                    delivery.chat_id,
                    error,
                )
                await outbox.mark_failed(session, delivery.id, error=error)

    async def _announcement(self, announcement_id: int) -> Announcement:
        cached = self._announcements.get(announcement_id)
        if cached is None:
            # One read per announcement: the senders that need it meanwhile wait for the
            # same read instead of each opening a connection of its own.
            cached = asyncio.ensure_future(self._load_announcement(announcement_id))
            self._announcements[announcement_id] = cached
            while len(self._announcements) > 64:
                self._announcements.popitem(last=False)
        try:
            return await asyncio.shield(cached)
        except BaseException:
            if cached.done() and self._announcements.get(announcement_id) is cached:
                del self._announcements[announcement_id]  # a failed read is tried again
            raise

    async def _load_announcement(self, announcement_id: int) -> Announcement:
        async with self.sessions() as session:
            announcement = await repository.load_announcement(session, announcement_id)
        if announcement is None:
            raise LookupError(f"announcement {announcement_id} does not exist")
        return announcement
