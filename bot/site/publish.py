"""Publish the static site from what the database holds."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import pickle
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.catalog import Catalog
from bot.core.domain import PLAYERS, CodeView
from bot.site.icons import IconStore
from bot.site.indexnow import changed_page_urls, ping_indexnow
from bot.site.snapshot import SiteSnapshot
from bot.site.write import WriteReport, write_site
from bot.store import repository, verify_queue
from bot.store.repository import submissions
from bot.store.verify_queue import ACCOUNT_OUT, out_note

if TYPE_CHECKING:
    from bot.site.render import SiteRenderer

log = logging.getLogger(__name__)

# A page of codes is read, turned into views and pickled before the next is read.
CODES_PER_PAGE = 500


@dataclasses.dataclass(frozen=True)
class PackedCodes:
    """A site's codes as pickled pages, newest first.

    The site shows every code ever seen, and the daemon reads them all at each render: as
    objects, all at once, the list took more of Python's small-object arenas at each render
    as the database grew, and arenas once taken stay with the process. Read and pickled a
    page at a time, the daemon holds one page of objects at once; the pickles are large
    blocks that go back to the system when freed. The renderer unpacks them (in its worker
    process, bot/app/rendering.py), where they are needed as objects anyway.
    """

    pages: tuple[bytes, ...] = ()

    @staticmethod
    def page(codes: Iterable[CodeView]) -> bytes:
        return pickle.dumps(tuple(codes), pickle.HIGHEST_PROTOCOL)

    def unpack(self) -> tuple[CodeView, ...]:
        # Pickles `page` made in this process or its parent, never data from elsewhere.
        return tuple(code for page in self.pages for code in pickle.loads(page))  # noqa: S301


# Renders a snapshot (codes packed beside it) into the site folder: in a thread of this
# process (RenderInThread), or in a worker process (the daemon's, bot/app/rendering.py).
SiteRender = Callable[[Path, SiteSnapshot, PackedCodes], Awaitable[WriteReport]]


def render_and_write(
    site_dir: Path, snapshot: SiteSnapshot, codes: PackedCodes, renderer: SiteRenderer
) -> WriteReport:
    """Render every file of the site and write those that changed (blocking)."""
    from bot.site.render import render_site

    snapshot = dataclasses.replace(snapshot, codes=codes.unpack())
    return write_site(site_dir, render_site(snapshot, renderer))


class RenderInThread:
    """Renders in a thread of this process, with one renderer (templates and locale data
    loaded on the first render, then kept): for tools and tests."""

    def __init__(self) -> None:
        self._renderer: SiteRenderer | None = None

    async def __call__(
        self, site_dir: Path, snapshot: SiteSnapshot, codes: PackedCodes
    ) -> WriteReport:
        return await asyncio.to_thread(self._render, site_dir, snapshot, codes)

    def _render(self, site_dir: Path, snapshot: SiteSnapshot, codes: PackedCodes) -> WriteReport:
        if self._renderer is None:
            from bot.site.render import SiteRenderer

            self._renderer = SiteRenderer()
        return render_and_write(site_dir, snapshot, codes, self._renderer)


@dataclasses.dataclass(frozen=True)
class SitePublisher:
    catalog: Catalog
    sessions: async_sessionmaker[AsyncSession]
    site_dir: Path
    site_url: str
    clock: Callable[[], datetime]
    http: httpx.AsyncClient | None = None
    indexnow_key: str | None = None
    # Where the pages are rendered; a thread of this process unless the composition root
    # says otherwise (templates and assets are loaded once, not once per cycle).
    render: SiteRender = dataclasses.field(default_factory=RenderInThread)
    # Reward icons, fetched through `http` once each; built from site_dir when not given.
    icon_store: IconStore | None = None

    def __post_init__(self) -> None:
        if self.icon_store is None:
            # A frozen dataclass sets its derived fields this way.
            object.__setattr__(self, "icon_store", IconStore(self.site_dir, self.http, self.clock))

    async def snapshot(self) -> tuple[SiteSnapshot, PackedCodes]:
        """What the site shows: the snapshot without its codes, and the codes packed."""
        known = set(self.catalog.games)
        pages: list[bytes] = []
        urls: set[str] = set()
        async with self.sessions() as session:
            async for page in repository.public_code_pages(session, CODES_PER_PAGE):
                shown = [c for c in page if c.game in known]
                urls.update(item.icon_url for c in shown for item in c.items if item.icon_url)
                pages.append(PackedCodes.page(shown))
            sources = await repository.source_health(session)
            accounts = await verify_queue.account_statuses(session)
            reports = await submissions.counts(session)
        icons = await self.icon_store.resolve(urls) if self.icon_store and urls else {}
        snapshot = SiteSnapshot(
            games=tuple(self.catalog.games.values()),
            codes=(),
            sources=tuple(sources),
            icons=icons,
            generated_at=self.clock(),
            site_url=self.site_url if self.site_url.endswith("/") else self.site_url + "/",
            indexnow_key=self.indexnow_key,
            source_names={
                PLAYERS.id: PLAYERS.label,
                **{source.id: source.label for source in self.catalog.sources},
            },
            reports=reports,
            verification_notes=tuple(
                out_note(a.name, a.out_reason) for a in accounts if a.state == ACCOUNT_OUT
            ),
        )
        return snapshot, PackedCodes(tuple(pages))

    async def publish(
        self, snapshot: tuple[SiteSnapshot, PackedCodes] | None = None
    ) -> WriteReport:
        """Render and write the site from `snapshot` (read from the database when not given)."""
        frame, codes = snapshot if snapshot is not None else await self.snapshot()
        # Rendering thousands of codes takes a while: elsewhere, the bots stay responsive.
        report = await self.render(self.site_dir, frame, codes)
        if report.written:
            log.info(
                "site: %d files written (%d bytes), %d unchanged",
                len(report.written),
                report.bytes_written,
                report.unchanged,
            )
        if report.written and self.http is not None and self.indexnow_key:
            pages = changed_page_urls(frame.site_url, report.written)
            if pages:
                await ping_indexnow(self.http, self.indexnow_key, frame.site_url, pages)
        return report
