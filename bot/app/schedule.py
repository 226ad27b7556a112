"""The scrape schedule: APScheduler runs one cycle at a time, every CODECAST_SCRAPE_INTERVAL."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)

SCRAPE_JOB_ID = "scrape-cycle"


def build_scheduler(job: Callable[[], Awaitable[None]], interval: float) -> AsyncIOScheduler:
    """A scheduler that runs `job` now and then every `interval` seconds.

    One run at a time (`max_instances=1`), missed runs merged into one (`coalesce`), and a
    little jitter so that many codecast installations do not hit a site at the same second.
    """
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        job,
        IntervalTrigger(seconds=interval, jitter=min(10.0, interval * 0.05), timezone=UTC),
        id=SCRAPE_JOB_ID,
        name="scrape cycle",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=max(1, int(interval)),
        next_run_time=datetime.now(UTC),
    )
    return scheduler
