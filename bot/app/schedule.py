"""The poll schedule: each source at its own cadence, in bursts around livestreams.

One loop keeps a due time per source and starts each poll as a task of its own when it is
due, so a slow source delays no other; a source is never polled twice at once. After a poll
its next due time is the poll's start plus its interval (with jitter), the interval being
shorter while its game bursts: for `burst_seconds` after an official source listed a new
code, and inside a livestream window of the catalog.

Due times are read on the event loop's clock and livestream windows on `clock` (UTC), so
that tests can drive hours of polling on a fast-forwarded loop. That is also why this is a
loop of its own rather than APScheduler's interval jobs, which read the wall clock: bursts
and windows move due times at any moment, and the tests must see every move.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from bot.core.cadence import Cadence, follows_bursts, live_now, next_boundary, starts_bursts
from bot.core.domain import Livestream, SourceConfig
from bot.core.waiting import wait_set

log = logging.getLogger(__name__)

# A poll: returns how many codes the source listed for the first time (0 when none, or when
# the poll failed); an official source's new code starts a burst.
Poll = Callable[[SourceConfig], Awaitable[int]]
# Polls of all sources start within this many seconds of the schedule's start (spread, so
# that the first round does not hit every site in the same second).
FIRST_ROUND_SECONDS = 10.0
# The longest sleep of the loop when nothing is due (it wakes for every poll's end anyway).
IDLE_SECONDS = 3600.0
# How long polls cancelled at a stop are given to unwind.
CANCEL_SECONDS = 5.0
# Due times this close are taken as due now (timers may fire a hair early).
_EPSILON = 0.001


def utc_now() -> datetime:
    return datetime.now(UTC)


class PollSchedule:
    """Polls every source at its cadence until stopped; `start()` and `stop()` may repeat."""

    def __init__(
        self,
        sources: Sequence[SourceConfig],
        cadence: Cadence,
        poll: Poll,
        *,
        livestreams: Sequence[Livestream] = (),
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
        first_round: float = FIRST_ROUND_SECONDS,
        resting_until: Callable[[SourceConfig], float | None] | None = None,
    ) -> None:
        self.sources = tuple(sources)
        self.cadence = cadence
        self.livestreams = tuple(livestreams)
        self.clock = clock
        self.first_round = first_round
        # When the source's host rests (loop time), if it does: its next poll waits for that.
        self.resting_until = resting_until or (lambda source: None)
        self._poll = poll
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self._due: dict[str, float] = {}
        self._polls: dict[str, asyncio.Task[None]] = {}
        self._burst_until: dict[str, float] = {}
        self._live: set[str] = set()
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None

    # --- what the schedule says ---------------------------------------------------------------

    def bursting(self, game: str) -> bool:
        now = asyncio.get_running_loop().time()
        return now < self._burst_until.get(game, float("-inf")) or live_now(
            self.livestreams, game, self.clock()
        )

    def interval_of(self, source: SourceConfig) -> float:
        """The source's interval now (before jitter)."""
        return self.cadence.interval(source, bursting=self.bursting(source.game))

    def due_in(self, source_id: str) -> float | None:
        """Seconds until the source's next poll; None while it is being polled."""
        if source_id in self._polls or source_id not in self._due:
            return None
        return max(0.0, self._due[source_id] - asyncio.get_running_loop().time())

    @property
    def polling(self) -> frozenset[str]:
        return frozenset(self._polls)

    # --- running -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start polling: every source within `first_round` seconds, then at its cadence."""
        if self._runner is not None and not self._runner.done():
            return
        now = asyncio.get_running_loop().time()
        for source in self.sources:
            spread = min(self.first_round, self.cadence.base_interval(source))
            self._due[source.id] = now + self._rng.uniform(0.0, spread)
        self._runner = asyncio.create_task(self._run(), name="poll-schedule")

    async def stop(self, grace: float) -> None:
        """Start no more polls; let those under way end (their commits are whole), up to
        `grace` seconds, then cancel what is left."""
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        polls = list(self._polls.values())
        if not polls:
            return
        _, pending = await asyncio.wait(polls, timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            # A poll stuck on a dead connection may take its time to unwind; not forever.
            await asyncio.wait(pending, timeout=CANCEL_SECONDS)

    def burst(self, game: str) -> None:
        """Poll the game's official and wiki sources faster for the next `burst_seconds`."""
        now = asyncio.get_running_loop().time()
        already = self.bursting(game)
        self._burst_until[game] = now + self.cadence.burst_seconds
        if not already:
            log.info(
                "burst: %s's official and wiki sources every %gs for %gs",
                game,
                self.cadence.burst_interval,
                self.cadence.burst_seconds,
            )
        self._pull_in(game, within=self.cadence.burst_interval)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            wall = self.clock()
            self._enter_livestreams(wall)
            now = loop.time()
            for source in self.sources:
                if source.id not in self._polls and self._due[source.id] <= now + _EPSILON:
                    self._polls[source.id] = asyncio.create_task(
                        self._poll_once(source), name=f"poll-{source.id}"
                    )
            waits = [self._due[s.id] - now for s in self.sources if s.id not in self._polls]
            boundary = next_boundary(self.livestreams, wall)
            if boundary is not None:
                waits.append((boundary - wall).total_seconds())
            self._wake.clear()
            await wait_set(self._wake, max(0.0, min(waits, default=IDLE_SECONDS)))

    async def _poll_once(self, source: SourceConfig) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        found = 0
        try:
            found = await self._poll(source)
        except Exception:
            # The poll function logs what it expects; anything else is a bug, and the
            # schedule must go on.
            log.exception("poll of %s failed", source.id)
        finally:
            if found and starts_bursts(source):
                self.burst(source.game)
            interval = self.cadence.jittered(self.interval_of(source), self._rng)
            rest = self.resting_until(source)
            self._due[source.id] = max(started + interval, loop.time(), rest or 0.0)
            del self._polls[source.id]
            self._wake.set()

    def _enter_livestreams(self, wall: datetime) -> None:
        """A livestream window that has just begun: its sources are polled at once."""
        live = {s.game for s in self.sources if live_now(self.livestreams, s.game, wall)}
        for game in sorted(live - self._live):
            log.info("livestream window of %s: polling its official and wiki sources", game)
            self._pull_in(game, within=0.0)
        self._live = live

    def _pull_in(self, game: str, *, within: float) -> None:
        """Bring the next poll of the game's bursting sources to no later than `within` s."""
        latest = asyncio.get_running_loop().time() + within
        for source in self.sources:
            if source.game == game and follows_bursts(source) and source.id in self._due:
                self._due[source.id] = min(self._due[source.id], latest)
        self._wake.set()


class SiteRefresh:
    """Writes the site when asked (a poll changed codes), and every `every` seconds anyway
    (source health and expiry dates move with time); requests that come while a write is
    under way make one more write, not one each."""

    def __init__(self, publish: Callable[[], Awaitable[None]], every: float) -> None:
        self.publish = publish
        self.every = every
        self._asked = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None

    def request(self) -> None:
        self._asked.set()

    def start(self) -> None:
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name="site-refresh")

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner

    async def _run(self) -> None:
        while True:
            await wait_set(self._asked, self.every)
            self._asked.clear()
            try:
                await self.publish()
            except Exception:
                log.exception("site: writing failed")
