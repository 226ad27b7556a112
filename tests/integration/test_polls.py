"""One source's poll on a real database: merged with what the other sources said last."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.pipeline import Pipeline
from bot.core.catalog import Catalog, parse_catalog
from bot.core.domain import CodeStatus, SourceConfig
from bot.store import repository
from bot.store.models import DeliveryRow, SourceRow
from scrapers.base import Fetcher
from tests.conftest import FakeClock
from tests.integration.test_pipeline import ListScraper, subscribe

CATALOG: dict[str, Any] = {
    "games": {"genshin": {"name": "Genshin Impact", "pattern": "[A-Za-z0-9]{6,20}"}},
    "sources": [
        {"id": "official", "kind": "list", "game": "genshin", "url": "https://o.test/"},
        {"id": "wiki", "kind": "list", "game": "genshin", "url": "https://w.test/"},
        {"id": "page1", "kind": "list", "game": "genshin", "url": "https://p1.test/"},
        {"id": "page2", "kind": "list", "game": "genshin", "url": "https://p2.test/"},
    ],
}
CATALOG["sources"][0]["trust"] = "official"
CATALOG["sources"][2]["trust"] = CATALOG["sources"][3]["trust"] = "page"


@pytest.fixture
def catalog() -> Catalog:
    return parse_catalog(CATALOG)


@pytest.fixture
def scraper() -> ListScraper:
    return ListScraper()


@pytest.fixture
def pipeline(
    catalog: Catalog,
    sessions: async_sessionmaker[AsyncSession],
    scraper: ListScraper,
    clock: FakeClock,
) -> Pipeline:
    return Pipeline(
        catalog=catalog,
        sessions=sessions,
        fetcher=Fetcher(httpx.AsyncClient()),
        scrapers={"list": scraper},
        clock=clock,
    )


def by_id(catalog: Catalog) -> dict[str, SourceConfig]:
    return {s.id: s for s in catalog.sources}


async def first_round(pipeline: Pipeline, scraper: ListScraper, clock: FakeClock) -> None:
    """Every source polled once (a baseline): OLDCODE111 everywhere."""
    for source in pipeline.catalog.sources:
        scraper.pages[source.id] = [{"code": "OLDCODE111"}]
        report = await pipeline.poll_source(source)
        assert report.announcements == {}
        clock.advance(seconds=10)


async def deliveries(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(DeliveryRow)) or 0)


async def test_two_sources_bringing_one_new_code_a_second_apart_announce_it_once(
    pipeline: Pipeline,
    scraper: ListScraper,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    sources = by_id(pipeline.catalog)
    await first_round(pipeline, scraper, clock)
    await subscribe(sessions, "1", "genshin")
    scraper.pages["official"] = [{"code": "LIVESTREAM1"}]
    scraper.pages["wiki"] = [{"code": "OLDCODE111"}, {"code": "livestream1"}]
    first = await pipeline.poll_source(sources["official"])
    clock.advance(seconds=1)
    second = await pipeline.poll_source(sources["wiki"])
    assert first.new_codes == 1
    assert list(first.announcements.values()) == [1]
    assert second.new_codes == 0
    assert second.announcements == {}
    assert await deliveries(sessions) == 1
    async with sessions() as session:
        [code] = [c for c in await repository.public_codes(session) if c.code == "LIVESTREAM1"]
    assert code.sources == ("official", "wiki")


async def test_the_same_new_code_polled_at_the_same_moment_is_one_code(
    pipeline: Pipeline,
    scraper: ListScraper,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    # Two polls whose commits race: they are taken one after the other.
    sources = by_id(pipeline.catalog)
    await first_round(pipeline, scraper, clock)
    await subscribe(sessions, "1", "genshin")
    scraper.pages["official"] = scraper.pages["wiki"] = [{"code": "SAMEMOMENT1"}]
    reports = await asyncio.gather(
        pipeline.poll_source(sources["official"]), pipeline.poll_source(sources["wiki"])
    )
    assert sum(r.new_codes for r in reports) == 1
    assert sum(len(r.announcements) for r in reports) == 1
    assert await deliveries(sessions) == 1
    async with sessions() as session:
        [code] = [c for c in await repository.public_codes(session) if c.code == "SAMEMOMENT1"]
    assert code.sources == ("official", "wiki")


async def test_a_page_code_waits_for_a_second_source_polled_later(
    pipeline: Pipeline,
    scraper: ListScraper,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    sources = by_id(pipeline.catalog)
    await first_round(pipeline, scraper, clock)
    await subscribe(sessions, "1", "genshin")
    scraper.pages["page1"] = [{"code": "MAYBECODE1"}]
    assert (await pipeline.poll_source(sources["page1"])).announcements == {}
    clock.advance(minutes=10)
    scraper.pages["page2"] = [{"code": "MAYBECODE1"}]
    confirmed = await pipeline.poll_source(sources["page2"])
    assert list(confirmed.announcements.values()) == [1]


async def test_a_page_saying_expired_does_not_expire_what_the_wiki_lists_active(
    pipeline: Pipeline,
    scraper: ListScraper,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    # In one cycle the wiki's "active" outweighs an untrusted page's "expired"; polled
    # apart, the wiki's last word still does.
    sources = by_id(pipeline.catalog)
    await first_round(pipeline, scraper, clock)
    scraper.pages["page1"] = [{"code": "OLDCODE111", "status": "expired"}]
    report = await pipeline.poll_source(sources["page1"])
    assert report.newly_expired == 0
    async with sessions() as session:
        [code] = await repository.public_codes(session, "genshin")
    assert code.status is not CodeStatus.EXPIRED
    # Once the wiki no longer lists it, its old word no longer counts: both pages say expired.
    scraper.pages["wiki"] = [{"code": "ANOTHER1234"}]
    scraper.pages["official"] = []
    await pipeline.poll_source(sources["wiki"])
    await pipeline.poll_source(sources["official"])
    scraper.pages["page2"] = [{"code": "OLDCODE111", "status": "expired"}]
    assert (await pipeline.poll_source(sources["page2"])).newly_expired == 1


async def test_an_official_expiry_expires_it_whatever_the_others_said(
    pipeline: Pipeline, scraper: ListScraper, clock: FakeClock
) -> None:
    sources = by_id(pipeline.catalog)
    await first_round(pipeline, scraper, clock)
    scraper.pages["official"] = [{"code": "OLDCODE111", "status": "expired"}]
    assert (await pipeline.poll_source(sources["official"])).newly_expired == 1


async def test_first_listings_count_codes_new_to_the_source_but_not_its_baseline(
    pipeline: Pipeline, scraper: ListScraper, clock: FakeClock
) -> None:
    sources = by_id(pipeline.catalog)
    scraper.pages["official"] = [{"code": "BASELINE11"}]
    assert (await pipeline.poll_source(sources["official"])).first_listed == {}
    scraper.pages["wiki"] = [{"code": "FROMWIKI11"}]
    await pipeline.poll_source(sources["wiki"])
    await pipeline.poll_source(sources["wiki"])
    # Known from the wiki, new to the official source: it counts (a livestream's wave);
    # an expired one does not.
    scraper.pages["official"] = [
        {"code": "BASELINE11"},
        {"code": "FROMWIKI11"},
        {"code": "GONEALREADY", "status": "expired"},
    ]
    report = await pipeline.poll_source(sources["official"])
    assert report.first_listed == {"official": 1}
    assert (await pipeline.poll_source(sources["official"])).first_listed == {}


async def test_a_poll_records_its_validators_and_costs(
    pipeline: Pipeline,
    scraper: ListScraper,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    sources = by_id(pipeline.catalog)
    scraper.pages["wiki"] = [{"code": "OLDCODE111"}]
    report = await pipeline.poll_source(sources["wiki"])
    assert report.read
    scraper.pages["wiki"] = None  # 304
    clock.advance(minutes=1)
    unchanged = await pipeline.poll_source(sources["wiki"])
    assert not unchanged.read
    async with sessions() as session:
        row = await session.get(SourceRow, "wiki")
        others = await session.get(SourceRow, "page1")
    assert row is not None
    assert row.etag == '"v1"'
    assert row.polls == 2
    assert row.last_count == 1
    # The listing is the first poll's; the second read nothing new.
    assert row.listed_at == report.started_at
    assert row.counted_since == report.started_at
    # The first poll of any source gave every catalog source its row; a poll of another
    # source counts nothing against it.
    assert others is not None
    assert (others.polls, others.requests, others.last_attempt) == (0, 0, None)


async def test_the_first_polls_of_a_fresh_database_may_come_together(
    pipeline: Pipeline, scraper: ListScraper, sessions: async_sessionmaker[AsyncSession]
) -> None:
    for source in pipeline.catalog.sources:
        scraper.pages[source.id] = [{"code": "OLDCODE111"}]
    reports = await asyncio.gather(*(pipeline.poll_source(s) for s in pipeline.catalog.sources))
    assert all(r.read and not r.failed for r in reports)
    assert sum(r.new_codes for r in reports) == 1
    assert all(r.announcements == {} for r in reports)  # each one a baseline
    async with sessions() as session:
        rows = {s.id: s for s in await repository.source_health(session)}
    assert set(rows) == {s.id for s in pipeline.catalog.sources}
    assert all(row.polls == 1 for row in rows.values())
