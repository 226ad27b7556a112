"""Verification end to end: `codecast run` against fake Telegram, Discord, a source site and
HoYoverse's redeem endpoint, on SQLite and PostgreSQL.

A page lists five codes: one valid, one expired, one invalid, one "not activated yet" that
goes live on its fourth check, and one the endpoint never answers. Exactly the valid one is
announced at once, the late one when it goes live, the unanswered one after the wait by the
trust rules, the others never; the valid one later answers expired and its sent messages are
edited; the first account's cookie has expired, it is reported, and the second takes over.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_ADMIN_URL, postgres_admin
from tests.e2e.crash_harness import Daemon, daemon_environment, poll
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.redeem import FakeRedeem
from tests.fakes.source_site import FixtureSite, Page
from tests.fakes.telegram_api import FakeTelegram
from tests.seed import add_subscriptions

pytestmark = pytest.mark.slow

VALID, EXPIRED, INVALID, LATE, SILENT = (
    "K7PQ2WXM9A",
    "R4ST8UVW2B",
    "Z9XY7QWE3C",
    "M5NB6VCX4D",
    "H2JK3LMN5E",
)
UID = "700000001"
CHAT = 5_000_001
PACE = 0.4  # the daemon's pacing; the fake refuses anything faster than FAKE_PACE
FAKE_PACE = 0.3


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'codecast.db'}"
        return
    request.getfixturevalue("postgres_url")  # checks the server (skip or fail as the run says)
    name = f"codecast_verify_{uuid.uuid4().hex[:8]}"
    asyncio.run(postgres_admin(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    asyncio.run(postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def stop_report(log: str) -> str:
    """The daemon's stop as it logged it: what it waited for when its deadline passed."""
    stop = log[log.rfind("stopping\n") :] if "stopping\n" in log else log[-3000:]
    return stop[-8000:]


def page(*codes: str) -> Page:
    lines = ["Genshin Impact redeem codes", "", "Redeem code: NOTHINGNEW1 (expired)"]
    lines += [f"Redeem code: {code}" for code in codes]
    return Page("\n".join(lines).encode(), "text/plain")


async def subscribe(url: str, channel: int) -> None:
    from bot.store import database

    await asyncio.to_thread(database.upgrade, url)
    engine = database.create_engine(url)
    try:
        async with database.session_factory(engine).begin() as session:
            await add_subscriptions(
                session,
                [("telegram", str(CHAT), None), ("discord", str(channel), "0")],
                game="genshin",
                now=datetime.now(UTC),
            )
    finally:
        await engine.dispose()


async def codecast(*args: str, env: dict[str, str]) -> str:
    import sys

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env, stdout=asyncio.subprocess.PIPE
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0
    return stdout.decode()


async def test_only_what_hoyoverse_accepts_is_announced(url: str, tmp_path: Path) -> None:
    async with (
        FakeTelegram(rate_limits=None) as tg,
        FakeDiscord(global_limit=5000) as dc,
        FixtureSite() as site,
        FakeRedeem(pace=FAKE_PACE) as redeem,
    ):
        redeem.answer("hk4e_global", VALID, [0, 0, -2001])
        redeem.answer("hk4e_global", EXPIRED, -2001)
        redeem.answer("hk4e_global", INVALID, -2003)
        redeem.answer("hk4e_global", LATE, [-2014, -2014, -2014, 0])
        redeem.never_answer("hk4e_global", SILENT)
        alt1 = redeem.add_account("alt-1", {"hk4e_global": UID})
        alt2 = redeem.add_account("alt-2", {"hk4e_global": UID})
        alt1.expired = True
        accounts = tmp_path / "accounts.toml"
        accounts.write_text(
            "".join(
                f'[[accounts]]\nname = "{a.name}"\ncookie = "{a.cookie}"\n'
                f'uids = {{ genshin = {{ uid = "{UID}", region = "os_usa" }} }}\n'
                for a in (alt1, alt2)
            ),
            encoding="utf-8",
        )
        accounts.chmod(0o600)
        [channel] = dc.add_guild("Codes", channels=("codes",)).channels
        await subscribe(url, channel)
        site.pages["codes.txt"] = page()
        env = daemon_environment(
            tmp_path,
            url,
            tg,
            dc,
            CODECAST_SCRAPE_INTERVAL="1",
            CODECAST_LOG_LEVEL="DEBUG",
            CODECAST_VERIFY_ACCOUNTS_FILE=str(accounts),
            CODECAST_VERIFY_PACE=str(PACE),
            # Long enough for the valid code's first check on a loaded machine, and short
            # enough that the unanswered code goes out well before the late one's fourth
            # answer (three asks "not activated yet" later).
            CODECAST_VERIFY_WAIT="8",
            CODECAST_VERIFY_NOT_ACTIVE_EVERY="4",
            CODECAST_VERIFY_RECHECK="4",
            CODECAST_VERIFY_TIMEOUT="1",
            CODECAST_VERIFY_RETRY_BASE="1",
            CODECAST_VERIFY_COOLDOWN="1",
            CODECAST_EXPIRY_CHECK="0.5",
        )
        with (tmp_path / "catalog.toml").open("a", encoding="utf-8") as catalog:
            catalog.write(
                "\n[games.genshin.verify]\n"
                f'url = "{redeem.url("hk4e_global")}"\n'
                'game_biz = "hk4e_global"\norigin = "https://genshin.hoyoverse.com"\n'
                # A page the catalog trusts: alone, it announces on first sight.
                f'\n[[sources]]\nid = "codes-page"\nkind = "page"\ngame = "genshin"\n'
                f'url = "{site.url("codes.txt")}"\ntrusted = true\n'
            )
        daemon = await Daemon(env).start()
        try:
            assert await poll(lambda: _logged(daemon, "poll codes-page: read"), 60), daemon.text[
                -3000:
            ]
            # The first poll was a baseline; these five are news.
            site.pages["codes.txt"] = page(VALID, EXPIRED, INVALID, LATE, SILENT)

            async def late_sent() -> bool:
                return any(LATE in m.text for m in tg.sent_messages(CHAT))

            assert await poll(late_sent, 90), daemon.text[-5000:]

            async def edited() -> bool:
                first = tg.sent_messages(CHAT)[0]
                now = tg.message(CHAT, first.message_id)
                return now is not None and "(expired)" in now.text

            assert await poll(edited, 60), daemon.text[-5000:]
            status = await codecast("status", env=env)
            sources_page = (tmp_path / "public" / "sources.html").read_text(encoding="utf-8")
        finally:
            assert await daemon.stop() == 0, stop_report(daemon.text)

    # Telegram: the valid one alone and at once, then the unanswered one after the wait, then
    # the late one; the expired and the invalid never.
    texts = [m.text for m in tg.sent_messages(CHAT)]
    assert len(texts) == 3, texts
    assert VALID in texts[0]
    assert all(code not in texts[0] for code in (EXPIRED, INVALID, LATE, SILENT))
    assert "✓ checked" in texts[0]
    assert SILENT in texts[1]
    assert "✓ checked" not in texts[1]
    assert LATE in texts[2]
    assert "✓ checked" in texts[2]
    assert all(EXPIRED not in t and INVALID not in t for t in texts)
    # Discord got the same three, and its first message was edited when the code expired.
    discord = [m for m in dc.messages(channel) if m.kind == "channel"]
    assert len(discord) == 3
    assert VALID in str(discord[0].request)
    assert discord[0].edits, "the expired code's Discord message was not edited"
    # The late code was asked until its fourth answer, which was valid.
    late = [s.retcode for s in redeem.asked_about(LATE)]
    assert late[:4] == [-2014, -2014, -2014, 0]
    # The first account answered "log in" once and was never asked again; the second took over.
    assert redeem.seen[0].account == "alt-1"
    assert redeem.seen[0].retcode == -1071
    assert {s.account for s in redeem.seen[1:]} == {"alt-2"}
    assert "verification account alt-1: cookie expired" in status
    assert "verification account alt-1: cookie expired" in sources_page
    assert daemon.text.count("verification account alt-1: cookie expired") == 1
    # Paced: never a cooldown, never two asks on one account closer than the fake allows.
    assert all(s.retcode != -2016 for s in redeem.seen)
    times = [s.at for s in redeem.seen if s.account == "alt-2"]
    assert min(b - a for a, b in itertools.pairwise(times)) >= FAKE_PACE
    # The cookies are nowhere in the daemon's log, written at DEBUG.
    for account in (alt1, alt2):
        assert account.cookie_token not in daemon.text
        assert account.cookie_token not in status


async def _logged(daemon: Daemon, text: str) -> bool:
    return text in daemon.text
