"""Parsing fetched pages where a page cannot hurt the daemon: in worker processes, on a clock.

A parser is CPU work on untrusted bytes. In the event loop's process (even in a thread, since
a regular expression holds the interpreter lock) a slow page stalls the bots and delivery, and
a page that never finishes cannot be stopped at all. So pages are parsed in a small pool of
worker processes (concurrent.futures.ProcessPoolExecutor), one page per worker at a time, so
that the time a page takes is its parse time:

- a page over the time limit fails as SourceTooSlow (recorded in the source's health); its
  worker is killed and the pool replaced, and the other pages that were being parsed in the
  old pool are parsed again in the new one;
- a worker that dies (a crash in a parser's C code) fails the page as a parser crash after a
  second try in a fresh pool;
- stopping the pool kills its workers at once: a stop never waits for a parser, and the pages
  it interrupts raise ParsingStopped.

Workers are forked from a fork server (the "forkserver" start method): a clean process that
loaded the scrapers once, not the daemon with its threads, sockets and locks.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.process import BaseProcess
from typing import Protocol

from bot.app.logs import configure_logging, log_context
from bot.core.domain import Game, ScrapedCode, SourceConfig
from scrapers import PARSER_MODULES, SCRAPERS
from scrapers.base import Scraper, SourceChanged, SourceTooSlow

log = logging.getLogger(__name__)

# What the fork server imports once, so that each worker starts with the parsers and the site's
# renderer loaded (the daemon itself never imports them).
_PRELOAD = [*PARSER_MODULES.values(), "bot.app.parsing", "bot.site.render", "bot.app.rendering"]
# A page whose worker died is tried once more in a fresh pool before it counts as a crash.
_TRIES_AFTER_A_DEATH = 2

_CRASHED = "parser crashed: its worker process died"
# How often a worker checks that the daemon that started it still runs.
ORPHAN_CHECK_SECONDS = 1.0

# The codes a page gave and the CPU seconds its parse took.
Parsed = tuple[list[ScrapedCode], float]


class ParsingStopped(Exception):
    """The pool stopped (codecast is stopping) before the page was parsed."""


class PageParser(Protocol):
    """Parses one fetched page with the scraper of its source's kind."""

    async def parse(self, source: SourceConfig, body: bytes, game: Game) -> Parsed: ...


class ThreadParser:
    """Parsing in a thread of this process, with the given scrapers: for tools and tests that
    build a Pipeline by hand with scrapers of their own. The daemon uses ParserPool."""

    def __init__(self, scrapers: Mapping[str, Scraper]) -> None:
        self.scrapers = scrapers

    async def parse(self, source: SourceConfig, body: bytes, game: Game) -> Parsed:
        scraper = self.scrapers[source.kind]
        started = time.process_time()
        codes = await asyncio.to_thread(scraper.parse, body, game, source)
        # process_time counts this process's CPU in all threads: an upper bound when
        # parsers overlap, exact when they do not.
        return codes, time.process_time() - started


def parse_page(body: bytes, game: Game, source: SourceConfig) -> Parsed:
    """In a worker: the registry's scraper for the source's kind parses the page."""
    started = time.process_time()
    with log_context(source=source.id, game=source.game):
        codes = SCRAPERS[source.kind].parse(body, game, source)
    return codes, time.process_time() - started


def worker_context() -> multiprocessing.context.ForkServerContext:
    """The fork server the parsers' and the site's workers are forked from.

    One per process (multiprocessing keeps it), started by the first worker; what it preloads
    is set before that, and is the same whoever starts it.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


def start_worker(log_level: str, as_json: bool, daemon_pid: int) -> None:
    # A worker's log lines (a parser's warnings) go to the same stderr, in the same format.
    configure_logging(log_level, as_json=as_json)
    threading.Thread(
        target=_exit_with, args=(daemon_pid, os.getppid()), name="orphan-watch", daemon=True
    ).start()


def _exit_with(daemon_pid: int, parent_pid: int) -> None:
    """End the worker when the daemon is gone, however it ended.

    A daemon killed with SIGKILL cannot stop its pool, and a worker waiting for its next page
    would wait forever (holding the daemon's stderr open, among other things). The fork
    server exits with the daemon, so a worker is orphaned when its parent changes.
    """
    while True:
        time.sleep(ORPHAN_CHECK_SECONDS)
        if os.getppid() != parent_pid or not _alive(daemon_pid):
            os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ParserPool:
    """Worker processes that parse pages under a time limit each (see the module docstring).

    Built and stopped by the composition root. Parses with the scraper registry's parsers
    (each worker process holds its own copy of it).
    """

    def __init__(
        self,
        *,
        workers: int,
        time_limit: float,
        log_level: str = "INFO",
        log_json: bool = False,
    ) -> None:
        self.workers = workers
        self.time_limit = time_limit
        self._log = (log_level, log_json)
        self._context = worker_context()
        # One page per worker at a time: a page's clock starts when a worker is free for it.
        self._slots = asyncio.Semaphore(workers)
        self._executor: ProcessPoolExecutor | None = None
        self._ready: asyncio.Future[None] | None = None
        self._stopped = False

    async def parse(self, source: SourceConfig, body: bytes, game: Game) -> Parsed:
        deaths = 0
        while True:
            async with self._slots:
                executor, ready = self._pool()
                try:
                    # A new pool's first worker starts outside any page's clock.
                    await ready
                    future = asyncio.wrap_future(executor.submit(parse_page, body, game, source))
                    async with asyncio.timeout(self.time_limit):
                        return await future
                except TimeoutError:
                    if self._stopped:
                        raise ParsingStopped from None
                    log.warning(
                        "source %s: parsing took over %gs; its worker process is stopped",
                        source.id,
                        self.time_limit,
                    )
                    self._replace(executor)
                    raise SourceTooSlow(f"too slow to parse (over {self.time_limit:g}s)") from None
                except BrokenProcessPool:
                    if self._stopped:
                        raise ParsingStopped from None
                    if executor is self._executor:
                        # Not replaced for another page's sake: a worker died under this one.
                        deaths += 1
                        self._replace(executor)
                        if deaths >= _TRIES_AFTER_A_DEATH:
                            raise SourceChanged(_CRASHED) from None
            # The pool was replaced while this page was in it: parse it again in the new one.

    def _pool(self) -> tuple[ProcessPoolExecutor, asyncio.Future[None]]:
        if self._stopped:
            raise ParsingStopped
        if self._executor is None or self._ready is None:
            level, as_json = self._log
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=self._context,
                initializer=start_worker,
                initargs=(level, as_json, os.getpid()),
            )
            self._ready = asyncio.wrap_future(self._executor.submit(_ready))
        return self._executor, self._ready

    def _replace(self, executor: ProcessPoolExecutor) -> None:
        """Kill the workers of `executor`; the next page gets a new pool."""
        if self._executor is executor:
            self._executor = self._ready = None
        kill_workers(executor)

    def stop(self) -> None:
        """Kill the workers now; pages being parsed or waiting raise ParsingStopped."""
        self._stopped = True
        if self._executor is not None:
            kill_workers(self._executor)
            self._executor = self._ready = None


def _ready() -> None:
    """A first task, so that the fork server and a worker are up before any page's clock."""


def kill_workers(executor: ProcessPoolExecutor) -> None:
    # ProcessPoolExecutor has no way to stop a task that is running (Python 3.14 adds its
    # kill_workers()); its processes are the only handle, so they are killed directly. The
    # pool then fails what was submitted to it with BrokenProcessPool.
    processes: Mapping[int, BaseProcess] = getattr(executor, "_processes", None) or {}
    workers = list(processes.values())
    for process in workers:
        if process.is_alive():
            process.kill()
    executor.shutdown(wait=False)
