"""Which process runs the scrape schedule: the holder of a PostgreSQL advisory lock.

Every process with the scheduler role tries to take the lock; the one that gets it scrapes,
the others wait. The lock belongs to a database session: when its holder dies, or loses its
connection, PostgreSQL releases it and the next try of another process takes it over. On
SQLite codecast is a single process, and the lock is always this process's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

# A stable 32-bit key for "codecast's scrape schedule".
LOCK_KEY = zlib.crc32(b"codecast:scrape-schedule")


class ScheduleLock:
    """Holds the advisory lock on a connection of its own, outside the pool's churn."""

    def __init__(self, engine: AsyncEngine, key: int = LOCK_KEY) -> None:
        self.engine = engine
        self.key = key
        self._connection: AsyncConnection | None = None

    @property
    def shared(self) -> bool:
        """Whether several processes may compete (PostgreSQL) or not (SQLite)."""
        return self.engine.dialect.name == "postgresql"

    async def try_acquire(self) -> bool:
        if not self.shared:
            return True
        await self.release()
        try:
            connection = await self.engine.connect()
        except Exception as exc:
            log.warning("schedule lock: database unavailable (%s)", type(exc).__name__)
            return False
        try:
            got = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            )
            # Keep no transaction open while holding a session-level lock.
            await connection.commit()
        except Exception as exc:
            log.warning("schedule lock: could not ask (%s)", type(exc).__name__)
            await _close(connection)
            return False
        if got:
            self._connection = connection
            return True
        await _close(connection)
        return False

    async def still_held(self) -> bool:
        if not self.shared:
            return True
        if self._connection is None:
            return False
        try:
            await self._connection.execute(text("SELECT 1"))
            await self._connection.commit()
        except Exception as exc:
            log.warning("schedule lock: lost its connection (%s)", type(exc).__name__)
            connection, self._connection = self._connection, None
            await _close(connection)
            return False
        return True

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(Exception):
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            await connection.commit()
        await _close(connection)


async def _close(connection: AsyncConnection) -> None:
    with contextlib.suppress(Exception):
        await connection.close()


async def lead(
    lock: ScheduleLock,
    *,
    on_elected: Callable[[], Awaitable[None] | None],
    on_deposed: Callable[[], Awaitable[None] | None],
    check_every: float,
) -> None:
    """Forever: take the lock when free, call `on_elected`; when it is lost, `on_deposed`."""
    try:
        while True:
            if await lock.try_acquire():
                log.info("this process runs the scrape schedule")
                await _call(on_elected)
                # Polling, not an Event: losing the lock is noticed only by asking.
                while await lock.still_held():  # noqa: ASYNC110
                    await asyncio.sleep(check_every)
                log.warning("scrape schedule lock lost; another process may take over")
                await _call(on_deposed)
            await asyncio.sleep(check_every)
    finally:
        await lock.release()


async def _call(callback: Callable[[], Awaitable[None] | None]) -> None:
    result = callback()
    if result is not None:
        await result
