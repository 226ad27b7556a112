"""Polls of a wiki served by a local MediaWiki API: revision ids kept in the database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.pipeline import Pipeline
from bot.core.catalog import parse_catalog
from bot.core.domain import Platform
from bot.store import repository
from bot.store.models import SourceRow
from scrapers import SCRAPERS
from scrapers.base import Fetcher
from scrapers.mediawiki import NO_REVISIONS
from tests.conftest import FakeClock
from tests.fakes.mediawiki import FakeMediaWiki, code_page

TITLE = "Promotional Code"


@pytest.fixture
async def wiki() -> AsyncIterator[FakeMediaWiki]:
    async with FakeMediaWiki() as fake:
        fake.edit(TITLE, code_page("GENSHINGIFT", "OLDCODE1234"))
        yield fake


class Process:
    """A codecast process's pipeline over its own HTTP client; `restart` makes a new one."""

    def __init__(
        self, wiki: FakeMediaWiki, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
    ) -> None:
        self.catalog = parse_catalog(
            {
                "games": {"genshin": {"name": "Genshin Impact", "pattern": "[A-Za-z0-9]{6,24}"}},
                "sources": [
                    {
                        "id": "wiki",
                        "kind": "fandom",
                        "game": "genshin",
                        "url": wiki.url(TITLE.replace(" ", "_")),
                    }
                ],
            }
        )
        self.sessions = sessions
        self.clock = clock
        self.client = httpx.AsyncClient()
        self.pipeline = self._pipeline()

    def _pipeline(self) -> Pipeline:
        return Pipeline(
            catalog=self.catalog,
            sessions=self.sessions,
            fetcher=Fetcher(self.client, retries=0),
            scrapers=SCRAPERS,
            clock=self.clock,
        )

    async def restart(self) -> None:
        await self.client.aclose()
        self.client = httpx.AsyncClient()
        self.pipeline = self._pipeline()

    async def poll(self) -> repository.SourceState:
        [source] = self.catalog.sources
        report = await self.pipeline.poll_source(source)
        assert not report.failed, report.failed[0].error
        self.clock.advance(minutes=1)
        async with self.sessions() as session:
            state = await repository.source_state(session, "wiki")
        assert state is not None
        return state


@pytest.fixture
async def process(
    wiki: FakeMediaWiki, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> AsyncIterator[Process]:
    running = Process(wiki, sessions, clock)
    yield running
    await running.client.aclose()


async def codes(sessions: async_sessionmaker[AsyncSession]) -> set[str]:
    async with sessions() as session:
        return {c.code for c in await repository.public_codes(session, "genshin")}


async def test_an_unchanged_wiki_costs_one_small_request_even_after_a_restart(
    wiki: FakeMediaWiki, process: Process, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first = await process.poll()
    assert (wiki.count("info"), wiki.count("content")) == (1, 1)
    assert first.revision == str(wiki.pages[TITLE].revision)
    assert await codes(sessions) == {"GENSHINGIFT", "OLDCODE1234", "OLDEXPIRED1"}
    await process.poll()
    await process.restart()
    await process.poll()
    # Three polls, one read of the content: the restarted process knew the revision.
    assert (wiki.count("info"), wiki.count("content")) == (3, 1)
    async with sessions() as session:
        row = await session.get(SourceRow, "wiki")
    assert row is not None
    assert row.polls == 3
    assert row.requests == 4
    assert row.last_poll_bytes is not None
    assert row.last_poll_bytes < 1024


async def test_an_edit_is_read_and_its_new_code_announced(
    wiki: FakeMediaWiki, process: Process, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await process.poll()
    async with sessions.begin() as session:
        await repository.subscribe(
            session, Platform.TELEGRAM, "42", "genshin", now=process.clock()
        )
    wiki.edit(TITLE, code_page("GENSHINGIFT", "OLDCODE1234", "LIVESTREAM26"))
    [source] = process.catalog.sources
    report = await process.pipeline.poll_source(source)
    assert report.new_codes == 1
    assert list(report.announcements.values()) == [1]
    assert (wiki.count("info"), wiki.count("content")) == (2, 2)
    async with sessions() as session:
        state = await repository.source_state(session, "wiki")
    assert state is not None
    assert state.revision == str(wiki.pages[TITLE].revision)


async def test_a_wiki_that_ignores_the_id_query_still_works(
    wiki: FakeMediaWiki, process: Process, sessions: async_sessionmaker[AsyncSession]
) -> None:
    wiki.ignores_info = True
    first = await process.poll()
    assert first.revision == NO_REVISIONS
    assert await codes(sessions) == {"GENSHINGIFT", "OLDCODE1234", "OLDEXPIRED1"}
    asked = len(wiki.asked)
    await process.poll()
    # One conditional GET, answered 304.
    assert [a.status for a in wiki.asked[asked:]] == [304]
    wiki.edit(TITLE, code_page("GENSHINGIFT", "OLDCODE1234", "ANOTHERCODE1"))
    await process.poll()
    assert "ANOTHERCODE1" in await codes(sessions)
