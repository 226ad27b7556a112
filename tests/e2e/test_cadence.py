"""Codes within a minute: `codecast run` at its default cadence, a wiki edit, a Telegram chat.

No CODECAST_SCRAPE_INTERVAL: the wiki source polls at its default (60 s, with jitter), its
host spaced as by default. The test waits for the daemon's first poll, edits the page, and
measures how long the new code takes to reach the subscriber: at most one interval, so the
test waits about a minute of real time.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.domain import Platform
from bot.store import database, repository
from tests.e2e.crash_harness import Daemon, poll
from tests.fakes.mediawiki import FakeMediaWiki, code_page
from tests.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.slow

CHAT = 5150
TITLE = "Promotional Code"
# The goal: a code known within 60 s of its appearing; the margin covers the jitter (5 %),
# the fetch, parse, commit and the delivery on a loaded machine.
WITHIN = 75.0


async def subscribe(url: str, chat: int) -> None:
    await asyncio.to_thread(database.upgrade, url)
    engine = database.create_engine(url)
    try:
        async with database.session_factory(engine).begin() as session:
            await repository.subscribe(
                session, Platform.TELEGRAM, str(chat), "genshin", now=datetime.now(UTC)
            )
    finally:
        await engine.dispose()


def environment(tmp_path: Path, url: str, tg: FakeTelegram, wiki: FakeMediaWiki) -> dict[str, str]:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        '[games.genshin]\nname = "Genshin Impact"\npattern = "[A-Za-z0-9]{6,24}"\n'
        'redeem_url = "https://genshin.hoyoverse.com/en/gift?code={code}"\n\n'
        '[[sources]]\nid = "wiki"\nkind = "fandom"\ngame = "genshin"\n'
        f'url = "{wiki.url(TITLE.replace(" ", "_"))}"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODECAST_")}
    env.pop("DISCORD_TOKEN", None)
    env.update(
        CODECAST_DATABASE_URL=url,
        CODECAST_SITE_DIR=str(tmp_path / "public"),
        CODECAST_CATALOG=str(catalog),
        TELEGRAM_TOKEN=tg.token,
        CODECAST_TELEGRAM_API_URL=tg.base_url,
        PTB_TIMEDELTA="true",
    )
    return env


async def test_a_code_added_to_a_wiki_reaches_a_telegram_chat_within_75_seconds(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'codecast.db'}"
    async with FakeTelegram(rate_limits=None) as tg, FakeMediaWiki() as wiki:
        wiki.edit(TITLE, code_page("GENSHINGIFT", "OLDCODE1234"))
        await subscribe(url, CHAT)
        daemon = await Daemon(environment(tmp_path, url, tg, wiki)).start()
        try:
            # The first poll reads the page: a baseline, announced to nobody.
            assert await poll(lambda: _logged(daemon, "poll wiki: read"), 60), daemon.text
            assert "each at its own cadence" in daemon.text
            wiki.edit(TITLE, code_page("GENSHINGIFT", "OLDCODE1234", "LIVESTREAM2026"))
            edited = time.monotonic()

            async def delivered() -> bool:
                return any("LIVESTREAM2026" in m.text for m in tg.sent_messages(CHAT))

            assert await poll(delivered, WITHIN + 15), daemon.text[-3000:]
            took = time.monotonic() - edited
        finally:
            assert await daemon.stop() == 0, daemon.text[-3000:]
    assert took <= WITHIN, f"the code took {took:.1f}s"
    assert [m for m in tg.sent_messages(CHAT) if "OLDCODE1234" in m.text] == []
    # Between the two reads, polls asked only for the revision id.
    assert wiki.count("content") == 2
    assert all(a.bytes < 1024 for a in wiki.asked if a.what == "info")


async def _logged(daemon: Daemon, text: str) -> bool:
    return text in daemon.text
