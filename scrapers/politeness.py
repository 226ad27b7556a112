"""Politeness per host: one poll at a time, a minimum spacing, Retry-After, and backoff.

Every poll of a source takes its host's turn for the requests it makes (a wiki's revision
id, then its content when that changed, go one after the other in one turn). The next turn
on that host starts no sooner than `spacing` seconds after the previous one ended. A host
that asked to be left alone (Retry-After, 429) or whose polls keep failing rests: until then
its sources are not asked at all (`HostResting`), and the rest doubles with each further
failure, from a minute up to an hour; one success ends it.

Times are the event loop's clock, so that tests can run hours of polling in fast-forward.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from scrapers.base import SourceUnavailable

# The wait after the second failure in a row, doubling with each one after, up to the max.
FAILURE_BACKOFF_START = 60.0
FAILURE_BACKOFF_MAX = 3600.0


class HostResting(SourceUnavailable):
    """The source was not asked: its host rests after failures or a Retry-After."""


def host_of(url: str) -> str:
    """The host (with its port, if any) that a URL's requests go to."""
    return urlsplit(url).netloc.lower()


@dataclass
class HostTurn:
    """One poll's turn on a host; the poll says how it went before giving the turn back."""

    failed: bool = False
    throttled: bool = False
    retry_after: float | None = None

    def failure(self, *, retry_after: float | None = None, throttled: bool = False) -> None:
        self.failed = True
        self.throttled = throttled
        self.retry_after = retry_after


@dataclass
class _Host:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # The loop time before which the next turn waits (spacing).
    free_at: float = -math.inf
    # The loop time before which no turn is given at all (backoff, Retry-After).
    rest_until: float = -math.inf
    failures: int = 0


class HostGate:
    """Turns on hosts; `spacing_for` gives some hosts (the official API) their own spacing."""

    def __init__(
        self,
        spacing: float = 0.0,
        spacing_for: Mapping[str, float] | None = None,
        *,
        backoff_start: float = FAILURE_BACKOFF_START,
        backoff_max: float = FAILURE_BACKOFF_MAX,
    ) -> None:
        self.spacing = spacing
        self.spacing_for = {host.lower(): value for host, value in (spacing_for or {}).items()}
        self.backoff_start = backoff_start
        self.backoff_max = backoff_max
        self._hosts: dict[str, _Host] = {}

    def spacing_of(self, host: str) -> float:
        return self.spacing_for.get(host, self.spacing)

    def failures(self, host: str) -> int:
        state = self._hosts.get(host)
        return 0 if state is None else state.failures

    def resting_until(self, url: str) -> float | None:
        """The loop time until which the URL's host rests, if it does now."""
        state = self._hosts.get(host_of(url))
        if state is None or state.rest_until <= asyncio.get_running_loop().time():
            return None
        return state.rest_until

    def backoff(self, failures: int) -> float:
        """Extra wait after `failures` failed polls in a row: none after the first."""
        if failures < 2:
            return 0.0
        return min(self.backoff_start * 2.0 ** (failures - 2), self.backoff_max)

    @asynccontextmanager
    async def turn(self, url: str) -> AsyncIterator[HostTurn]:
        """The host's turn for one poll; raises HostResting while the host rests."""
        name = host_of(url)
        host = self._hosts.setdefault(name, _Host())
        loop = asyncio.get_running_loop()
        async with host.lock:
            now = loop.time()
            if now < host.rest_until:
                raise HostResting(
                    f"not asked: {name} rests for {host.rest_until - now:.0f}s more "
                    f"({host.failures} failed polls in a row, or it asked to wait)"
                )
            if host.free_at > now:
                await asyncio.sleep(host.free_at - now)
            turn = HostTurn()
            try:
                yield turn
            finally:
                now = loop.time()
                host.free_at = now + self.spacing_of(name)
                host.rest_until = now + self._rest(host, turn)

    def _rest(self, host: _Host, turn: HostTurn) -> float:
        if not turn.failed:
            host.failures = 0
            return 0.0
        host.failures += 1
        rest = self.backoff(host.failures)
        if turn.throttled:
            # A 429 without Retry-After: at least the first step at once.
            rest = max(rest, self.backoff_start)
        return max(rest, turn.retry_after or 0.0)
