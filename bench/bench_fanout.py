"""Fan-out of one announcement to many subscriptions: time to queue the deliveries, and RSS.

Usage: python bench/bench_fanout.py [--subscribers 100000] [--postgres URL]
                                    [--order reach|subscribed]
The delivery rows are made by one INSERT … SELECT, so the process's memory should not grow
with the number of subscribers: the RSS printed after each size should stay flat. The rows
are queued in the order given (CODECAST_DELIVERY_ORDER): `reach` sorts them by chat size in
the database, `subscribed` by subscription; run both to see what choosing costs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

# The seeding helpers live with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bot.core.domain import DeliveryOrder
from bot.store import database, repository
from tests.seed import add_code, add_subscriptions


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def fan_out(url: str, subscribers: int, order: DeliveryOrder) -> tuple[float, int]:
    engine = database.create_engine(url)
    sessions = database.session_factory(engine)
    now = datetime.now(UTC)
    try:
        async with sessions.begin() as session:
            await add_subscriptions(
                session,
                (("telegram", str(10_000_000 + i), None) for i in range(subscribers)),
                game="genshin",
                now=now,
            )
            code = await add_code(session, game="genshin", code="BENCHCODE1", now=now)
        started = time.perf_counter()
        async with sessions.begin() as session:
            _, count = await repository.create_announcement(
                session, "genshin", [code.id], now, order=order
            )
        return time.perf_counter() - started, count
    finally:
        await engine.dispose()


async def postgres_database(admin_url: str, create: bool, name: str) -> str:
    engine = database.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            if create:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
            else:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--order", type=DeliveryOrder, default=DeliveryOrder.REACH)
    args = parser.parse_args()
    order = args.order
    sizes = sorted({1_000, 10_000, args.subscribers})
    print(
        f"fan-out of one announcement in the {order} order; peak RSS before: {rss_mb():.1f} MB"
        f"; load average {os.getloadavg()[0]:.1f}"
    )
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            database.upgrade(url)
            seconds, count = asyncio.run(fan_out(url, size, order))
        print(
            f"sqlite      {size:>7} subscribers: {count:>7} deliveries queued in "
            f"{seconds * 1000:8.1f} ms ({count / seconds:,.0f} rows/s); peak RSS {rss_mb():.1f} MB"
        )
    for size in sizes:
        name = f"codecast_bench_{uuid.uuid4().hex[:8]}"
        try:
            url = asyncio.run(postgres_database(args.postgres, True, name))
        except Exception as exc:
            print(f"postgresql  skipped: {type(exc).__name__}: {exc}")
            break
        try:
            database.upgrade(url)
            seconds, count = asyncio.run(fan_out(url, size, order))
            print(
                f"postgresql  {size:>7} subscribers: {count:>7} deliveries queued in "
                f"{seconds * 1000:8.1f} ms ({count / seconds:,.0f} rows/s); "
                f"peak RSS {rss_mb():.1f} MB"
            )
        finally:
            asyncio.run(postgres_database(args.postgres, False, name))


if __name__ == "__main__":
    main()
