"""Delivery throughput of one, two and three codecast processes on one PostgreSQL database.

Usage: python bench/bench_scaleout.py [--deliveries 10000] [--processes 1,2,3] [--repeat 3]
                                      [--profile DIR]

Each run queues one announcement to half that many Telegram chats and half as many Discord
channels on fake platforms with no rate limits (127.0.0.1), starts the `codecast run`
processes, and times the drain of the outbox from the first message to an empty outbox.

The machine's cores are shared by codecast, PostgreSQL and the fakes, so each run also says
where the CPU went, read from /proc: each codecast process, the fakes (each in a process of
its own, keeping counters only), PostgreSQL (the backends of the bench's database, and the
server's shared processes: WAL writer, checkpointer…) and this script. From those figures:
codecast's CPU per delivery (does a second process make each delivery dearer?), and the
rate the machine could reach if codecast, PostgreSQL and the fakes kept both cores busy
(`cores / CPU seconds per delivery`): a second process can only add what the second core
has left once PostgreSQL and the fakes took their share. With --profile, py-spy (when
installed) writes each codecast process's stacks during the drain to DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import POSTGRES_ADMIN_URL, postgres_admin  # noqa: E402
from tests.e2e.crash_harness import CATALOG, Daemon, Fleet, outbox_states, seed  # noqa: E402
from tests.fakes.telegram_api import DEFAULT_TOKEN  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (and its waited-for children) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / CLOCK_TICKS


def kernel_side(pid: int) -> tuple[float, int]:
    """System CPU seconds of a process so far, and how often it went to sleep (voluntary
    context switches: each an epoll wait that found nothing ready)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    status = Path(f"/proc/{pid}/status").read_text()
    switches = next(
        int(line.split()[1])
        for line in status.splitlines()
        if line.startswith("voluntary_ctxt_switches")
    )
    return int(fields[12]) / CLOCK_TICKS, switches


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def postgres_cpu(database: str) -> tuple[float, float]:
    """CPU seconds so far of PostgreSQL's backends connected to `database`, and of its
    shared processes (postmaster, WAL writer, checkpointer, autovacuum…); backends of other
    databases (other work on this machine) are left out."""
    ours = shared = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() not in ("postgres", "postmaster"):
                continue
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            seconds = cpu_seconds(int(entry.name))
        except OSError:
            continue
        if f" {database} " in title:
            ours += seconds
        elif "(" not in title and "[local]" not in title:
            # A backend's title names its client ("127.0.0.1(5432)" or "[local]").
            shared += seconds
    return ours, shared


@dataclass
class Fakes:
    """The fake Bot API and the fake Discord, each in a process of its own."""

    telegram_url: str
    discord_url: str
    discord_token: str
    channels: list[int]
    pids: list[int]

    def sent(self) -> int:
        total = 0
        for url in (self.telegram_url.rsplit("/bot", 1)[0], self.discord_url.rsplit("/api", 1)[0]):
            with urlopen(f"{url}/fake/stats", timeout=5) as answer:  # noqa: S310 - 127.0.0.1
                total += int(json.load(answer)["sent"])
        return total

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids)


@contextlib.contextmanager
def fakes(channels: int) -> Iterator[Fakes]:
    python = [sys.executable, "-m"]
    world = ["--no-record", "--no-limits", "--channels", str(channels)]
    telegram = subprocess.Popen(
        [*python, "tests.fakes.telegram_api", "--no-record"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    discord = subprocess.Popen(
        [*python, "tests.fakes.discord_api", *world],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert telegram.stdout is not None
        assert discord.stdout is not None
        telegram_url = telegram.stdout.readline().strip()
        made = json.loads(discord.stdout.readline())
        yield Fakes(
            telegram_url,
            made["api_url"],
            made["token"],
            made["channels"],
            [telegram.pid, discord.pid],
        )
    finally:
        for process in (telegram, discord):
            process.terminate()
            process.wait(timeout=10)


@dataclass(frozen=True)
class Run:
    processes: int
    deliveries: int
    seconds: float
    codecast: list[float]
    fakes: float
    postgres: float
    postgres_shared: float
    bench: float
    load: float
    # codecast's system CPU seconds and sleeps (voluntary context switches), all processes.
    codecast_system: float = 0.0
    codecast_sleeps: int = 0

    @property
    def rate(self) -> float:
        return self.deliveries / self.seconds

    @property
    def total_codecast(self) -> float:
        return sum(self.codecast)

    @property
    def codecast_us(self) -> float:
        """codecast's CPU microseconds per delivery, all its processes together."""
        return sum(self.codecast) / self.deliveries * 1e6

    @property
    def total(self) -> float:
        """CPU seconds of the run's own parties; PostgreSQL's shared processes are left out,
        since on a shared machine they also work for other databases."""
        return sum(self.codecast) + self.fakes + self.postgres + self.bench

    @property
    def ceiling(self) -> float:
        """Deliveries a second if every core were busy with this run's work (and nothing
        else): the cores divided by the CPU seconds one delivery cost in all."""
        return CORES * self.deliveries / self.total

    def line(self) -> str:
        codecast = " + ".join(f"{s:.1f}" for s in self.codecast)
        return (
            f"{self.processes} process(es): {self.deliveries} deliveries in "
            f"{self.seconds:.2f}s = {self.rate:,.0f}/s; CPU s: codecast {codecast} "
            f"({self.codecast_us:.0f} us a delivery, "
            f"{self.codecast_system / self.total_codecast:.0%} in the kernel, "
            f"{self.codecast_sleeps / self.deliveries:.2f} sleeps a delivery), fakes "
            f"{self.fakes:.1f}, PostgreSQL "
            f"{self.postgres:.1f}, bench {self.bench:.1f}: {self.total:.1f} of "
            f"{self.seconds * CORES:.1f} on {CORES} cores (ceiling {self.ceiling:,.0f}/s); "
            f"PostgreSQL's shared processes {self.postgres_shared:.1f} (WAL, checkpoints: "
            f"all databases'); load average {self.load:.1f}"
        )


def daemon_env(folder: Path, url: str, fake: Fakes) -> dict[str, str]:
    catalog = folder / "catalog.toml"
    catalog.write_text(CATALOG, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODECAST_")}
    env.update(
        CODECAST_DATABASE_URL=url,
        CODECAST_SITE_DIR=str(folder / "public"),
        CODECAST_CATALOG=str(catalog),
        CODECAST_SCRAPE_INTERVAL="3600",
        CODECAST_LOG_LEVEL="WARNING",
        TELEGRAM_TOKEN=DEFAULT_TOKEN,
        CODECAST_TELEGRAM_API_URL=fake.telegram_url,
        DISCORD_TOKEN=fake.discord_token,
        CODECAST_DISCORD_API_URL=fake.discord_url,
        # The fakes keep no limits: this measures codecast, not the platforms' rates.
        CODECAST_TELEGRAM_RATE_OVERALL="100000",
        CODECAST_DISCORD_GLOBAL_RATE="100000",
        PTB_TIMEDELTA="true",
    )
    return env


async def drain_with(processes: int, deliveries: int, folder: Path, profile: Path | None) -> Run:
    name = f"codecast_bench_{uuid.uuid4().hex[:8]}"
    await postgres_admin(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        with fakes(deliveries - deliveries // 2) as fake:
            fleet = Fleet(
                telegram_chats=[5_000_000 + i for i in range(deliveries // 2)],
                discord_channels=fake.channels,
            )
            queued = await seed(url, fleet)
            env = daemon_env(folder, url, fake)
            daemons = [await Daemon(env).start() for _ in range(processes)]
            try:
                # Timed from the first message: start-up (imports, log-in) is not delivery.
                deadline = time.monotonic() + 120
                while await asyncio.to_thread(fake.sent) == 0:
                    if time.monotonic() > deadline:
                        raise RuntimeError("nothing sent:\n" + daemons[0].text[-3000:])
                    await asyncio.sleep(0.02)
                pids = [d.process.pid for d in daemons if d.process is not None]
                before = [cpu_seconds(p) for p in pids], fake.cpu(), postgres_cpu(name)
                kernel = [kernel_side(p) for p in pids]
                bench = own_cpu()
                started = time.perf_counter()
                spies = (
                    [spy(pid, profile / f"{processes}p-codecast-{pid}.txt") for pid in pids]
                    + [spy(pid, profile / f"{processes}p-fake-{pid}.txt") for pid in fake.pids]
                    if profile
                    else []
                )
                deadline = time.monotonic() + 600
                while await asyncio.to_thread(fake.sent) < queued or (
                    await outbox_states(url)
                ).get("pending", 0):
                    if time.monotonic() > deadline:
                        raise RuntimeError("did not drain:\n" + daemons[0].text[-3000:])
                    await asyncio.sleep(0.05)
                elapsed = time.perf_counter() - started
                codecast = [cpu_seconds(p) - c for p, c in zip(pids, before[0], strict=True)]
                kernel_after = [kernel_side(p) for p in pids]
                database = postgres_cpu(name)
                run = Run(
                    processes=processes,
                    deliveries=queued,
                    seconds=elapsed,
                    codecast=codecast,
                    fakes=fake.cpu() - before[1],
                    postgres=database[0] - before[2][0],
                    postgres_shared=database[1] - before[2][1],
                    bench=own_cpu() - bench,
                    load=os.getloadavg()[0],
                    codecast_system=sum(
                        a[0] - b[0] for a, b in zip(kernel_after, kernel, strict=True)
                    ),
                    codecast_sleeps=sum(
                        a[1] - b[1] for a, b in zip(kernel_after, kernel, strict=True)
                    ),
                )
                for process in spies:
                    process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
                    process.wait(timeout=30)
            finally:
                for daemon in daemons:
                    await daemon.stop()
            return run
    finally:
        await postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def spy(pid: int, output: Path) -> subprocess.Popen[bytes]:
    """py-spy recording a codecast process's stacks (collapsed) until it is stopped."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [py_spy, "record", "--format", "raw", "--rate", "250", "--nonblocking"]
    return subprocess.Popen(
        [*command, "--pid", str(pid), "--output", str(output)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--processes", default="1,2,3")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile", type=Path, help="write py-spy stacks to this folder")
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    counts = [int(n) for n in args.processes.split(",")]
    print(f"load average at the start {os.getloadavg()[0]:.1f} on {CORES} cores", flush=True)
    runs: dict[int, list[Run]] = {n: [] for n in counts}
    for _ in range(args.repeat):
        for processes in counts:
            with tempfile.TemporaryDirectory() as folder:
                run = asyncio.run(
                    drain_with(processes, args.deliveries, Path(folder), args.profile)
                )
            runs[processes].append(run)
            print(run.line(), flush=True)
    # The fastest run of each count, and its least disturbed one (the least CPU a delivery:
    # on a shared machine, CPU seconds swell with the other work too).
    first = max(runs[counts[0]], key=lambda r: r.rate)
    first_lean = min(runs[counts[0]], key=lambda r: r.codecast_us)
    for processes in counts:
        best = max(runs[processes], key=lambda r: r.rate)
        lean = min(runs[processes], key=lambda r: r.codecast_us)
        rates = [r.rate for r in runs[processes]]
        efficiency = first_lean.codecast_us / lean.codecast_us
        print(
            f"{processes} process(es): best {best.rate:,.0f}/s ({min(rates):,.0f}-"
            f"{max(rates):,.0f}/s over {len(rates)} runs) = {best.rate / first.rate:.2f}x "
            f"{counts[0]}; codecast's own work: {lean.codecast_us:.0f} us CPU a delivery at "
            f"least = {1e6 / lean.codecast_us:,.0f} deliveries per codecast CPU-second, "
            f"{efficiency:.2f}x {counts[0]}'s, so with a core each {processes} would do "
            f"{processes / counts[0] * efficiency:.2f}x the work of {counts[0]}; all parties "
            f"{best.total / best.deliveries * 1e6:.0f} us a delivery in the best run: ceiling "
            f"{best.ceiling:,.0f}/s on {CORES} cores = {best.ceiling / first.rate:.2f}x "
            f"{counts[0]}'s best rate; load average {best.load:.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
