"""The scrape cycle on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.pipeline import Pipeline
from bot.core.catalog import Catalog, parse_catalog
from bot.core.domain import (
    CodeStatus,
    DeliveryOrder,
    Game,
    Platform,
    ScrapedCode,
    SourceConfig,
)
from bot.store import outbox, repository
from bot.store.models import CodeSourceRow, DeliveryRow, SourceRow, SubscriptionRow
from scrapers.base import (
    Fetched,
    Fetcher,
    SourceChanged,
    SourceError,
    SourceUnavailable,
    Validators,
)
from tests.conftest import FakeClock

CATALOG: dict[str, Any] = {
    "games": {
        "genshin": {"name": "Genshin Impact", "pattern": "[A-Za-z0-9]{6,20}"},
        "hsr": {"name": "Honkai: Star Rail", "pattern": "[A-Za-z0-9]{6,20}"},
    },
    "sources": [
        {"id": "wiki", "kind": "list", "game": "genshin", "url": "https://wiki.test/"},
        {"id": "guide", "kind": "list", "game": "genshin", "url": "https://guide.test/"},
        {"id": "hsr-wiki", "kind": "list", "game": "hsr", "url": "https://hsr.test/"},
    ],
}


class ListScraper:
    """A scraper whose pages are JSON lists that each test changes between cycles."""

    def __init__(self) -> None:
        self.pages: dict[str, list[dict[str, str]] | SourceError | Exception | None] = {}

    async def fetch(
        self, fetcher: Fetcher, source: SourceConfig, validators: Validators
    ) -> Fetched:
        page = self.pages.get(source.id, [])
        if isinstance(page, SourceError):
            raise page
        if page is None:
            return Fetched(body=None, validators=validators)
        if isinstance(page, Exception):
            return Fetched(body=b"\x00boom", validators=Validators())
        return Fetched(body=json.dumps(page).encode(), validators=Validators(etag='"v1"'))

    def parse(self, body: bytes, game: Game, source: SourceConfig) -> list[ScrapedCode]:
        if body.startswith(b"\x00"):
            raise ValueError("a parser bug")
        try:
            rows = json.loads(body)
        except ValueError as exc:
            raise SourceChanged("not JSON") from exc
        return [
            ScrapedCode(r["code"], CodeStatus(r.get("status", "active")), r.get("rewards", ""))
            for r in rows
        ]


@pytest.fixture
def catalog() -> Catalog:
    return parse_catalog(CATALOG)


@pytest.fixture
def scraper() -> ListScraper:
    return ListScraper()


@pytest.fixture
async def pipeline(
    catalog: Catalog,
    sessions: async_sessionmaker[AsyncSession],
    scraper: ListScraper,
    clock: FakeClock,
) -> Pipeline:
    client = httpx.AsyncClient()
    return Pipeline(
        catalog=catalog,
        sessions=sessions,
        fetcher=Fetcher(client),
        scrapers={"list": scraper},
        clock=clock,
    )


async def subscribe(sessions: async_sessionmaker[AsyncSession], chat: str, game: str) -> None:
    async with sessions.begin() as session:
        await repository.subscribe(
            session, Platform.TELEGRAM, chat, game, now=repository_now(sessions)
        )


def repository_now(_: object) -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 11, 1, 12, 30, tzinfo=UTC)


async def baseline(pipeline: Pipeline, scraper: ListScraper, clock: FakeClock) -> None:
    """A first cycle so that sources are past their first success."""
    scraper.pages["wiki"] = [{"code": "OLDCODE111"}]
    scraper.pages["guide"] = [{"code": "OLDCODE111"}]
    scraper.pages["hsr-wiki"] = [{"code": "HSROLD1111"}]
    report = await pipeline.scrape_cycle()
    assert report.announcements == {}
    clock.advance(minutes=5)


async def test_first_cycle_records_codes_without_announcing(
    pipeline: Pipeline, scraper: ListScraper, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await subscribe(sessions, "100", "genshin")
    scraper.pages["wiki"] = [{"code": "GENSHINGIFT"}, {"code": "ABCDEF1234"}]
    report = await pipeline.scrape_cycle()
    assert report.new_codes == 2
    assert report.announcements == {}
    async with sessions() as session:
        codes = await repository.public_codes(session, "genshin")
    assert {c.code for c in codes} == {"GENSHINGIFT", "ABCDEF1234"}


async def test_new_code_is_announced_to_each_subscriber_of_its_game_once(
    pipeline: Pipeline,
    scraper: ListScraper,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    await baseline(pipeline, scraper, clock)
    for chat in ("1", "2", "3"):
        await subscribe(sessions, chat, "genshin")
    await subscribe(sessions, "9", "hsr")
    scraper.pages["wiki"] = [
        {"code": "OLDCODE111"},
        {"code": "NEWCODE222"},
        {"code": "NEWCODE333"},
    ]
    report = await pipeline.scrape_cycle()
    assert report.new_codes == 2
    assert list(report.announcements.values()) == [3]
    [announcement_id] = report.announcements
    async with sessions() as session:
        codes = await repository.announcement_codes(session, announcement_id)
        assert {c.code for c in codes} == {"NEWCODE222", "NEWCODE333"}
    # The next cycle sees the same codes again: nothing more is queued.
    clock.advance(minutes=5)
    again = await pipeline.scrape_cycle()
    assert again.announcements == {}
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DeliveryRow)) == 3


async def test_same_code_from_a_second_source_is_one_code_with_two_sources(
    pipeline: Pipeline,
    scraper: ListScraper,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    await baseline(pipeline, scraper, clock)
    await subscribe(sessions, "1", "genshin")
    scraper.pages["wiki"] = [{"code": "NEWCODE222"}]
    first = await pipeline.scrape_cycle()
    assert len(first.announcements) == 1
    clock.advance(minutes=5)
    scraper.pages["guide"] = [{"code": "newcode222", "rewards": "60 Primogems"}]
    second = await pipeline.scrape_cycle()
    assert second.new_codes == 0
    assert second.announcements == {}
    async with sessions() as session:
        [code] = [c for c in await repository.public_codes(session) if c.code == "NEWCODE222"]
        links = await session.scalar(select(func.count()).select_from(CodeSourceRow))
    assert code.sources == ("guide", "wiki")
    assert code.rewards == "60 Primogems"
    # OLDCODE111 (wiki, guide), HSROLD1111 (hsr-wiki), NEWCODE222 (wiki, guide): the guide
    # no longer lists OLDCODE111, but disappearance removes nothing.
    assert links == 5


async def test_the_public_codes_read_a_page_at_a_time_are_the_same_in_the_same_order(
    pipeline: Pipeline,
    scraper: ListScraper,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    await baseline(pipeline, scraper, clock)
    for cycle in range(3):
        scraper.pages["wiki"] = [{"code": f"WIKICODE{cycle}{n}"} for n in range(3)]
        scraper.pages["guide"] = [{"code": f"WIKICODE{cycle}0"}, {"code": f"GUIDECODE{cycle}"}]
        await pipeline.scrape_cycle()
        clock.advance(minutes=5)
    async with sessions() as session:
        everything = await repository.public_codes(session)
        pages = [page async for page in repository.public_code_pages(session, 4)]
    assert len(everything) == 2 + 3 * 4
    assert [len(page) for page in pages] == [4, 4, 4, 2]
    # Sources are read per page: a code's both sources, whichever page it is on.
    assert [code for page in pages for code in page] == everything
    assert sum(code.sources == ("guide", "wiki") for code in everything) == 4


async def test_a_poll_reads_the_stored_state_of_the_codes_listed_and_no_other(
    pipeline: Pipeline,
    scraper: ListScraper,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await baseline(pipeline, scraper, clock)
    scraper.pages["wiki"] = [{"code": f"WIKICODE{n}"} for n in range(5)]
    await pipeline.scrape_cycle()
    # A few codes per query, so that these few take several.
    monkeypatch.setattr(repository.codes, "STORED_CODES_PER_QUERY", 2)
    asked = [("genshin", f"WIKICODE{n}") for n in (4, 0, 2)]
    asked += [("genshin", "OLDCODE111"), ("genshin", "NEVERSEEN1"), ("hsr", "HSROLD1111")]
    asked.append(("hsr", "OLDCODE111"))  # the key of a code, of another game
    async with sessions() as session:
        stored = await repository.stored_codes(session, asked)
    assert set(stored) == set(asked) - {("genshin", "NEVERSEEN1"), ("hsr", "OLDCODE111")}
    assert stored[("genshin", "OLDCODE111")].source_ids == {"wiki", "guide"}
    assert stored[("hsr", "HSROLD1111")].source_ids == {"hsr-wiki"}
    assert stored[("genshin", "WIKICODE2")].source_ids == {"wiki"}
    assert all(code.settled for code in stored.values())
    assert len({code.id for code in stored.values()}) == len(stored)


async def test_code_missing_from_one_source_stays_active(
    pipeline: Pipeline,
    scraper: ListScraper,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    await baseline(pipeline, scraper, clock)
    scraper.pages["wiki"] = [{"code": "SOMETHINGELSE"}]
    scraper.pages["guide"] = [{"code": "SOMETHINGELSE"}]
    await pipeline.scrape_cycle()
    async with sessions() as session:
        current = {c.code for c in await repository.current_codes(session, "genshin")}
    assert "OLDCODE111" in current


async def test_explicit_expiry_marks_the_code_expired(
    pipeline: Pipeline,
    scraper: ListScraper,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    await baseline(pipeline, scraper, clock)
    scraper.pages["wiki"] = [{"code": "OLDCODE111", "status": "expired"}]
    report = await pipeline.scrape_cycle()
    assert report.newly_expired == 1
    async with sessions() as session:
        current = await repository.current_codes(session, "genshin")
        everything = await repository.public_codes(session, "genshin")
    assert current == []
    assert [c.status for c in everything] == [CodeStatus.EXPIRED]


async def test_failing_source_is_isolated_and_counted(
    pipeline: Pipeline,
    scraper: ListScraper,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    await baseline(pipeline, scraper, clock)
    await subscribe(sessions, "1", "genshin")
    scraper.pages["wiki"] = SourceUnavailable("timed out")
    scraper.pages["guide"] = Exception("parser bug")
    scraper.pages["hsr-wiki"] = [{"code": "HSROLD1111"}, {"code": "HSRNEW2222"}]
    for _ in range(3):
        report = await pipeline.scrape_cycle()
        clock.advance(minutes=5)
    assert {o.source.id for o in report.failed} == {"wiki", "guide"}
    async with sessions() as session:
        wiki = await session.get(SourceRow, "wiki")
        hsr = await repository.current_codes(session, "hsr")
    assert wiki is not None
    assert wiki.consecutive_failures == 3
    assert wiki.probably_broken
    assert wiki.last_error == "unavailable: timed out"
    assert {c.code for c in hsr} == {"HSROLD1111", "HSRNEW2222"}


async def test_source_that_suddenly_lists_nothing_is_flagged_not_emptied(
    pipeline: Pipeline,
    scraper: ListScraper,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    await baseline(pipeline, scraper, clock)
    scraper.pages["wiki"] = []
    scraper.pages["guide"] = []
    await pipeline.scrape_cycle()
    clock.advance(minutes=5)
    await pipeline.scrape_cycle()
    async with sessions() as session:
        health = {s.id: s for s in await repository.source_health(session)}
        current = {c.code for c in await repository.current_codes(session, "genshin")}
    assert health["wiki"].probably_broken
    assert health["wiki"].last_count == 0
    assert not health["hsr-wiki"].probably_broken
    assert current == {"OLDCODE111"}
    scraper.pages["wiki"] = [{"code": "OLDCODE111"}]
    await pipeline.scrape_cycle()
    async with sessions() as session:
        wiki = await session.get(SourceRow, "wiki")
    assert wiki is not None
    assert not wiki.probably_broken


async def test_not_modified_source_keeps_its_codes(
    pipeline: Pipeline,
    scraper: ListScraper,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    await baseline(pipeline, scraper, clock)
    scraper.pages["wiki"] = None
    report = await pipeline.scrape_cycle()
    assert not report.failed
    async with sessions() as session:
        wiki = await session.get(SourceRow, "wiki")
    assert wiki is not None
    assert wiki.last_count == 1
    assert wiki.etag == '"v1"'


async def test_page_source_code_waits_for_confirmation(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    data = {
        "games": CATALOG["games"],
        "sources": [
            {"id": "p1", "kind": "list", "game": "genshin", "url": "https://a.test/"},
            {"id": "p2", "kind": "list", "game": "genshin", "url": "https://b.test/"},
        ],
    }
    for source in data["sources"]:
        source["trust"] = "page"
    scraper = ListScraper()
    pipeline = Pipeline(
        catalog=parse_catalog(data),
        sessions=sessions,
        fetcher=Fetcher(httpx.AsyncClient()),
        scrapers={"list": scraper},
        clock=clock,
    )
    await pipeline.scrape_cycle()  # both sources succeed once, with nothing
    await subscribe(sessions, "1", "genshin")
    scraper.pages["p1"] = [{"code": "MAYBECODE1"}]
    first = await pipeline.scrape_cycle()
    assert first.announcements == {}
    async with sessions() as session:
        assert await repository.public_codes(session) == []
    scraper.pages["p2"] = [{"code": "MAYBECODE1"}]
    second = await pipeline.scrape_cycle()
    assert list(second.announcements.values()) == [1]


async def test_fan_out_to_ten_thousand_subscriptions(
    pipeline: Pipeline,
    scraper: ListScraper,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    await baseline(pipeline, scraper, clock)
    rows = [
        {
            "platform": "telegram" if i % 2 else "discord",
            "chat_id": str(1_000_000 + i),
            "game": "genshin",
            "options": {},
            "active": i % 10 != 0,
            "created_at": clock.now,
            "updated_at": clock.now,
        }
        for i in range(10_000)
    ]
    async with sessions.begin() as session:
        for start in range(0, len(rows), 1000):
            await session.execute(insert(SubscriptionRow), rows[start : start + 1000])
    scraper.pages["wiki"] = [{"code": "OLDCODE111"}, {"code": "FANOUT1234"}]
    report = await pipeline.scrape_cycle()
    assert report.deliveries == 9_000
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(DeliveryRow))
        telegram = await session.scalar(
            select(func.count()).select_from(DeliveryRow).where(DeliveryRow.platform == "telegram")
        )
    assert count == 9_000
    assert telegram == 5_000  # the inactive ones (every tenth) are all even: discord


async def test_subscription_made_after_a_code_gets_no_old_codes(
    pipeline: Pipeline,
    scraper: ListScraper,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    await baseline(pipeline, scraper, clock)
    scraper.pages["wiki"] = [{"code": "OLDCODE111"}, {"code": "NEWCODE222"}]
    await pipeline.scrape_cycle()
    await subscribe(sessions, "late", "genshin")
    clock.advance(minutes=5)
    await pipeline.scrape_cycle()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DeliveryRow)) == 0


@pytest.mark.parametrize(
    ("order", "claimed"),
    [
        (DeliveryOrder.REACH, [("1", "genshin"), ("2", "hsr"), ("1", "hsr")]),
        (DeliveryOrder.SUBSCRIBED, [("1", "genshin"), ("1", "hsr"), ("2", "hsr")]),
    ],
)
async def test_a_cycle_with_codes_of_two_games_queues_them_as_one_wave_in_the_chosen_order(
    pipeline: Pipeline,
    scraper: ListScraper,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    order: DeliveryOrder,
    claimed: list[tuple[str, str]],
) -> None:
    pipeline = dataclasses.replace(pipeline, delivery_order=order)
    await baseline(pipeline, scraper, clock)
    await subscribe(sessions, "1", "genshin")
    await subscribe(sessions, "1", "hsr")
    await subscribe(sessions, "2", "hsr")
    scraper.pages["wiki"] = [{"code": "OLDCODE111"}, {"code": "NEWCODE222"}]
    scraper.pages["hsr-wiki"] = [{"code": "HSROLD1111"}, {"code": "HSRNEW2222"}]
    report = await pipeline.scrape_cycle()
    assert sorted(report.announcements.values()) == [1, 2]
    async with sessions.begin() as session:
        due = await outbox.claim_due(
            session,
            Platform.TELEGRAM,
            worker="w",
            limit=10,
            lease=timedelta(minutes=1),
            now=clock(),
        )
    assert [(d.chat_id, d.game) for d in due] == claimed
