"""`codecast submit`: the operator's report, approved at once and queued for every subscriber."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.store import database
from bot.store.models import DeliveryRow, SubmissionRow
from tests.seed import add_subscriptions


def codecast(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CODECAST_DATABASE_URL": url, "CODECAST_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True, timeout=60
    )


async def _subscribe_and_count(url: str, *, subscribe: bool) -> tuple[int, int]:
    engine = database.create_engine(url)
    try:
        sessions = database.session_factory(engine)
        if subscribe:
            async with sessions.begin() as session:
                await add_subscriptions(
                    session,
                    [("telegram", "5001", None), ("discord", "6001", "7001")],
                    game="genshin",
                    now=datetime.now(UTC),
                )
        async with sessions() as session:
            deliveries = await session.scalar(select(func.count(DeliveryRow.id)))
            reports = await session.scalar(select(func.count(SubmissionRow.id)))
    finally:
        await engine.dispose()
    return int(deliveries or 0), int(reports or 0)


def test_submit_from_the_shell_announces_a_code_at_once(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'codecast.db'}"
    database.upgrade(url)
    asyncio.run(_subscribe_and_count(url, subscribe=True))
    done = codecast(
        "submit", "--game", "genshin", "--rewards", "60 Primogems", "SHELLGIFT1", url=url
    )
    assert done.returncode == 0, done.stderr
    assert "SHELLGIFT1: approved and announced to 2 subscriber(s)" in done.stdout
    assert asyncio.run(_subscribe_and_count(url, subscribe=False)) == (2, 1)
    # The same code again is known; a pasted redeem link is read; garbage is refused clearly.
    again = codecast("submit", "--game", "genshin", "shellgift1", url=url)
    assert again.returncode == 2
    assert "known-active" in again.stderr
    link = "https://genshin.hoyoverse.com/en/gift?code=SHELLGIFT2"
    assert codecast("submit", "--game", "genshin", link, url=url).returncode == 0
    bad = codecast("submit", "--game", "genshin", "no!", url=url)
    assert bad.returncode == 2
    assert "does not look like a Genshin Impact code" in bad.stderr
    assert asyncio.run(_subscribe_and_count(url, subscribe=False)) == (4, 2)
