"""Keeping the database from growing: finished deliveries pruned in the background.

Once an hour, and a small batch at a time (bot/store/retention.py says which rows go), so a
pruning run never holds the outbox up: delivery workers claim rows between its batches.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store import retention

log = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 3600.0
PRUNE_BATCH = 500
# Between two batches: the database is the delivery workers' for a moment.
PRUNE_PAUSE_SECONDS = 0.05
# A code's expiry edits its sent messages within minutes; a sent row waits this long after.
EDIT_TIME = timedelta(days=1)


async def prune_deliveries(
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    keep: timedelta,
    *,
    batch: int = PRUNE_BATCH,
    pause: float = PRUNE_PAUSE_SECONDS,
) -> int:
    """One pruning run over the whole outbox; returns how many rows went."""
    now = clock()
    after = 0
    pruned = 0
    while True:
        async with sessions.begin() as session:
            deleted, last = await retention.prune_deliveries(
                session,
                older_than=now - keep,
                edited_before=now - EDIT_TIME,
                after_id=after,
                limit=batch,
            )
        pruned += deleted
        if last is None:
            break
        after = last
        await asyncio.sleep(pause)
    if pruned:
        log.info("pruned %d finished deliveries older than %g days", pruned, keep.days)
    return pruned


async def keep_pruning(
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    keep: timedelta,
    every: float = PRUNE_EVERY_SECONDS,
) -> None:
    """Prune now and then every `every` seconds, until cancelled; a failed run waits for the
    next one."""
    while True:
        try:
            await prune_deliveries(sessions, clock, keep)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("pruning deliveries failed (%s); trying again later", type(exc).__name__)
        await asyncio.sleep(every)
