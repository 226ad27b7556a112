"""codecast rides out what goes wrong around it: a dead scheduler, a database that drops every
connection, a platform that answers nothing but errors for half a minute."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store import database
from bot.store.models import CodeRow
from tests.conftest import POSTGRES_ADMIN_URL, postgres_admin
from tests.demo import EMPTY_LIVESTREAM, fresh_livestream
from tests.e2e.crash_harness import (
    Daemon,
    Fleet,
    build_world,
    daemon_environment,
    outbox_states,
    poll,
    seed,
)
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.source_site import FixtureSite, Page
from tests.fakes.telegram_api import FakeTelegram
from tests.recorded import LOCAL_FIXTURES
from tests.seed import add_subscriptions

pytestmark = pytest.mark.slow

DUPLICATE_BOUND = 16 + 50
ELECTED = "this process runs the scrape schedule"


@pytest.fixture
def own_db(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL database for the processes under test (postgres_url checks the server)."""
    name = f"codecast_resilience_{uuid.uuid4().hex[:8]}"
    asyncio.run(postgres_admin(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    asyncio.run(postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def drop_connections(engine: AsyncEngine) -> None:
    """End every other connection to the database, as PostgreSQL does when it restarts."""
    async with engine.connect() as connection:
        await connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )


def with_source(tmp_path: Path, site: FixtureSite) -> None:
    site.pages["codes.txt"] = Page(b"Redeem code: NOTHINGNEW1 (expired)", "text/plain")
    with (tmp_path / "catalog.toml").open("a", encoding="utf-8") as file:
        file.write(
            f'\n[[sources]]\nid = "one-page"\nkind = "page"\ngame = "genshin"\n'
            f'url = "{site.url("codes.txt")}"\n'
        )


@pytest.mark.postgres
async def test_scheduler_moves_to_another_process_when_its_holder_is_killed(
    tmp_path: Path, own_db: str
) -> None:
    interval = 3.0
    async with (
        FakeTelegram(rate_limits=None) as tg,
        FakeDiscord(echo_messages=False) as dc,
        FixtureSite() as site,
    ):
        build_world(dc, 0, 1)
        await asyncio.to_thread(database.upgrade, own_db)
        env = daemon_environment(tmp_path, own_db, tg, dc, CODECAST_SCRAPE_INTERVAL=str(interval))
        with_source(tmp_path, site)
        daemons = [await Daemon(env).start() for _ in range(2)]
        try:

            async def elected() -> bool:
                return any(ELECTED in d.text for d in daemons)

            assert await poll(elected, 60), daemons[0].text + daemons[1].text
            await asyncio.sleep(1)
            [holder] = [d for d in daemons if ELECTED in d.text]
            [other] = [d for d in daemons if d is not holder]
            holder.kill()
            killed_at = time.monotonic()

            async def took_over() -> bool:
                return ELECTED in other.text

            assert await poll(took_over, 30), other.text
            took = time.monotonic() - killed_at
            asked = len(site.requests)

            async def polled() -> bool:
                return len(site.requests) > asked

            assert await poll(polled, 30), other.text
        finally:
            for daemon in daemons:
                await daemon.stop()
    # Within one interval of the death (the other process checks the lock once an interval;
    # a second more for a loaded machine).
    assert took <= interval + 1, f"took over after {took:.1f}s"


@pytest.mark.postgres
async def test_database_connections_dropped_mid_delivery_lose_and_double_nothing(
    tmp_path: Path, own_db: str
) -> None:
    # At the platforms' real rates (Telegram 30/s, Discord 50/s) these chats take several
    # seconds to reach, so the connections are dropped while delivery is under way.
    async with (
        FakeTelegram(latency=0.01) as tg,
        FakeDiscord(echo_messages=False) as dc,
    ):
        fleet = build_world(dc, 300, 300)
        queued = await seed(own_db, fleet)
        env = daemon_environment(
            tmp_path,
            own_db,
            tg,
            dc,
            CODECAST_TELEGRAM_RATE_OVERALL="30",
            CODECAST_DISCORD_GLOBAL_RATE="50",
        )
        daemon = await Daemon(env).start()
        engine = database.create_engine(own_db)
        try:

            async def started() -> bool:
                return (await outbox_states(own_db)).get("sent", 0) > 0

            assert await poll(started, 120), daemon.text[-5000:]
            # Every second, PostgreSQL ends every connection codecast has, as it does when it
            # restarts: in the middle of claims, sends and the writing of outcomes.
            drops_mid_delivery = 0
            while drops_mid_delivery < 5 and (await outbox_states(own_db)).get("pending", 0):
                await drop_connections(engine)
                drops_mid_delivery += 1
                await asyncio.sleep(1.0)
            assert drops_mid_delivery >= 3, "delivery ended before the connections were dropped"

            async def drained() -> bool:
                return (await outbox_states(own_db)).get("pending", 0) == 0

            assert await poll(drained, 180), daemon.text[-5000:]
        finally:
            await engine.dispose()
            code = await daemon.stop()
    assert code == 0, daemon.text[-5000:]
    assert await outbox_states(own_db) == {"sent": queued}
    telegram = Counter(m.chat_id for m in tg.sent_messages())
    discord = Counter(m.channel_id for m in dc.messages() if m.kind == "channel")
    assert set(telegram) == set(fleet.telegram_chats)
    assert set(discord) == set(fleet.discord_channels)
    assert sum(n - 1 for n in telegram.values()) <= DUPLICATE_BOUND
    assert max(discord.values()) == 1


async def subscribe_only(url: str, fleet: Fleet) -> None:
    """Every chat subscribed to genshin, nothing queued yet."""
    await asyncio.to_thread(database.upgrade, url)
    engine = database.create_engine(url)
    try:
        async with database.session_factory(engine).begin() as session:
            chats = [("telegram", str(chat), None) for chat in fleet.telegram_chats]
            await add_subscriptions(session, chats, game="genshin", now=datetime.now(UTC))
    finally:
        await engine.dispose()


async def announced_codes(url: str) -> list[str]:
    engine = database.create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(CodeRow.code).where(CodeRow.announced_at.is_not(None))
            )
            return sorted(rows.scalars())
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_database_connections_dropped_mid_cycle_the_next_cycle_announces_once(
    tmp_path: Path, own_db: str
) -> None:
    livestream = LOCAL_FIXTURES / "hoyolab" / "genshin_material_livestream.json"
    async with (
        FakeTelegram(rate_limits=None) as tg,
        FakeDiscord(echo_messages=False) as dc,
        FixtureSite() as site,
    ):
        # Enough subscribers that a cycle's fan-out keeps a transaction open for a while.
        fleet = build_world(dc, 2000, 0)
        await subscribe_only(own_db, fleet)
        site.pages["hoyolab/genshin"] = Page(EMPTY_LIVESTREAM, "application/json")
        env = daemon_environment(tmp_path, own_db, tg, dc, CODECAST_SCRAPE_INTERVAL="1")
        with (tmp_path / "catalog.toml").open("a", encoding="utf-8") as file:
            file.write(
                '\n[[sources]]\nid = "hoyolab-genshin"\nkind = "hoyolab"\ngame = "genshin"\n'
                f'trust = "official"\nmay_be_empty = true\nurl = "{site.url("hoyolab/genshin")}"\n'
            )
        daemon = await Daemon(env).start()
        engine = database.create_engine(own_db)
        try:

            async def baseline() -> bool:
                return "poll hoyolab-genshin: read" in daemon.text

            assert await poll(baseline, 60), daemon.text[-5000:]
            # A livestream: the next cycles find its codes while PostgreSQL ends every
            # connection codecast has, over and over, until a cycle has failed part-way.
            site.pages["hoyolab/genshin"] = Page(
                fresh_livestream(livestream, time.time()), "application/json"
            )
            failed = "poll of hoyolab-genshin failed: database unavailable"
            deadline = time.monotonic() + 30
            while failed not in daemon.text and time.monotonic() < deadline:
                await drop_connections(engine)
                await asyncio.sleep(0.02)
            assert failed in daemon.text, "no poll was caught by the dropped connections"

            async def delivered() -> bool:
                states = await outbox_states(own_db)
                return states.get("sent", 0) >= len(fleet.telegram_chats) and not states.get(
                    "pending"
                )

            assert await poll(delivered, 120), daemon.text[-5000:]
            await asyncio.sleep(2.5)  # two more cycles: they must find nothing new
        finally:
            await engine.dispose()
            code = await daemon.stop()
    assert code == 0, daemon.text[-5000:]
    codes = await announced_codes(own_db)
    assert codes, "the livestream's codes were not announced"
    # One announcement, whatever the failed cycles had begun: one row, one message per chat.
    assert await outbox_states(own_db) == {"sent": len(fleet.telegram_chats)}
    telegram = Counter(m.chat_id for m in tg.sent_messages())
    assert set(telegram) == set(fleet.telegram_chats)
    assert sum(n - 1 for n in telegram.values()) <= DUPLICATE_BOUND
    for message in tg.sent_messages()[:5]:
        assert all(c in message.text for c in codes)


async def test_platform_outage_of_thirty_seconds_delays_but_loses_nothing(
    tmp_path: Path,
) -> None:
    async with (
        FakeTelegram(rate_limits=None) as tg,
        FakeDiscord(global_limit=5000, echo_messages=False) as dc,
    ):
        fleet = build_world(dc, 200, 200)
        url = f"sqlite+aiosqlite:///{tmp_path / 'codecast.db'}"
        queued = await seed(url, fleet)
        env = daemon_environment(tmp_path, url, tg, dc, CODECAST_DELIVERY_MAX_ATTEMPTS="30")
        tg.outage(30, "500")
        dc.outage(30, "drop")
        started = time.monotonic()
        daemon = await Daemon(env).start()
        try:

            async def drained() -> bool:
                return (await outbox_states(url)).get("pending", 0) == 0

            assert await poll(drained, 150), daemon.text[-5000:]
        finally:
            code = await daemon.stop()
    assert code == 0, daemon.text[-5000:]
    assert time.monotonic() - started >= 30
    assert await outbox_states(url) == {"sent": queued}
    assert {m.chat_id for m in tg.sent_messages()} == set(fleet.telegram_chats)
    assert {m.channel_id for m in dc.messages() if m.kind == "channel"} == set(
        fleet.discord_channels
    )
