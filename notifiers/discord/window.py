"""A guard that keeps requests under a per-window limit however late Discord counts them.

Discord counts a request when it handles it, somewhere between the moment codecast starts
it and the moment the answer comes back; network and scheduling delays move that moment.
Spacing requests evenly on the client's clock (the Pacer) is not enough when the server's
clock sees them bunched: after a 60 ms stall, 48/s on the client is 51 in a second on the
server. This guard assumes the worst case for each request — counted at its start for the
new one, at its answer for the old ones — so the limit holds whatever the delays; slow
answers make it wait, which is exactly when the server would have seen a bunch.

Neither aiolimiter nor discord.py offers this (both count on the client's clock only).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable


class AnsweredWindow:
    """At most `limit` requests in any `window` seconds as the server may count them.

    A request occupies the window from its start until `window` seconds after its answer.
    """

    def __init__(
        self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("need limit >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._answered: deque[float] = deque()  # answer times, oldest first
        self._in_flight = 0
        self._freed = asyncio.Event()

    def occupied(self) -> int:
        horizon = self._clock() - self.window
        while self._answered and self._answered[0] <= horizon:
            self._answered.popleft()
        return self._in_flight + len(self._answered)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        while self.occupied() >= self.limit:
            self._freed.clear()
            timeout = self._answered[0] + self.window - self._clock() if self._answered else None
            # Either the oldest answer leaves the window, or a request in flight is answered.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._freed.wait(), timeout)
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            self._answered.append(self._clock())
            self._freed.set()
