"""Telegram paid broadcasts: 100,000 chats told at the paid limit by the whole daemon.

Usage: python bench/bench_paid.py [--chats 100000] [--concurrency 64] [--repeat 1]

One announcement is queued to `chats` Telegram chats (SQLite, as `make run` has it), then
`codecast run` starts with paid broadcasts on (budget: every chat) against the fake Bot API
in a process of its own, enforcing Telegram's real limits (30/s free, 1,000/s paid, 1/s per
chat). Printed: the rate from the first message to the last against 1,000/s, how many went
paid and what they cost, the fake's violations, the CPU seconds of the daemon and of the
fake, and the load average (the machine is shared: compare runs, and the best of several).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.store import database, repository  # noqa: E402
from tests.e2e.crash_harness import CATALOG  # noqa: E402
from tests.fakes.telegram_api import DEFAULT_TOKEN  # noqa: E402
from tests.seed import add_code, add_subscriptions  # noqa: E402

PAID_LIMIT = 1000.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:13]) / CLOCK_TICKS


@contextlib.contextmanager
def fake_bot_api() -> Iterator[tuple[str, int]]:
    """The fake Bot API with Telegram's limits, in its own process: (base URL, pid)."""
    command = [sys.executable, "-m", "tests.fakes.telegram_api", "--no-record", "--limits"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip(), process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def stats(base_url: str) -> dict[str, float]:
    root = base_url.rsplit("/bot", 1)[0]
    with urlopen(f"{root}/fake/stats", timeout=5) as answer:  # noqa: S310 - 127.0.0.1
        result: dict[str, float] = json.load(answer)
    return result


async def seed(url: str, chats: int) -> None:
    await asyncio.to_thread(database.upgrade, url)
    engine = database.create_engine(url)
    sessions = database.session_factory(engine)
    now = datetime.now(UTC)
    try:
        async with sessions.begin() as session:
            await add_subscriptions(
                session,
                (("telegram", str(30_000_000 + i), None) for i in range(chats)),
                game="genshin",
                now=now,
            )
            code = await add_code(
                session, game="genshin", code="PAIDBENCH2026", now=now, rewards="Primogem ×60"
            )
            await repository.create_announcement(session, "genshin", [code.id], now)
    finally:
        await engine.dispose()


def run_once(chats: int, concurrency: int, profile: str | None = None) -> str:
    with tempfile.TemporaryDirectory() as folder, fake_bot_api() as (base_url, fake_pid):
        url = f"sqlite+aiosqlite:///{folder}/codecast.db"
        asyncio.run(seed(url, chats))
        catalog = Path(folder) / "catalog.toml"
        catalog.write_text(CATALOG, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CODECAST_")}
        env.update(
            CODECAST_DATABASE_URL=url,
            CODECAST_SITE_DIR=f"{folder}/public",
            CODECAST_CATALOG=str(catalog),
            CODECAST_LOG_LEVEL="WARNING",
            TELEGRAM_TOKEN=DEFAULT_TOKEN,
            CODECAST_TELEGRAM_API_URL=base_url,
            CODECAST_TELEGRAM_PAID_BROADCAST="true",
            CODECAST_TELEGRAM_PAID_PER_ANNOUNCEMENT=str(chats),
            CODECAST_TELEGRAM_CONNECTIONS=str(concurrency),
            CODECAST_DELIVERY_CONCURRENCY=str(concurrency),
            PTB_TIMEDELTA="true",
        )
        daemon = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stderr=subprocess.PIPE
        )
        try:
            while stats(base_url)["sent"] == 0:
                if daemon.poll() is not None:
                    raise RuntimeError("the daemon stopped before sending")
                time.sleep(0.05)
            started, first = time.perf_counter(), stats(base_url)
            cpu = cpu_seconds(daemon.pid), cpu_seconds(fake_pid)
            if profile:
                # Where the daemon's time goes (py-spy, when installed): collapsed stacks.
                subprocess.Popen(
                    [
                        *("py-spy", "record", "--format", "raw", "--rate", "200"),
                        *("--nonblocking", "--duration", "20", "--pid", str(daemon.pid)),
                        *("--output", profile),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            while (now := stats(base_url))["sent"] < chats:
                time.sleep(0.2)
            elapsed = time.perf_counter() - started
            spent = cpu_seconds(daemon.pid) - cpu[0], cpu_seconds(fake_pid) - cpu[1]
        finally:
            daemon.terminate()
            _, errors = daemon.communicate(timeout=60)
        if daemon.returncode != 0:
            raise RuntimeError(errors.decode(errors="replace")[-3000:])
    rate = (now["sent"] - first["sent"]) / elapsed
    return (
        f"{chats:,} chats: {rate:,.0f} msg/s = {rate / PAID_LIMIT:.3f} of 1,000/s "
        f"({now['sent'] - first['sent']:,.0f} in {elapsed:.1f}s from the first message); "
        f"{now['paid']:,.0f} paid ({now['stars']:,.1f} Stars), "
        f"{now['sent'] - now['paid']:,.0f} free; violations {now['violations']:.0f}; "
        f"CPU s: daemon {spent[0]:.1f}, fake {spent[1]:.1f}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile", help="write the daemon's stacks (py-spy) to this file")
    args = parser.parse_args()
    for _ in range(args.repeat):
        print(run_once(args.chats, args.concurrency, args.profile), flush=True)


if __name__ == "__main__":
    main()
