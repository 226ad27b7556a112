"""Several codecast processes on one PostgreSQL database: shared delivery, one scheduler."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_ADMIN_URL, postgres_admin
from tests.e2e.crash_harness import (
    Daemon,
    build_world,
    daemon_environment,
    outbox_states,
    poll,
    seed,
    senders,
)
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.source_site import FixtureSite, Page
from tests.fakes.telegram_api import FakeTelegram

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PER_PLATFORM = 2_500
ELECTED = "this process runs the scrape schedule"


@pytest.fixture
def scale_db(postgres_url: str) -> object:
    """A database of its own for the processes under test (postgres_url checks the server)."""
    name = f"codecast_scale_{uuid.uuid4().hex[:8]}"
    asyncio.run(postgres_admin(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    asyncio.run(postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def test_two_processes_share_the_delivery_and_only_one_scrapes(
    tmp_path: Path, scale_db: str
) -> None:
    async with (
        FakeTelegram(rate_limits=None) as tg,
        FakeDiscord(global_limit=5000, echo_messages=False) as dc,
        FixtureSite() as site,
    ):
        site.pages["codes.txt"] = Page(b"Redeem code: NOTHINGNEW1 (expired)", "text/plain")
        fleet = build_world(dc, PER_PLATFORM, PER_PLATFORM)
        queued = await seed(scale_db, fleet)
        # A lease longer than the harness's 3 s: nobody dies here, and a process stalled a few
        # seconds on a busy machine must not see its rows taken over and sent twice.
        env = daemon_environment(
            tmp_path, scale_db, tg, dc, CODECAST_SCRAPE_INTERVAL="2", CODECAST_DELIVERY_LEASE="20"
        )
        source = (
            f'\n[[sources]]\nid = "one-page"\nkind = "page"\ngame = "genshin"\n'
            f'url = "{site.url("codes.txt")}"\n'
        )
        catalog = tmp_path / "catalog.toml"
        with catalog.open("a", encoding="utf-8") as file:
            file.write(source)
        daemons = [await Daemon(env).start() for _ in range(2)]

        async def drained() -> bool:
            return (await outbox_states(scale_db)).get("pending", 0) == 0

        try:
            assert await poll(drained, 180), daemons[0].text[-3000:] + daemons[1].text[-3000:]
            # A few more scrape intervals: still one scraper.
            await asyncio.sleep(5)
            # Judged before the stop: once the scheduler has stopped and freed the lock, the
            # other process may rightly take it over in the moment before it stops too.
            running_logs = [d.text for d in daemons]
            scrapes = len(site.requests)
        finally:
            codes = [await d.stop() for d in daemons]
        assert codes == [0, 0], daemons[0].text[-3000:] + daemons[1].text[-3000:]

    assert await outbox_states(scale_db) == {"sent": queued}
    telegram = Counter(m.chat_id for m in tg.sent_messages())
    discord = Counter(m.channel_id for m in dc.messages() if m.kind == "channel")
    assert set(telegram) == set(fleet.telegram_chats)
    assert set(discord) == set(fleet.discord_channels)
    assert max(telegram.values()) == 1, "a Telegram chat got the code twice"
    assert max(discord.values()) == 1, "a Discord channel got the code twice"
    by_process = Counter()
    for worker, count in (await senders(scale_db)).items():
        by_process[worker.split("-")[-2]] += count
    assert len(by_process) == 2, f"only one process delivered: {by_process}"
    elected = [n for n, text in enumerate(running_logs) if ELECTED in text]
    assert len(elected) == 1, "not exactly one scheduler"
    scrapers = [n for n, text in enumerate(running_logs) if "poll one-page: read" in text]
    assert scrapers == elected
    assert scrapes >= 2  # the elected one scraped every interval
