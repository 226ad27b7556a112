"""Delivery throughput of one codecast process versus two on one PostgreSQL database.

Usage: python bench/bench_scaleout.py [--per-platform 5000]
Each run queues one announcement to that many Telegram chats and Discord channels on fake
platforms with no rate limits (127.0.0.1), starts 1 or 2 `codecast run` processes, and
times the drain of the outbox. The fakes run in this process and share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.conftest import POSTGRES_ADMIN_URL, postgres_admin
from tests.e2e.crash_harness import (
    Daemon,
    build_world,
    daemon_environment,
    outbox_states,
    poll,
    seed,
)
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram


async def drain_with(processes: int, per_platform: int, folder: Path) -> tuple[float, int]:
    name = f"codecast_bench_{uuid.uuid4().hex[:8]}"
    await postgres_admin(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        async with (
            FakeTelegram(rate_limits=None, record=False) as tg,
            FakeDiscord(rate_limits=False, echo_messages=False) as dc,
        ):
            fleet = build_world(dc, per_platform, per_platform)
            queued = await seed(url, fleet)
            env = daemon_environment(
                folder,
                url,
                tg,
                dc,
                CODECAST_TELEGRAM_RATE_OVERALL="100000",
                CODECAST_DISCORD_GLOBAL_RATE="100000",
                CODECAST_LOG_LEVEL="WARNING",
            )

            async def drained() -> bool:
                return (await outbox_states(url)).get("pending", 0) == 0

            async def sending() -> bool:
                return tg.sent_count + len(dc.messages()) > 0

            daemons = [await Daemon(env).start() for _ in range(processes)]
            try:
                # Timed from the first message: start-up (imports, log-in) is not delivery.
                await poll(sending, 120)
                started = time.perf_counter()
                if not await poll(drained, 600):
                    raise RuntimeError("did not drain:\n" + daemons[0].text[-3000:])
                elapsed = time.perf_counter() - started
            finally:
                for daemon in daemons:
                    await daemon.stop()
            return elapsed, queued
    finally:
        await postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-platform", type=int, default=5000)
    args = parser.parse_args()
    rates = {}
    for processes in (1, 2):
        with tempfile.TemporaryDirectory() as folder:
            seconds, queued = asyncio.run(drain_with(processes, args.per_platform, Path(folder)))
        rates[processes] = queued / seconds
        print(
            f"{processes} process(es): {queued} deliveries in {seconds:.1f}s "
            f"= {rates[processes]:,.0f}/s (from the first message to an empty outbox)"
        )
    print(f"two processes / one: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
