"""Prometheus metrics of one codecast process, and the thin wrappers at the edges that feed them.

The pipeline and the delivery worker know nothing of metrics. The composition root observes
what already crosses its hands: each CycleReport, each scraper call (wrapped), each send's
Outcome (the sender is wrapped), and the outbox's queue depth, read every few seconds. The
wrappers also tag every log line written during a fetch or a send with its source, game,
platform and chat (see bot.app.logs.log_context).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.logs import log_context
from bot.app.pipeline import CycleReport
from bot.app.verifier import Checked
from bot.core.domain import Announcement, Game, ScrapedCode, SourceConfig
from bot.store import outbox, verify_queue
from bot.store.models import DeliveryState
from bot.store.outbox import Delivery, QueueDepth
from bot.store.verify_queue import QueueStats
from notifiers.delivery import Failed, Gone, Outcome, RateLimited, Retry, Sender, Sent
from scrapers.base import Fetched, Fetcher, Scraper, Validators
from scrapers.politeness import host_of

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

log = logging.getLogger(__name__)

# Bucket bounds in seconds. A cycle fetches every source in parallel with a 20 s timeout and
# retries; a fetch is one page; parsing one page takes milliseconds to about a second.
CYCLE_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
FETCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 40.0)
PARSE_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# How often the daemon reads the delivery queue's depth from the database.
QUEUE_POLL_SECONDS = 15.0

_OUTCOME_NAMES: Mapping[type, str] = {
    Sent: "sent",
    RateLimited: "rate_limited",
    Retry: "retry",
    Gone: "gone",
    Failed: "failed",
}


def outcome_name(outcome: Outcome) -> str:
    return _OUTCOME_NAMES.get(type(outcome), "unknown")


class Metrics:
    """Every metric of the process, in a registry of its own (nothing global).

    prometheus_client (and the HTTP server it brings) is imported here, not with the module:
    a daemon without a metrics port never loads it (about 5 MB).
    """

    def __init__(self) -> None:
        from prometheus_client import (
            CollectorRegistry,
            Counter,
            Gauge,
            Histogram,
            PlatformCollector,
            ProcessCollector,
        )

        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        r = self.registry
        self.cycles = Counter("codecast_cycles", "Scrape cycles finished.", registry=r)
        self.cycle_failures = Counter(
            "codecast_cycle_failures",
            "Scrape cycles that raised instead of finishing.",
            registry=r,
        )
        self.cycle_seconds = Histogram(
            "codecast_cycle_duration_seconds",
            "Wall time of a scrape cycle: fetch, parse, store, render the site.",
            buckets=CYCLE_BUCKETS,
            registry=r,
        )
        self.last_cycle = Gauge(
            "codecast_last_cycle_timestamp_seconds",
            "When the last scrape cycle or poll finished (Unix time); alert when it gets old.",
            registry=r,
        )
        self.codes_found = Counter("codecast_codes_found", "New codes stored.", registry=r)
        self.codes_expired = Counter(
            "codecast_codes_expired", "Codes that became expired.", registry=r
        )
        self.deliveries_queued = Counter(
            "codecast_deliveries_queued", "Delivery rows queued by scrape cycles.", registry=r
        )
        self.source_reads = Counter(
            "codecast_source_reads",
            "Reads of a source by result: ok, not_modified, or the error status.",
            ["source", "game", "result"],
            registry=r,
        )
        self.source_fetch_seconds = Histogram(
            "codecast_source_fetch_duration_seconds",
            "Time to fetch one source, retries included, failures too.",
            ["source"],
            buckets=FETCH_BUCKETS,
            registry=r,
        )
        self.source_parse_seconds = Histogram(
            "codecast_source_parse_duration_seconds",
            "CPU time to parse one fetched page.",
            ["source"],
            buckets=PARSE_BUCKETS,
            registry=r,
        )
        self.polls = Counter("codecast_polls", "Polls of one source finished.", registry=r)
        self.source_requests = Counter(
            "codecast_source_requests",
            "HTTP requests made to read a source, retries included.",
            ["source", "host"],
            registry=r,
        )
        self.source_bytes = Counter(
            "codecast_source_bytes",
            "Bytes received from a source: status line, headers and body as sent.",
            ["source", "host"],
            registry=r,
        )
        self.source_interval = Gauge(
            "codecast_source_interval_seconds",
            "A source's interval between polls now (shorter during a burst).",
            ["source"],
            registry=r,
        )
        self.source_codes = Gauge(
            "codecast_source_codes",
            "Codes a source listed when last read.",
            ["source"],
            registry=r,
        )
        self.deliveries = Counter(
            "codecast_deliveries",
            "Sends by platform and outcome: sent, rate_limited, retry, gone, failed, error.",
            ["platform", "outcome"],
            registry=r,
        )
        self.queue = Gauge(
            "codecast_delivery_queue",
            "Delivery rows by platform and state (the whole database, not this process).",
            ["platform", "state"],
            registry=r,
        )
        self.oldest_pending = Gauge(
            "codecast_delivery_oldest_pending_seconds",
            "Age of the oldest pending delivery row; 0 when none is pending.",
            ["platform"],
            registry=r,
        )
        self.verification_checks = Counter(
            "codecast_verification_checks",
            "Asks of HoYoverse's redeem endpoint by game and outcome (valid, expired, invalid, "
            "not-active, cooldown, account-out, no-verdict).",
            ["game", "outcome"],
            registry=r,
        )
        self.verification_queue = Gauge(
            "codecast_verification_queue",
            "Codes queued for verification; `due` those whose time has come.",
            ["state"],
            registry=r,
        )
        self.verification_oldest_due = Gauge(
            "codecast_verification_oldest_due_seconds",
            "How long the most overdue queued code has waited; 0 when none is due.",
            registry=r,
        )
        self._queue_keys: set[tuple[str, str]] = set()
        self._pending_platforms: set[str] = set()

    # --- observing ------------------------------------------------------------------------

    def observe_cycle(self, report: CycleReport, seconds: float) -> None:
        self.cycles.inc()
        self.cycle_seconds.observe(seconds)
        self._observe_report(report)

    def observe_poll(self, report: CycleReport, seconds: float) -> None:
        """One source's poll: counted as such; its outcome as a cycle's would be."""
        self.polls.inc()
        self._observe_report(report)

    def observe_interval(self, source: SourceConfig, seconds: float) -> None:
        self.source_interval.labels(source.id).set(seconds)

    def _observe_report(self, report: CycleReport) -> None:
        self.last_cycle.set(time.time())
        self.codes_found.inc(report.new_codes)
        self.codes_expired.inc(report.newly_expired)
        self.deliveries_queued.inc(report.deliveries)
        for outcome in report.outcomes:
            source = outcome.source
            host = host_of(source.url)
            self.source_requests.labels(source.id, host).inc(outcome.traffic.requests)
            self.source_bytes.labels(source.id, host).inc(outcome.traffic.bytes)
            if outcome.error is not None:
                result = outcome.error.status
            elif outcome.codes is None:
                result = "not_modified"
            else:
                result = "ok"
            self.source_reads.labels(source.id, source.game, result).inc()
            if outcome.fetched is not None and outcome.fetched.body is not None:
                self.source_parse_seconds.labels(source.id).observe(outcome.parse_seconds)
            if outcome.codes is not None:
                self.source_codes.labels(source.id).set(len(outcome.codes))

    def observe_cycle_failure(self) -> None:
        self.cycle_failures.inc()

    def observe_fetch(self, source: SourceConfig, seconds: float) -> None:
        self.source_fetch_seconds.labels(source.id).observe(seconds)

    def observe_delivery(self, platform: str, outcome: str) -> None:
        self.deliveries.labels(platform, outcome).inc()

    def observe_queue(self, depths: Iterable[QueueDepth], now: datetime) -> None:
        """Set the queue gauges; a platform or state no longer in `depths` goes back to 0."""
        seen: set[tuple[str, str]] = set()
        pending: dict[str, float] = {}
        for depth in depths:
            key = (depth.platform, depth.state)
            seen.add(key)
            self.queue.labels(*key).set(depth.count)
            if depth.state == DeliveryState.PENDING and depth.oldest is not None:
                pending[depth.platform] = max(0.0, (now - depth.oldest).total_seconds())
        for key in self._queue_keys - seen:
            self.queue.labels(*key).set(0)
        for platform in self._pending_platforms - set(pending):
            self.oldest_pending.labels(platform).set(0)
        for platform, age in pending.items():
            self.oldest_pending.labels(platform).set(age)
        self._queue_keys |= seen
        self._pending_platforms |= set(pending)

    def observe_verification(self, checked: Checked) -> None:
        self.verification_checks.labels(checked.game, str(checked.answer.outcome)).inc()

    def observe_verification_queue(self, stats: QueueStats, now: datetime) -> None:
        self.verification_queue.labels("queued").set(stats.length)
        self.verification_queue.labels("due").set(stats.due)
        age = 0.0 if stats.oldest_due is None else (now - stats.oldest_due).total_seconds()
        self.verification_oldest_due.set(max(0.0, age))

    # --- serving --------------------------------------------------------------------------

    def serve(self, port: int, host: str = "127.0.0.1") -> MetricsServer:
        """Serve /metrics over HTTP from a daemon thread, on this machine only unless `host`
        says otherwise (CODECAST_METRICS_HOST): the figures name sources and chats."""
        from prometheus_client import start_http_server

        server, _thread = start_http_server(port, host, registry=self.registry)
        bound = int(server.server_address[1])
        log.info("metrics on http://%s:%d/metrics", host, bound)
        return MetricsServer(server=server, port=bound)


@dataclass
class MetricsServer:
    server: WSGIServer
    port: int

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def watch_queue(
    metrics: Metrics,
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    every: float = QUEUE_POLL_SECONDS,
) -> None:
    """Read the outbox's depth every `every` seconds until cancelled; outages are skipped."""
    while True:
        await refresh_queue(metrics, sessions, clock)
        await asyncio.sleep(every)


async def refresh_queue(
    metrics: Metrics, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]
) -> None:
    now = clock()
    try:
        async with sessions() as session:
            depths = await outbox.queue_depth(session)
            verification = await verify_queue.queue_stats(session, now)
    except (SQLAlchemyError, OSError) as exc:
        # The gauges keep their last values; delivery logs the outage itself.
        log.debug("metrics: queue depth unavailable: %s", exc)
        return
    metrics.observe_queue(depths, now)
    metrics.observe_verification_queue(verification, now)


# --- wrappers at the edges -----------------------------------------------------------------


@dataclass(frozen=True)
class ObservedScraper:
    """A scraper whose fetches are timed and whose log lines name the source and game."""

    inner: Scraper
    metrics: Metrics | None

    async def fetch(
        self, fetcher: Fetcher, source: SourceConfig, validators: Validators
    ) -> Fetched:
        started = time.perf_counter()
        try:
            with log_context(source=source.id, game=source.game):
                return await self.inner.fetch(fetcher, source, validators)
        finally:
            if self.metrics is not None:
                self.metrics.observe_fetch(source, time.perf_counter() - started)

    def parse(self, body: bytes, game: Game, source: SourceConfig) -> list[ScrapedCode]:
        with log_context(source=source.id, game=source.game):
            return self.inner.parse(body, game, source)


def observe_scrapers(
    scrapers: Mapping[str, Scraper], metrics: Metrics | None
) -> dict[str, Scraper]:
    return {kind: ObservedScraper(scraper, metrics) for kind, scraper in scrapers.items()}


class ObservedSender:
    """A platform's sender whose outcomes are counted and whose log lines name the chat."""

    def __init__(self, inner: Sender, metrics: Metrics | None) -> None:
        self.inner = inner
        self.platform = inner.platform
        self.metrics = metrics

    async def send(self, delivery: Delivery, announcement: Announcement) -> Outcome:
        platform = str(self.platform)
        with log_context(platform=platform, chat=delivery.chat_id, game=delivery.game):
            try:
                outcome = await self.inner.send(delivery, announcement)
            except Exception:
                # The worker retries it; the count shows senders that fail to classify.
                if self.metrics is not None:
                    self.metrics.observe_delivery(platform, "error")
                raise
        if self.metrics is not None:
            self.metrics.observe_delivery(platform, outcome_name(outcome))
        return outcome
