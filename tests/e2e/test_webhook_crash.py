"""Nothing lost: kill -9 in the middle of a fan-out to signed JSON webhooks, then restart."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.domain import Platform
from bot.store import database, repository
from tests.e2e.crash_harness import CATALOG, Daemon, outbox_states, poll
from tests.fakes.webhook_receiver import Receiver
from tests.seed import add_code

pytestmark = pytest.mark.slow

TARGETS = 1_000
# Sends in flight plus outcomes not yet written: DeliveryWorker's duplicate bound with the
# default settings (concurrency 16 + flush size 50).
DUPLICATE_BOUND = 16 + 50
# Each receiver answers after this long, so that the fan-out lasts seconds, not a blink.
RECEIVER_LATENCY = 0.05


async def seed(url: str, receiver: Receiver) -> int:
    """A signed webhook target per path, each subscribed, and one announcement to them all."""
    engine = database.create_engine(url)
    sessions = database.session_factory(engine)
    now = datetime.now(UTC)
    try:
        async with sessions.begin() as session:
            for number in range(TARGETS):
                path = f"/hooks/{number}"
                key = f"key-{number}"
                receiver.keys[path] = key
                target = await repository.save_target(
                    session,
                    Platform.WEBHOOK,
                    receiver.url(path),
                    label=f"hook {number}",
                    origin=repository.ORIGIN_CLI,
                    now=now,
                    signing_key=key,
                )
                await repository.subscribe(
                    session, Platform.WEBHOOK, target.key, "genshin", now=now
                )
            code = await add_code(session, game="genshin", code="CRASHSAFE2026", now=now)
            _, count = await repository.create_announcement(session, "genshin", [code.id], now)
    finally:
        await engine.dispose()
    return count


def environment(tmp_path: Path, url: str) -> dict[str, str]:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(CATALOG, encoding="utf-8")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CODECAST_") and k not in ("TELEGRAM_TOKEN", "DISCORD_TOKEN")
    }
    env.update(
        CODECAST_DATABASE_URL=url,
        CODECAST_SITE_DIR=str(tmp_path / "public"),
        CODECAST_CATALOG=str(catalog),
        CODECAST_SCRAPE_INTERVAL="3600",
        CODECAST_DELIVERY_LEASE="3",
        CODECAST_DELIVERY_RETRY_BASE="0.5",
        # Only the JSON webhooks: the other kinds have nothing to send here.
        CODECAST_DISCORD_WEBHOOKS="false",
        CODECAST_APPRISE="false",
    )
    return env


async def test_kill_9_during_a_webhook_fan_out_loses_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'codecast.db'}"
    await asyncio.to_thread(database.upgrade, url)
    async with Receiver(latency=RECEIVER_LATENCY, record=False) as receiver:
        queued = await seed(url, receiver)
        assert queued == TARGETS

        def delivered() -> int:
            return len(receiver.accepted)

        async def enough() -> bool:
            return delivered() >= queued / 3

        async def drained() -> bool:
            return (await outbox_states(url)).get("pending", 0) == 0

        env = environment(tmp_path, url)
        first = await Daemon(env).start()
        if not await poll(enough, 120):
            await first.stop()
            raise AssertionError("no progress before the kill:\n" + first.text[-5000:])
        first.kill()
        await first.stop()
        at_kill = delivered()
        second = await Daemon(env).start()
        finished = await poll(drained, 180)
        code = await second.stop()
        assert finished, second.text[-5000:]
        assert code == 0, second.text[-5000:]
        # The precondition: the fan-out had not ended when the process was killed.
        assert at_kill < queued, "the fan-out ended before the kill"
        assert await outbox_states(url) == {"sent": queued}
        assert receiver.forged == 0  # every POST carried a good signature
        counts = Counter(receiver.accepted)
        assert len(counts) == TARGETS, "a webhook got nothing"
        doubles = sum(n - 1 for n in receiver.accepted.values())
        assert doubles <= DUPLICATE_BOUND, doubles
