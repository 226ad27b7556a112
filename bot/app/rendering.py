"""The daemon's site rendered in a worker process: its libraries stay out of the daemon.

A render is CPU work that grows with the site (every code, in every language) and needs
Jinja2 and each language's locale data (Babel's, about 1.5 MB per language): in the
daemon's process it would hold the event loop (the bots, delivery) for as long as it takes
and keep ~25 MB that nothing else there needs. So the daemon reads the snapshot (the
database is its own; the codes a page at a time, pickled, bot/site/publish.py) and one
worker process, forked from the same fork server as the
parsers (bot/app/parsing.py), renders and writes the files, keeping its renderer between
renders. A worker that dies is replaced and the render tried once more in the new one.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING

from bot.app.parsing import kill_workers, start_worker, worker_context
from bot.site.publish import PackedCodes, render_and_write
from bot.site.snapshot import SiteSnapshot
from bot.site.write import WriteReport

if TYPE_CHECKING:
    from bot.site.render import SiteRenderer

log = logging.getLogger(__name__)


@functools.cache
def _renderer() -> SiteRenderer:
    """The worker's renderer: templates and locale data loaded once per worker process."""
    from bot.site.render import SiteRenderer

    return SiteRenderer()


def render_in_worker(site_dir: Path, snapshot: SiteSnapshot, codes: PackedCodes) -> WriteReport:
    """In the worker: render the snapshot and write what changed."""
    return render_and_write(site_dir, snapshot, codes, _renderer())


class SiteWorker:
    """`SitePublisher.render` for the daemon: one worker process (see the module docstring).

    Built and stopped by the composition root; the process starts with the first render.
    """

    def __init__(self, *, log_level: str = "INFO", log_json: bool = False) -> None:
        self._context = worker_context()
        self._log = (log_level, log_json)
        self._executor: ProcessPoolExecutor | None = None

    async def __call__(
        self, site_dir: Path, snapshot: SiteSnapshot, codes: PackedCodes
    ) -> WriteReport:
        for attempt in (1, 2):
            executor = self._pool()
            future = executor.submit(render_in_worker, site_dir, snapshot, codes)
            try:
                return await asyncio.wrap_future(future)
            except BrokenProcessPool:
                self.stop()
                if attempt == 2:
                    raise
                log.warning("site: the render's worker process died; rendering in a new one")
        raise AssertionError("unreachable")

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            level, as_json = self._log
            self._executor = ProcessPoolExecutor(
                max_workers=1,
                mp_context=self._context,
                initializer=start_worker,
                initargs=(level, as_json, os.getpid()),
            )
        return self._executor

    def stop(self) -> None:
        """Kill the worker now (a render under way fails with BrokenProcessPool)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            kill_workers(executor)
