"""What the target kinds named by a URL share: their targets, failure streaks and service.

A Discord webhook, a JSON webhook and an Apprise URL have no bot to log in and no commands
to listen for. Their subscriptions carry a target's key as the chat id; the URL (a secret)
is read from the targets table by `TargetBook`, which also keeps each target's streak of
failed attempts: a success ends it, and a target failing `max_failures` times in a row is
disabled, its subscriptions ended as if it were gone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.domain import Announcement, Platform
from bot.store import repository
from bot.store.outbox import Delivery
from notifiers.delivery import Failed, Gone, Outcome, RateLimited, Retry, Sent
from notifiers.expiry import ExpiryWatcher, stop_task

log = logging.getLogger(__name__)

# Failed attempts in a row after which a target is disabled (the default of
# CODECAST_TARGET_MAX_FAILURES): with the outbox's backoff, a few announcements' worth of
# retries, about an hour of a receiver that answers nothing but errors.
MAX_FAILURES = 20
# A target read from the database is used this long before it is read again.
TARGET_CACHE_SECONDS = 30.0
TARGET_CACHE_SIZE = 1_000
# A success is written at once after failures; otherwise at most this often per target.
SUCCESS_WRITE_INTERVAL = timedelta(minutes=10)


class TargetBook:
    """Targets by key for a sender, and the record of what each attempt came to."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        platform: Platform,
        *,
        clock: Callable[[], datetime],
        max_failures: int = MAX_FAILURES,
    ) -> None:
        self.sessions = sessions
        self.platform = platform
        self.clock = clock
        self.max_failures = max_failures
        self._cache: OrderedDict[str, tuple[float, repository.Target | None]] = OrderedDict()

    async def target(self, key: str) -> repository.Target | None:
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        async with self.sessions() as session:
            found = await repository.get_target(session, key)
        self._remember(key, found)
        return found

    def _remember(self, key: str, target: repository.Target | None) -> None:
        self._cache[key] = (time.monotonic() + TARGET_CACHE_SECONDS, target)
        self._cache.move_to_end(key)
        while len(self._cache) > TARGET_CACHE_SIZE:
            self._cache.popitem(last=False)

    async def settle(self, target: repository.Target, outcome: Outcome) -> Outcome:
        """Record an attempt's outcome on its target; a streak that reached the limit turns
        the outcome into Gone, so the worker ends the target's subscriptions."""
        now = self.clock()
        match outcome:
            case Sent():
                due = target.last_success_at is None or (
                    now - target.last_success_at >= SUCCESS_WRITE_INTERVAL
                )
                if target.failures or due:
                    async with self.sessions.begin() as session:
                        await repository.record_target_success(session, target.key, now=now)
                    self._cache.pop(target.key, None)
                return outcome
            case Retry(error) | Failed(error):
                async with self.sessions.begin() as session:
                    streak = await repository.record_target_failure(
                        session, target.key, error=error, now=now, limit=self.max_failures
                    )
                self._cache.pop(target.key, None)
                if streak >= self.max_failures:
                    log.warning(
                        "%s target %s disabled after %d failures in a row: %s",
                        self.platform,
                        target.label,
                        streak,
                        error,
                    )
                    return Gone(f"disabled after {streak} failures in a row: {error}")
                return outcome
            case Gone(reason):
                async with self.sessions.begin() as session:
                    await repository.disable_target(session, target.key, reason=reason, now=now)
                self._cache.pop(target.key, None)
                return outcome
            case RateLimited():
                return outcome
        return outcome


class TargetSender(Protocol):
    """A sender of a URL-named kind: opened when its service starts, closed when it stops."""

    platform: Platform
    ready: bool

    async def send(self, delivery: Delivery, announcement: Announcement) -> Outcome: ...

    async def open(self) -> None: ...

    async def close(self) -> None: ...


class TargetService:
    """The `ChatService` of a kind without a bot: nothing to log in to or listen for.

    `can_edit` says whether its messages can be edited in place (codes struck when they
    expire): a Discord webhook's can; a JSON POST or an Apprise notification cannot.
    """

    def __init__(
        self, sender: TargetSender, *, can_edit: bool, expiry: ExpiryWatcher | None = None
    ) -> None:
        if can_edit != (expiry is not None):
            raise ValueError("a kind that can edit needs its expiry editor, and only then")
        self.platform = sender.platform
        self.sender = sender
        self.can_edit = can_edit
        self.expiry = expiry
        self._expiry_task: asyncio.Task[None] | None = None

    async def start(self, *, commands: bool = True) -> None:
        await self.sender.open()
        self.sender.ready = True
        if commands and self.expiry is not None:
            # As with the bots: with the commands there is one such process, so each edit is
            # made once.
            self._expiry_task = asyncio.create_task(
                self.expiry.run(), name=f"{self.platform}-expiry"
            )

    async def stop(self) -> None:
        self.sender.ready = False
        await stop_task(self._expiry_task)
        self._expiry_task = None
        await self.sender.close()
