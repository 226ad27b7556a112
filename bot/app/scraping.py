"""The scheduler role while this process holds the lock: polls, the site, the verifier.

Each source is polled at its cadence (bot/app/schedule.py); a poll that read new content or
changed codes asks for the site to be written, and the site is written every few minutes
anyway. Losing the lock (or stopping) ends all three; polls under way finish first.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.exc import DBAPIError

from bot.app.metrics import Metrics
from bot.app.parsing import ParsingStopped
from bot.app.pipeline import CycleReport
from bot.app.schedule import PollSchedule, SiteRefresh
from bot.app.settings import Settings
from bot.app.verifier import VerifierTask
from bot.core.cadence import Cadence
from bot.core.catalog import Catalog
from bot.core.domain import SourceConfig
from scrapers.politeness import HostGate

log = logging.getLogger(__name__)

# The site is written at least this often while polling (source health and expiry dates
# change with time, not only with polls).
SITE_REFRESH_SECONDS = 300.0


def cadence_from(settings: Settings) -> Cadence:
    return Cadence(
        override=settings.scrape_interval,
        burst_interval=settings.burst_interval,
        burst_seconds=settings.burst_seconds,
    )


class Scraping:
    """What the scheduler process runs while it holds the schedule lock."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        settings: Settings,
        poll: Callable[[SourceConfig], Awaitable[CycleReport]],
        publish: Callable[[], Awaitable[None]],
        verifying: VerifierTask,
        clock: Callable[[], datetime],
        hosts: HostGate | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._poll_source = poll
        self.metrics = metrics
        self.verifying = verifying
        self.site = SiteRefresh(publish, SITE_REFRESH_SECONDS)
        self.schedule = PollSchedule(
            catalog.sources,
            cadence_from(settings),
            self.poll,
            livestreams=catalog.livestreams,
            clock=clock,
            resting_until=None if hosts is None else (lambda s: hosts.resting_until(s.url)),
        )

    async def poll(self, source: SourceConfig) -> int:
        """One source's poll; returns how many codes it listed for the first time."""
        try:
            report = await self._poll_source(source)
        except ParsingStopped:
            log.info("poll of %s stopped: codecast is stopping", source.id)
            return 0
        except (DBAPIError, OSError) as exc:
            # The database is down or restarting: the poll's transaction rolled back whole,
            # and the next poll tries again. One line, not a traceback, per failed poll.
            log.error(
                "poll of %s failed: database unavailable (%s)", source.id, type(exc).__name__
            )
            return 0
        if report.read or report.new_codes or report.newly_expired or report.announcements:
            self.site.request()
        if self.metrics is not None:
            self.metrics.observe_interval(source, self.schedule.interval_of(source))
        return sum(report.first_listed.values())

    def start(self) -> None:
        self.site.start()
        self.schedule.start()
        self.verifying.start()

    async def stop(self, grace: float) -> None:
        await self.schedule.stop(grace)
        await self.site.stop()
        self.verifying.stop()
