"""Verification on a real database (SQLite and PostgreSQL) against the fake redeem endpoint.

The pipeline, the verifier and the redeem client are the real ones; the source is a list the
test writes, the clock is moved by hand, and HoYoverse is tests/fakes/redeem.py.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.pipeline import Pipeline
from bot.app.verifier import Verifier
from bot.core.catalog import Catalog, parse_catalog
from bot.core.domain import CodeStatus, Game, Platform, ScrapedCode, SourceConfig, Verification
from bot.core.verification import Policy
from bot.store import repository, verify_queue
from bot.store.models import AnnouncementCodeRow, CodeRow, DeliveryRow, DeliveryState
from scrapers.base import Fetched, Fetcher, Validators
from scrapers.verify import Account, RedeemClient, build_http
from tests.conftest import FakeClock
from tests.fakes.redeem import FakeAccount, FakeRedeem

UID = "700000001"
POLICY = Policy(
    pace=timedelta(seconds=6),
    wait=timedelta(seconds=90),
    recheck=timedelta(minutes=30),
    not_active_every=timedelta(minutes=5),
    retry_base=timedelta(seconds=15),
)


class ListScraper:
    """Pages are JSON lists the test sets per source id."""

    def __init__(self) -> None:
        self.pages: dict[str, list[str]] = {}

    async def fetch(
        self, fetcher: Fetcher, source: SourceConfig, validators: Validators
    ) -> Fetched:
        return Fetched(
            body=json.dumps(self.pages.get(source.id, [])).encode(), validators=Validators()
        )

    def parse(self, body: bytes, game: Game, source: SourceConfig) -> list[ScrapedCode]:
        return [ScrapedCode(code, CodeStatus.ACTIVE) for code in json.loads(body)]


def catalog_for(fake: FakeRedeem) -> Catalog:
    data: dict[str, Any] = {
        "games": {
            "genshin": {
                "name": "Genshin Impact",
                "pattern": "[A-Za-z0-9]{6,20}",
                "verify": {
                    "url": fake.url("hk4e_global"),
                    "game_biz": "hk4e_global",
                    "origin": "https://genshin.hoyoverse.com",
                },
            },
            "hi3": {"name": "Honkai Impact 3rd", "pattern": "[A-Za-z0-9]{5,20}"},
        },
        "sources": [
            {"id": "wiki", "kind": "list", "game": "genshin", "url": "https://wiki.test/"},
            {
                "id": "fanpage",
                "kind": "list",
                "game": "genshin",
                "url": "https://fan.test/",
                "trust": "page",
            },
            {"id": "hi3-wiki", "kind": "list", "game": "hi3", "url": "https://hi3.test/"},
        ],
    }
    return parse_catalog(data)


def account_of(fake_account: FakeAccount) -> Account:
    return Account.model_validate(
        {
            "name": fake_account.name,
            "cookie": fake_account.cookie,
            "uids": {"genshin": {"uid": UID, "region": "os_usa"}},
        }
    )


class World:
    def __init__(
        self,
        fake: FakeRedeem,
        sessions: async_sessionmaker[AsyncSession],
        clock: FakeClock,
        http: httpx.AsyncClient,
        accounts: list[Account],
    ) -> None:
        self.fake = fake
        self.sessions = sessions
        self.clock = clock
        self.catalog = catalog_for(fake)
        self.scraper = ListScraper()
        self.pipeline = Pipeline(
            catalog=self.catalog,
            sessions=sessions,
            fetcher=Fetcher(httpx.AsyncClient()),
            scrapers={"list": self.scraper},
            clock=clock,
            verify_policy=POLICY,
        )
        self.released: list[dict[int, int]] = []

        async def on_released(released: Any) -> None:
            self.released.append(dict(released))

        self.verifier = Verifier(
            sessions=sessions,
            catalog=self.catalog,
            accounts=accounts,
            client=RedeemClient(http),
            policy=POLICY,
            clock=clock,
            on_released=on_released,
        )

    async def announced(self) -> list[list[str]]:
        """The codes of each announcement, in order."""
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(AnnouncementCodeRow.announcement_id, CodeRow.code)
                    .join(CodeRow, CodeRow.id == AnnouncementCodeRow.code_id)
                    .order_by(AnnouncementCodeRow.announcement_id, CodeRow.code)
                )
            ).all()
        grouped: dict[int, list[str]] = {}
        for announcement_id, code in rows:
            grouped.setdefault(announcement_id, []).append(code)
        return list(grouped.values())

    async def code(self, code: str) -> CodeRow:
        async with self.sessions() as session:
            row = await session.scalar(select(CodeRow).where(CodeRow.code == code))
        assert row is not None
        return row

    async def steps(self, count: int, every: float = 6.0) -> None:
        """`count` verifier steps, the clock moving `every` seconds after each."""
        for _ in range(count):
            await self.verifier.step()
            self.clock.advance(seconds=every)


@pytest.fixture
async def fake() -> AsyncIterator[FakeRedeem]:
    # The fake's own pacing runs on the real clock; this test moves a fake one.
    async with FakeRedeem(pace=0.0) as server:
        yield server


async def make_world(
    fake: FakeRedeem,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    http: httpx.AsyncClient,
    *names: str,
) -> World:
    accounts = [account_of(fake.add_account(name, {"hk4e_global": UID})) for name in names]
    world = World(fake, sessions, clock, http, accounts)
    async with sessions.begin() as session:
        await repository.subscribe(session, Platform.TELEGRAM, "100", "genshin", now=clock())
    await world.verifier.start()
    # A first cycle with nothing listed, so that what comes next is news, not a baseline.
    await world.pipeline.scrape_cycle()
    return world


async def test_five_codes_only_what_hoyoverse_accepts_is_announced(
    fake: FakeRedeem, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    fake.answer("hk4e_global", "VALIDCODE1", 0)
    fake.answer("hk4e_global", "EXPIREDCODE", -2001)
    fake.answer("hk4e_global", "INVALIDCODE", -2003)
    fake.answer("hk4e_global", "LATECODE1", [-2014, -2014, -2014, 0])
    fake.never_answer("hk4e_global", "SILENTCODE")
    async with build_http(0.3) as http:
        world = await make_world(fake, sessions, clock, http, "alt-1")
        codes = ["VALIDCODE1", "EXPIREDCODE", "INVALIDCODE", "LATECODE1", "SILENTCODE"]
        world.scraper.pages["wiki"] = codes
        report = await world.pipeline.scrape_cycle()
        assert report.new_codes == 5
        assert report.queued_for_verification == 5
        assert report.announcements == {}
        assert (await world.code("VALIDCODE1")).verification == "pending"

        # Five asks, one per pace: the valid one goes out on its answer, alone.
        await world.steps(5)
        assert await world.announced() == [["VALIDCODE1"]]
        assert [s.params["cdkey"] for s in fake.seen] == codes
        assert (await world.code("EXPIREDCODE")).verification == "expired"
        assert (await world.code("EXPIREDCODE")).status == "expired"
        invalid = await world.code("INVALIDCODE")
        assert invalid.verification == "invalid"
        assert invalid.announced_at is not None  # settled: never to be announced
        assert invalid.verify_answer == "retcode -2003: Invalid Redemption Code"
        late = await world.code("LATECODE1")
        assert late.verification == "pending"
        assert late.verify_not_active_since is not None
        silent = await world.code("SILENTCODE")
        assert silent.verify_attempts == 1
        assert silent.verify_answer == "HTTP 0: timed out"

        # The wait runs out: the unanswered code follows the trust rules (a wiki: announced);
        # the one HoYoverse calls not activated yet is still held.
        clock.advance(seconds=90)
        await world.verifier.step()
        assert await world.announced() == [["VALIDCODE1"], ["SILENTCODE"]]

        # Not activated yet is asked every five minutes; the fourth answer is valid.
        for _ in range(3):
            clock.advance(minutes=5)
            await world.steps(2)
        assert len(fake.asked_about("LATECODE1")) == 4
        assert await world.announced() == [["VALIDCODE1"], ["SILENTCODE"], ["LATECODE1"]]
        assert (await world.code("LATECODE1")).verification == "valid"
        assert fake.asked_about("EXPIREDCODE")[1:] == []
        assert fake.asked_about("INVALIDCODE")[1:] == []
        assert all(s.retcode != -2016 for s in fake.seen)


async def test_a_valid_code_from_a_page_alone_needs_no_second_source(
    fake: FakeRedeem, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    fake.answer("hk4e_global", "PAGECODE1", 0)
    async with build_http(1.0) as http:
        world = await make_world(fake, sessions, clock, http, "alt-1")
        world.scraper.pages["fanpage"] = ["PAGECODE1", "PAGECODE2"]
        await world.pipeline.scrape_cycle()
        await world.steps(2)
        assert await world.announced() == [["PAGECODE1"]]
        clock.advance(minutes=10)
        await world.steps(1)
        # PAGECODE2 is invalid (the fake's default), and it needed a second source anyway.
        assert await world.announced() == [["PAGECODE1"]]


async def test_an_announced_code_that_expires_is_expired_for_the_edits(
    fake: FakeRedeem, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    fake.answer("hk4e_global", "SOONGONE1", [0, 0, -2001])
    async with build_http(1.0) as http:
        world = await make_world(fake, sessions, clock, http, "alt-1")
        world.scraper.pages["wiki"] = ["SOONGONE1"]
        await world.pipeline.scrape_cycle()
        await world.steps(1)
        assert await world.announced() == [["SOONGONE1"]]
        async with sessions.begin() as session:
            await session.execute(
                update(DeliveryRow).values(state=DeliveryState.SENT, message_id="42")
            )
        announced_at = clock()
        # Rechecked every 30 minutes: first still valid, then expired.
        clock.advance(minutes=30)
        await world.steps(1)
        assert (await world.code("SOONGONE1")).status == "active"
        clock.advance(minutes=30)
        await world.steps(1)
        row = await world.code("SOONGONE1")
        assert (row.verification, row.status) == ("expired", "expired")
        async with sessions() as session:
            sent = await repository.sent_with_codes_expired_since(
                session, Platform.TELEGRAM, announced_at
            )
        assert [(s.chat_id, s.message_id) for s in sent] == [("100", "42")]
        # No more asks about an expired code.
        clock.advance(hours=2)
        await world.steps(3)
        assert len(fake.asked_about("SOONGONE1")) == 3


async def test_a_cookie_expired_account_is_reported_and_the_next_one_takes_over(
    fake: FakeRedeem, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    fake.answer("hk4e_global", "TAKEOVER1", 0)
    async with build_http(1.0) as http:
        world = await make_world(fake, sessions, clock, http, "alt-1", "alt-2")
        next(a for a in fake.accounts.values() if a.name == "alt-1").expired = True
        world.scraper.pages["wiki"] = ["TAKEOVER1"]
        await world.pipeline.scrape_cycle()
        await world.steps(2, every=0.0)
        assert [(s.account, s.retcode) for s in fake.seen] == [("alt-1", -1071), ("alt-2", 0)]
        assert await world.announced() == [["TAKEOVER1"]]
        async with sessions() as session:
            statuses = {a.name: a for a in await verify_queue.account_statuses(session)}
        assert statuses["alt-1"].state == "out"
        assert statuses["alt-1"].out_reason == "cookie expired"
        assert (
            statuses["alt-1"].last_answer == "retcode -1071: Please log in to your account first"
        )
        assert statuses["alt-2"].state == "ok"


async def test_with_every_account_out_new_codes_follow_the_trust_rules_at_once(
    fake: FakeRedeem, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with build_http(1.0) as http:
        world = await make_world(fake, sessions, clock, http, "alt-1")
        next(iter(fake.accounts.values())).expired = True
        world.scraper.pages["wiki"] = ["FIRSTCODE1"]
        await world.pipeline.scrape_cycle()
        await world.steps(1)
        # The one account is out: the held code goes by the trust rules without the wait.
        await world.steps(1, every=0.0)
        assert await world.announced() == [["FIRSTCODE1"]]
        world.scraper.pages["wiki"] = ["FIRSTCODE1", "SECONDCODE1"]
        report = await world.pipeline.scrape_cycle()
        assert report.queued_for_verification == 0
        assert await world.announced() == [["FIRSTCODE1"], ["SECONDCODE1"]]


async def test_zenless_family_siblings_need_an_account_that_did_not_use_the_family(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with FakeRedeem(pace=0.0, families={"nap_global": "ZZZ[0-9]{2}"}) as fake:
        fake.answer("nap_global", "ZZZ01AAAA", 0)
        fake.answer("nap_global", "ZZZ01BBBB", 0)
        fake.answer("nap_global", "ZZZ01CCCC", 0)
        data: dict[str, Any] = {
            "games": {
                "zzz": {
                    "name": "Zenless Zone Zero",
                    "pattern": "[A-Za-z0-9]{6,20}",
                    "family": "ZZZ[0-9]{2}",
                    "verify": {
                        "url": fake.url("nap_global"),
                        "game_biz": "nap_global",
                        "origin": "https://zenless.hoyoverse.com",
                    },
                }
            },
            "sources": [{"id": "zwiki", "kind": "list", "game": "zzz", "url": "https://z.test/"}],
        }
        catalog = parse_catalog(data)
        accounts = [
            Account.model_validate(
                {
                    "name": name,
                    "cookie": fake.add_account(name, {"nap_global": "1000000001"}).cookie,
                    "uids": {"zzz": {"uid": "1000000001", "region": "prod_gf_us"}},
                }
            )
            for name in ("alt-1", "alt-2")
        ]
        scraper = ListScraper()
        pipeline = Pipeline(
            catalog=catalog,
            sessions=sessions,
            fetcher=Fetcher(httpx.AsyncClient()),
            scrapers={"list": scraper},
            clock=clock,
            verify_policy=POLICY,
        )
        async with build_http(1.0) as http:
            verifier = Verifier(
                sessions=sessions,
                catalog=catalog,
                accounts=accounts,
                client=RedeemClient(http),
                policy=POLICY,
                clock=clock,
            )
            await verifier.start()
            await pipeline.scrape_cycle()
            scraper.pages["zwiki"] = ["ZZZ01AAAA", "ZZZ01BBBB", "ZZZ01CCCC"]
            await pipeline.scrape_cycle()
            for _ in range(4):
                await verifier.step()
                clock.advance(seconds=6)
        # Each account redeemed one of the family; the third sibling was asked of no one.
        assert [(s.account, s.params["cdkey"], s.retcode) for s in fake.seen] == [
            ("alt-1", "ZZZ01AAAA", 0),
            ("alt-2", "ZZZ01BBBB", 0),
        ]
        async with sessions() as session:
            rows = {r.code: r for r in (await session.execute(select(CodeRow))).scalars()}
        assert rows["ZZZ01AAAA"].verification == Verification.VALID
        assert rows["ZZZ01BBBB"].verification == Verification.VALID
        third = rows["ZZZ01CCCC"]
        assert third.verification == Verification.UNVERIFIED
        assert third.verify_answer == "every account has used the ZZZ01 family"


async def test_codes_no_account_can_check_do_not_keep_others_waiting(
    fake: FakeRedeem, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with build_http(1.0) as http:
        world = await make_world(fake, sessions, clock, http, "alt-1")
        fake.answer("hk4e_global", "FIRSTCODE1", -1071)
        world.scraper.pages["wiki"] = ["FIRSTCODE1"]
        next(iter(fake.accounts.values())).expired = True
        await world.pipeline.scrape_cycle()
        await world.steps(2)
        # The account is out: the code is announced by the trust rules, and out of the way.
        assert await world.announced() == [["FIRSTCODE1"]]
        row = await world.code("FIRSTCODE1")
        assert row.verify_next_at is not None
        assert row.verify_next_at > clock()
        async with sessions() as session:
            assert await verify_queue.due_codes(session, clock()) == []
