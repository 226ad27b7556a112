"""Delivery throughput of one, two and three codecast processes on one PostgreSQL database.

Usage: python bench/bench_scaleout.py [--deliveries 10000] [--processes 1,2,3] [--repeat 1]
Each run queues one announcement to half that many Telegram chats and half as many Discord
channels on fake platforms with no rate limits (127.0.0.1), starts the `codecast run`
processes, and times the drain of the outbox from the first message to an empty outbox. The
fakes run in this process and share the machine's cores with codecast and PostgreSQL, so
the CPU seconds each party spent during the drain are printed too: where the time went.
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

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (and its waited-for children) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / CLOCK_TICKS


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def postgres_cpu() -> float:
    """CPU seconds of every PostgreSQL process on the machine (0 when none is visible)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                total += cpu_seconds(int(entry.name))
        except OSError:
            continue
    return total


async def drain_with(processes: int, deliveries: int, folder: Path) -> tuple[float, int, str]:
    name = f"codecast_bench_{uuid.uuid4().hex[:8]}"
    await postgres_admin(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        async with (
            FakeTelegram(rate_limits=None, record=False) as tg,
            FakeDiscord(rate_limits=False, echo_messages=False) as dc,
        ):
            fleet = build_world(dc, deliveries // 2, deliveries - deliveries // 2)
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
                pids = [d.process.pid for d in daemons if d.process is not None]
                cpu = [cpu_seconds(p) for p in pids]
                fakes, database = own_cpu(), postgres_cpu()
                started = time.perf_counter()
                if not await poll(drained, 600):
                    raise RuntimeError("did not drain:\n" + daemons[0].text[-3000:])
                elapsed = time.perf_counter() - started
                spent = [cpu_seconds(p) - c for p, c in zip(pids, cpu, strict=True)]
                fakes, database = own_cpu() - fakes, postgres_cpu() - database
            finally:
                for daemon in daemons:
                    await daemon.stop()
            where = (
                f"CPU seconds: codecast {' + '.join(f'{s:.1f}' for s in spent)}, "
                f"fakes (and this bench) {fakes:.1f}, PostgreSQL {database:.1f}; "
                f"{sum(spent) + fakes + database:.1f} of {elapsed * (os.cpu_count() or 1):.1f} "
                f"available on {os.cpu_count()} cores"
            )
            return elapsed, queued, where
    finally:
        await postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--processes", default="1,2,3")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    counts = [int(n) for n in args.processes.split(",")]
    rates: dict[int, list[float]] = {n: [] for n in counts}
    for _ in range(args.repeat):
        for processes in counts:
            with tempfile.TemporaryDirectory() as folder:
                seconds, queued, where = asyncio.run(
                    drain_with(processes, args.deliveries, Path(folder))
                )
            rates[processes].append(queued / seconds)
            print(
                f"{processes} process(es): {queued} deliveries in {seconds:.2f}s "
                f"= {queued / seconds:,.0f}/s; {where}; load average "
                f"{os.getloadavg()[0]:.1f}",
                flush=True,
            )
    one = max(rates[counts[0]])
    for processes in counts:
        best = max(rates[processes])
        spread = f"{min(rates[processes]):,.0f}-{best:,.0f}/s"
        print(
            f"{processes} process(es): best {best:,.0f}/s ({spread} over {args.repeat} runs), "
            f"{best / one:.2f}x {counts[0]} process(es)"
        )


if __name__ == "__main__":
    main()
