"""The composition root: build settings, database, HTTP client, pipeline, site and bots once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import ssl
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from types import FrameType
from typing import Any

import httpx
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app.allocator import give_back
from bot.app.housekeeping import keep_pruning
from bot.app.http import build_http_client, build_public_client, tls_context
from bot.app.leader import ScheduleLock, lead
from bot.app.metrics import Metrics, MetricsServer, ObservedSender, observe_scrapers, watch_queue
from bot.app.parsing import ParserPool
from bot.app.pipeline import CycleReport, Pipeline
from bot.app.rendering import SiteWorker
from bot.app.scraping import Scraping
from bot.app.settings import Role, Settings
from bot.app.subscribers import read_subscribers, sync_subscribers
from bot.app.verifier import Verifier, VerifierTask, policy_from, verify_new_codes
from bot.core.catalog import Catalog, load_catalog
from bot.core.domain import Platform, SourceConfig, Trust
from bot.core.submission import Limits, parse_moderators
from bot.site.icons import IconStore
from bot.site.publish import SitePublisher
from bot.store import database
from notifiers.delivery import DeliveryWorker, RetryPolicy
from notifiers.registry import PlatformParts, build_platforms
from notifiers.reports import Announced, ReportRules
from notifiers.service import ChatService
from scrapers import fetching_scrapers
from scrapers.base import Fetcher
from scrapers.politeness import HostGate, host_of
from scrapers.verify import RedeemClient, load_accounts
from scrapers.verify import build_http as build_verify_http

log = logging.getLogger(__name__)


# How often a process checks it still holds (or can take) the scrape schedule lock.
LEADER_CHECK_SECONDS = 5.0
# How long a stop waits for running polls (or a cycle) before closing anyway.
SHUTDOWN_GRACE_SECONDS = 30.0
# The whole stop (polls, bots, workers, the database) never takes longer than this.
SHUTDOWN_DEADLINE_SECONDS = 45.0
# The longest wait between attempts to reach a database that is not there at start.
DATABASE_WAIT_MAX_SECONDS = 30.0


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class App:
    """Everything codecast runs, wired once; `close()` releases it all."""

    settings: Settings
    catalog: Catalog
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    public_http: httpx.AsyncClient
    pipeline: Pipeline
    publisher: SitePublisher
    parsers: ParserPool
    # Renders the site in a worker process; stopped with the App.
    site_worker: SiteWorker | None = None
    services: list[ChatService] = field(default_factory=list)
    workers: list[DeliveryWorker] = field(default_factory=list)
    clock: Callable[[], datetime] = utc_now
    # Set when CODECAST_METRICS_PORT is: observes each cycle; served by run_daemon.
    metrics: Metrics | None = None
    metrics_server: MetricsServer | None = None
    # Set when CODECAST_VERIFY_ACCOUNTS_FILE is: checks codes on HoYoverse's redeem endpoint.
    verifier: Verifier | None = None
    verify_http: httpx.AsyncClient | None = None
    # One render at a time: polls and the verifier both publish, and a render that read
    # the database earlier must not write over a newer one.
    _publishing: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def cycle(self) -> CycleReport:
        """Every source at once, then the site, then wake the delivery workers (`--once`)."""
        started = time.perf_counter()
        try:
            report = await self.pipeline.scrape_cycle()
            await self.publish()
        except Exception:
            if self.metrics is not None:
                self.metrics.observe_cycle_failure()
            raise
        if self.metrics is not None:
            self.metrics.observe_cycle(report, time.perf_counter() - started)
        self._wake_for(report)
        return report

    async def poll(self, source: SourceConfig) -> CycleReport:
        """One source's poll (the schedule's job); the site is the caller's to write."""
        started = time.perf_counter()
        try:
            report = await self.pipeline.poll_source(source)
        except Exception:
            if self.metrics is not None:
                self.metrics.observe_cycle_failure()
            raise
        if self.metrics is not None:
            self.metrics.observe_poll(report, time.perf_counter() - started)
        self._wake_for(report)
        return report

    def _wake_for(self, report: CycleReport) -> None:
        if report.deliveries:
            for worker in self.workers:
                worker.wake()
        if report.queued_for_verification and self.verifier is not None:
            self.verifier.wake()

    async def verified(self, released: Mapping[int, int]) -> None:
        """A verdict came, or announcements were released: show it on the site, send them."""
        await self.publish()
        if sum(released.values()):
            for worker in self.workers:
                worker.wake()

    async def announced(self, deliveries: int) -> None:
        """A moderator approved a report: show it on the site, send it."""
        await self.publish()
        if deliveries:
            for worker in self.workers:
                worker.wake()

    async def publish(self) -> None:
        """Write the site; a failure is logged in one line and the next cycle writes it."""
        async with self._publishing:
            try:
                snapshot = await self.publisher.snapshot()
            except (DBAPIError, OSError) as exc:
                log.error(
                    "site: not written this time: database unavailable (%s)", type(exc).__name__
                )
                return
            try:
                await self.publisher.publish(snapshot)
            except OSError as exc:
                log.error("site: cannot write to %s: %s", self.settings.site_dir, exc)
            finally:
                # The snapshot held every code, pickled: its memory, once freed, is given back
                # rather than kept as holes in the heap that grow with the site.
                del snapshot
                give_back()

    async def close(self) -> None:
        self.parsers.stop()
        if self.site_worker is not None:
            self.site_worker.stop()
        for service in self.services:
            try:
                await service.stop()
            except Exception:
                log.exception("stopping %s failed", service.platform)
        if self.metrics_server is not None:
            self.metrics_server.close()
        if self.verify_http is not None:
            await self.verify_http.aclose()
        await self.http.aclose()
        await self.public_http.aclose()
        await self.engine.dispose()


def report_rules(settings: Settings) -> ReportRules:
    """How players' reports are taken, from the settings."""
    return ReportRules(
        moderators=parse_moderators(settings.moderators),
        limits=Limits(
            per_user=settings.submit_per_user,
            per_chat=settings.submit_per_chat,
            window=timedelta(seconds=settings.submit_window),
            ignore_after=settings.submit_ignore_after,
        ),
        verification=settings.verify_accounts_file is not None,
        verify_wait=timedelta(seconds=settings.verify_wait),
        delivery_order=settings.delivery_order,
    )


def build_services(
    settings: Settings,
    catalog: Catalog,
    sessions: async_sessionmaker[AsyncSession],
    on_announced: Announced | None = None,
    tls: ssl.SSLContext | bool = True,
) -> list[ChatService]:
    """The chat platforms that are on (a token set); the others are off, with one line each."""
    parts = PlatformParts(
        catalog,
        sessions,
        utc_now,
        settings.expiry_check,
        target_max_failures=settings.target_max_failures,
        reports=report_rules(settings),
        moderation_check=settings.moderation_check,
        on_announced=on_announced,
        tls=tls,
    )
    return build_platforms(settings, parts)


async def build_app(
    settings: Settings, *, with_services: bool = True, wait_for_database: bool = False
) -> App:
    """Migrate the database, then build every part. The caller must `close()` the App.

    With `wait_for_database` (the daemon), a database that cannot be reached yet (a server
    still starting or restarting) is waited for with backoff instead of ending the process.
    """
    catalog = load_catalog(settings.catalog)
    if wait_for_database:
        await _schema_when_database_answers(settings.database_url)
    else:
        await database.ensure_schema(settings.database_url)
    subscribers = (
        read_subscribers(settings.subscribers_file, catalog) if settings.subscribers_file else None
    )
    engine = database.create_engine(settings.database_url)
    sessions = database.session_factory(engine)
    if subscribers is not None:
        try:
            await sync_subscribers(sessions, subscribers, clock=utc_now)
        except BaseException:
            await engine.dispose()
            raise
    tls = tls_context()
    http = build_http_client(settings, tls)
    # For URLs that come from the web: icons, a source's redirect to another host.
    public_http = build_public_client(settings, tls)
    fetcher = Fetcher(
        http,
        public_client=public_http,
        max_bytes=settings.http_max_bytes,
        concurrency=settings.http_concurrency,
        retries=settings.http_retries,
    )
    metrics = Metrics() if settings.metrics_port is not None else None
    # The official API serves every game's livestream codes: its sources share one host,
    # and a burst polls them all every few seconds.
    official_hosts = {host_of(s.url) for s in catalog.sources if s.trust is Trust.OFFICIAL}
    hosts = HostGate(
        settings.host_spacing,
        dict.fromkeys(official_hosts, settings.official_host_spacing),
    )
    parsers = ParserPool(
        workers=settings.parse_workers,
        time_limit=settings.parse_time_limit,
        log_level=settings.log_level,
        log_json=settings.log_json,
    )
    accounts = (
        load_accounts(settings.verify_accounts_file) if settings.verify_accounts_file else ()
    )
    policy = policy_from(settings) if accounts else None
    pipeline = Pipeline(
        catalog=catalog,
        sessions=sessions,
        fetcher=fetcher,
        scrapers=observe_scrapers(fetching_scrapers(), metrics),
        clock=utc_now,
        verify_policy=policy,
        parser=parsers,
        hosts=hosts,
        delivery_order=settings.delivery_order,
    )
    site_worker = SiteWorker(log_level=settings.log_level, log_json=settings.log_json)
    publisher = SitePublisher(
        catalog=catalog,
        sessions=sessions,
        site_dir=settings.site_dir,
        site_url=settings.site_url,
        clock=utc_now,
        http=http,
        indexnow_key=settings.indexnow_key.get_secret_value() if settings.indexnow_key else None,
        icon_store=IconStore(settings.site_dir, public_http, utc_now),
        render=site_worker,
    )
    app = App(
        settings=settings,
        catalog=catalog,
        engine=engine,
        sessions=sessions,
        http=http,
        public_http=public_http,
        pipeline=pipeline,
        publisher=publisher,
        parsers=parsers,
        site_worker=site_worker,
        metrics=metrics,
    )
    if policy is not None:
        app.verify_http = build_verify_http(settings.verify_timeout, tls)
        app.verifier = Verifier(
            sessions=sessions,
            catalog=catalog,
            accounts=accounts,
            client=RedeemClient(app.verify_http),
            policy=policy,
            clock=utc_now,
            on_released=app.verified,
            on_checked=metrics.observe_verification if metrics is not None else None,
            delivery_order=settings.delivery_order,
        )
    else:
        log.info("verification is off: CODECAST_VERIFY_ACCOUNTS_FILE is not set")
    try:
        if with_services and settings.role is not Role.SCHEDULER:
            app.services = build_services(settings, catalog, sessions, app.announced, tls)
        app.workers = [
            DeliveryWorker(
                sessions,
                ObservedSender(service.sender, metrics),
                clock=utc_now,
                batch_size=settings.delivery_batch,
                concurrency=settings.delivery_concurrency,
                lease=timedelta(seconds=settings.delivery_lease),
                retry=RetryPolicy(
                    max_attempts=settings.delivery_max_attempts,
                    base_delay=settings.delivery_retry_base,
                ),
            )
            for service in app.services
        ]
    except BaseException:
        await app.close()
        raise
    return app


async def _schema_when_database_answers(url: str) -> None:
    delay = 1.0
    while True:
        try:
            await database.ensure_schema(url)
        except (DBAPIError, OSError, database.DatabaseNotReady) as exc:
            log.error(
                "database unavailable at start (%s: %s); trying again in %.0fs",
                type(exc).__name__,
                str(exc).splitlines()[0] if str(exc) else "",
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, DATABASE_WAIT_MAX_SECONDS)
        else:
            return


async def run_once(settings: Settings) -> int:
    """One full cycle: scrape, diff, render, deliver what is pending; then exit.

    As in the daemon, a platform that cannot be reached costs one log line and the rest of
    the cycle goes on; its deliveries stay in the outbox for the next run. The exit status is
    1 when a platform or the database failed, 0 otherwise (failing sources are routine).
    """
    app = await build_app(settings)
    failed = False
    try:
        started: set[Platform] = set()
        for service in app.services:
            try:
                await service.start(commands=False)
            except Exception as exc:
                failed = True
                log.error(
                    "%s: cannot start (%s: %s); its deliveries wait for the next run",
                    service.platform,
                    type(exc).__name__,
                    str(exc).splitlines()[0] if str(exc) else "",
                )
                with contextlib.suppress(Exception):
                    await service.stop()
            else:
                started.add(service.platform)
        try:
            await app.cycle()
            if app.verifier is not None:
                await verify_new_codes(app.verifier, settings.verify_wait)
        except (DBAPIError, OSError) as exc:
            failed = True
            log.error("scrape cycle failed: database unavailable (%s)", type(exc).__name__)
        for worker in app.workers:
            if worker.platform in started:
                stats = await worker.drain()
                log.info("%s: %s", worker.platform, stats)
    finally:
        await app.close()
    return 1 if failed else 0


async def run_daemon(settings: Settings) -> int:
    """Run until SIGINT or SIGTERM: the schedule, the bots and the delivery workers."""
    app = await build_app(settings, wait_for_database=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    tasks: list[asyncio.Task[None]] = []
    scraping: Scraping | None = None
    verifying = VerifierTask(app.verifier)
    role = settings.role
    try:
        if app.metrics is not None and settings.metrics_port is not None:
            app.metrics_server = app.metrics.serve(settings.metrics_port, settings.metrics_host)
            tasks.append(
                asyncio.create_task(
                    watch_queue(app.metrics, app.sessions, app.clock), name="metrics-queue"
                )
            )
        if role in (Role.ALL, Role.SCHEDULER):
            await app.publish()
        tasks += [
            asyncio.create_task(
                _start_service(service, commands=role in (Role.ALL, Role.BOTS)),
                name=f"start-{service.platform}",
            )
            for service in app.services
        ]
        if role in (Role.ALL, Role.DELIVERY):
            tasks += [
                asyncio.create_task(w.run(), name=f"deliver-{w.platform}") for w in app.workers
            ]
            keep = timedelta(days=settings.delivery_retention_days)
            tasks.append(
                asyncio.create_task(
                    keep_pruning(app.sessions, app.clock, keep), name="prune-deliveries"
                )
            )
        if role in (Role.ALL, Role.SCHEDULER):
            scraping = Scraping(
                catalog=app.catalog,
                settings=settings,
                poll=app.poll,
                publish=app.publish,
                verifying=verifying,
                clock=app.clock,
                hosts=app.pipeline.hosts,
                metrics=app.metrics,
            )
            tasks.append(
                asyncio.create_task(
                    lead(
                        ScheduleLock(app.engine),
                        on_elected=scraping.start,
                        on_deposed=partial(scraping.stop, SHUTDOWN_GRACE_SECONDS),
                        check_every=min(
                            settings.scrape_interval or LEADER_CHECK_SECONDS,
                            LEADER_CHECK_SECONDS,
                        ),
                    ),
                    name="schedule-lock",
                )
            )
        log.info(
            "codecast running (role %s, %d sources, %s, site in %s)",
            role,
            len(app.catalog.sources),
            f"every {settings.scrape_interval:g}s"
            if settings.scrape_interval
            else "each at its own cadence",
            settings.site_dir,
        )
        await stop.wait()
        log.info("stopping")
        # Whatever hangs in the stop (a library waiting on a dead connection, a task deaf to
        # its cancellation), the process ends: a second signal ends it at once, and a stop
        # past its deadline ends it anyway.
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, exit_now, "a second signal")
        exit_if_stuck(SHUTDOWN_DEADLINE_SECONDS)
    finally:
        if scraping is not None:
            # A poll still parsing ends at once when the parsers stop, before it stores
            # anything; polls storing their results end by themselves (a transaction commits
            # or rolls back, never half).
            app.parsers.stop()
            await scraping.stop(SHUTDOWN_GRACE_SECONDS)
        await verifying.close()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await app.close()
    return 0


def exit_now(why: str) -> None:
    log.warning("stopping at once: %s", why)
    logging.shutdown()
    os._exit(1)


def exit_if_stuck(seconds: float) -> threading.Timer:
    """End the process after `seconds` unless it has ended by then (a thread's timer: it fires
    even when the event loop itself is stuck), saying first what the stop still waited for."""
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None

    def stuck() -> None:
        for line in still_waiting(loop):
            log.warning("the stop still waits: %s", line)
        exit_now(f"the stop took over {seconds:g}s")

    timer = threading.Timer(seconds, stuck)
    timer.daemon = True
    timer.start()
    return timer


def still_waiting(loop: asyncio.AbstractEventLoop | None) -> list[str]:
    """Where the main thread is, and where each unfinished task of `loop` is suspended (the
    line each coroutine it awaits through is at): read from another thread at the last
    moment, for the log."""
    lines = []
    frame = sys._current_frames().get(threading.main_thread().ident or 0)
    if frame is not None:
        lines.append(f"main thread at {_where(frame)}")
    try:
        tasks = asyncio.all_tasks(loop) if loop is not None else set()
    except RuntimeError:  # the tasks changed while read; the thread's line above remains
        tasks = set()
    for task in tasks:
        awaited: Any = task.get_coro()
        chain: list[FrameType] = []
        while awaited is not None and getattr(awaited, "cr_frame", None) is not None:
            chain.append(awaited.cr_frame)
            awaited = awaited.cr_await
        if chain:
            # Innermost first: the line that waits, then who awaits it.
            where = " <- ".join(_where(frame) for frame in reversed(chain))
            lines.append(f"task {task.get_name()} at {where}")
    return lines


def _where(frame: FrameType) -> str:
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"


async def _start_service(service: ChatService, *, commands: bool) -> None:
    """Start a bot, trying again with backoff while its platform cannot be reached.

    The rest of codecast (scraping, the site, the other platform) runs meanwhile; deliveries
    to this platform wait in the outbox and are retried.
    """
    delay = 2.0
    while True:
        try:
            await service.start(commands=commands)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error(
                "%s: cannot start (%s: %s); trying again in %.0fs",
                service.platform,
                type(exc).__name__,
                exc,
                delay,
            )
            with contextlib.suppress(Exception):
                await service.stop()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 300.0)
        else:
            log.info("%s started", service.platform)
            return
