"""Soak: the whole daemon through thousands of cycles, its memory sampled after every one.

Usage: python bench/bench_soak.py [--cycles 2000] [--deliveries 100000] [--edits 10000]
                                  [--database sqlite|postgresql] [--platforms both] [--optimized]
       python bench/bench_soak.py --footprint [--cycles 200]

`codecast run` runs in a process of its own, with both bots connected to the fake Telegram
and the fake Discord, which run in this process together with the source site (so their
memory is not the daemon's). One curated source, a page on the local site, is polled every
`--interval` seconds. Each cycle:

- the page lists a new code (announced to every subscriber: one delivery each), and every
  few cycles an older code moves to its "expired" section (the bots edit the messages that
  announced it: `--edits` in all);
- a new Telegram chat sends /subscribe and an old one blocks the bot (Telegram tells the bot
  with a my_chat_member update, as it does); a new Discord channel
  is made and subscribed with /subscribe, and an old one is deleted: the chats come and go,
  so state kept per chat that is never forgotten shows as growth;
- the cycle ends when the daemon has read the new page and delivered what the cycles
  before it announced; then the daemon's RSS (VmRSS of /proc/<pid>/status) is sampled.

Printed: RSS after warm-up, at the middle and at the end, the growth over the last half
(goal: at most 2 MB), the peak, the RSS of the daemon's worker processes, and the counts
the fakes saw. `--footprint` runs the daemon with Telegram only, Discord only, and both,
`--cycles` each (default 200), each as it is and with PYTHONOPTIMIZE=2 (how `make run` and
deploy/ start it: no docstrings, no asserts), and prints each one's RSS (goal: at most 100 MB
with one platform). `--optimized` runs the soak itself that way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.store import database  # noqa: E402
from tests.conftest import postgres_admin  # noqa: E402
from tests.environment import without_settings  # noqa: E402
from tests.fakes.discord_api import FakeDiscord, Guild, Member, Perm  # noqa: E402
from tests.fakes.source_site import FixtureSite, Page  # noqa: E402
from tests.fakes.telegram_api import FakeChat, FakeTelegram  # noqa: E402
from tests.seed import add_subscriptions  # noqa: E402

CATALOG = """
[games.genshin]
name = "Genshin Impact"
pattern = "[A-Za-z0-9]{6,20}"
redeem_url = "https://genshin.hoyoverse.com/en/gift?code={code}"

[[sources]]
id = "soak"
kind = "page"
game = "genshin"
trust = "curated"
url = "{url}"
interval = {interval}
"""
# The page lists this many of the newest codes as active and of the newest expired ones.
ACTIVE_SHOWN = 20
EXPIRED_SHOWN = 10
# A code expires this many cycles after it appeared (its messages are sent by then).
EXPIRES_AFTER = 4
# The first cycles fill caches, pools and the allocator's arenas: not counted as growth.
WARM_UP_FRACTION = 0.1
# How many cycles of deliveries may still be on their way when a cycle ends.
BACKLOG_CYCLES = 2
# Samples averaged for "at the middle" and "at the end" (RSS moves by a page here and there).
WINDOW = 20
GROWTH_GOAL_MB = 2.0
FOOTPRINT_GOAL_MB = 100.0
# How `make run`, the container and the systemd unit start the daemon (no docstrings, asserts).
OPTIMIZE = "PYTHONOPTIMIZE=2"
CYCLE_TIMEOUT = 120.0


def rss_mb(pid: int) -> float:
    return _kb(Path(f"/proc/{pid}/status"), "VmRSS") / 1024


def pss_mb(pid: int) -> float:
    """A process's proportional share: the pages it shares with others (the workers are
    forked from one server) counted once among them, not once each as in RSS."""
    return _kb(Path(f"/proc/{pid}/smaps_rollup"), "Pss") / 1024


def _kb(path: Path, name: str) -> int:
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return 0


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (the parser pool's fork server and workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def code_name(n: int) -> str:
    """A code of letters and two digits (a long run of digits reads as a number, not a code)."""
    letters = ""
    for _ in range(5):
        n, digit = divmod(n, 26)
        letters = chr(ord("A") + digit) + letters
    return f"GS{letters}{n % 10}7"


def page(newest: int, expired: list[int]) -> Page:
    """The source page after cycle `newest`: the newest codes, and the newest expired ones."""
    gone = set(expired)
    active = [n for n in range(newest, max(0, newest - ACTIVE_SHOWN * 2), -1) if n not in gone]
    items = "".join(
        f'<li><a href="https://genshin.hoyoverse.com/en/gift?code={code_name(n)}">'
        f"{code_name(n)}</a>: Primogem ×60, Mora ×10,000</li>"
        for n in active[:ACTIVE_SHOWN]
    )
    old = "".join(f"<li>{code_name(n)}: Primogem ×60</li>" for n in expired[-EXPIRED_SHOWN:])
    body = (
        "<html><body><h1>Genshin Impact codes</h1><h2>Active codes</h2>"
        f"<ul>{items}</ul><h2>Expired codes</h2><ul>{old}</ul></body></html>"
    )
    return Page(body.encode())


class CountingSite(FixtureSite):
    """The source site, counting the whole pages it served (a 304 is not one)."""

    served: int = 0

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        response = await super()._serve(request)
        if response.status == 200:
            self.served += 1
        return response


@dataclass
class Plan:
    cycles: int
    telegram: bool
    discord: bool
    # Subscribers of each platform at any time (the chats change, their number does not).
    per_platform: int
    expire_every: int


@dataclass
class World:
    """The chats and channels subscribed now, oldest first, and who subscribes new ones."""

    tg: FakeTelegram
    dc: FakeDiscord
    guild: Guild | None = None
    admin: Member | None = None
    chats: deque[int] = field(default_factory=deque)
    channels: deque[int] = field(default_factory=deque)
    pending: list[asyncio.Task[object]] = field(default_factory=list)
    # Replies to /subscribe: messages, but not deliveries.
    replies: int = 0
    # Discord's requests counted so far (read once each, not once per check).
    _seen: int = 0
    _discord_sent: int = 0
    _discord_edits: int = 0

    def _count_discord(self) -> None:
        requests = self.dc.requests
        for record in requests[self._seen :]:
            if record.path.startswith("/channels/") and 200 <= record.status < 300:
                if record.method == "POST":
                    self._discord_sent += 1
                elif record.method == "PATCH" and "/messages/" in record.path:
                    self._discord_edits += 1
        self._seen = len(requests)

    def received(self) -> int:
        self._count_discord()
        return self.tg.sent_count - self.replies + self._discord_sent

    def edits(self) -> int:
        self._count_discord()
        return len(self.tg.calls("editMessageText")) + self._discord_edits

    async def churn(self, plan: Plan) -> None:
        """A new chat and channel subscribe; the oldest ones leave (blocked, deleted)."""
        if plan.telegram:
            user = self.tg.add_user(f"Player {len(self.chats)}")
            chat: FakeChat = self.tg.private_chat(user)
            self.tg.send_command(chat, user, "/subscribe genshin")
            self.replies += 1
            self.chats.append(chat.id)
            # The user blocks the bot: Telegram says so at once (my_chat_member, "kicked").
            leaving = self.chats.popleft()
            self.tg.bot_removed_from_chat(leaving, leaving, "kicked")
        if plan.discord and self.guild is not None and self.admin is not None:
            channel = self.dc.add_channel(self.guild.id)
            self.dc.dispatch(self.guild.id, "CHANNEL_CREATE", channel.payload())
            handle = await self.dc.dispatch_interaction(
                self.guild.id, channel.id, self.admin.user.id, "subscribe", {"game": "genshin"}
            )
            self.pending.append(asyncio.create_task(handle.response()))
            self.channels.append(channel.id)
            await self.dc.delete_channel(self.channels.popleft())

    async def settle(self) -> None:
        """The answers to the last cycle's /subscribe have come."""
        pending, self.pending = self.pending, []
        for task in pending:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, CYCLE_TIMEOUT)


@dataclass
class Result:
    label: str
    samples: list[float]
    workers: float
    cycles: int
    deliveries: int
    edits: int
    seconds: float

    def window(self, at: int) -> float:
        part = self.samples[max(0, at - WINDOW // 2) : at + WINDOW // 2 + 1]
        return statistics.fmean(part)

    def lines(self) -> list[str]:
        n = len(self.samples)
        warm = max(1, int(n * WARM_UP_FRACTION))
        middle, end = self.window(n // 2), statistics.fmean(self.samples[-WINDOW:])
        growth = end - middle
        verdict = "within" if growth <= GROWTH_GOAL_MB else "over"
        return [
            f"{self.label}: {self.cycles:,} cycles in {self.seconds:.0f}s, "
            f"{self.deliveries:,} messages delivered, {self.edits:,} edits",
            f"  daemon RSS: {self.samples[warm]:.1f} MB after warm-up (cycle {warm}), "
            f"{middle:.1f} MB at the middle, {end:.1f} MB at the end; growth over the last "
            f"half {growth:+.2f} MB ({verdict} the {GROWTH_GOAL_MB:g} MB goal); peak "
            f"{max(self.samples):.1f} MB; its worker processes (PSS) {self.workers:.1f} MB",
        ]


async def seed(url: str, world: World, plan: Plan) -> None:
    if url.startswith("postgresql"):
        await fresh_postgres(url)
    await asyncio.to_thread(database.upgrade, url)
    chats: list[tuple[str, str, str | None]] = []
    if plan.telegram:
        for _ in range(plan.per_platform):
            user = world.tg.add_user("Player")
            world.chats.append(world.tg.private_chat(user).id)
        chats += [("telegram", str(chat), None) for chat in world.chats]
    if plan.discord:
        world.guild = world.dc.add_guild("Soak", channels=())
        admins = world.dc.add_role(world.guild.id, "admins", permissions=Perm.MANAGE_GUILD)
        world.admin = world.dc.add_member(world.guild.id, "admin", roles=(admins.id,))
        for _ in range(plan.per_platform):
            world.channels.append(world.dc.add_channel(world.guild.id).id)
        chats += [("discord", str(c), str(world.guild.id)) for c in world.channels]
    engine = database.create_engine(url)
    try:
        async with database.session_factory(engine).begin() as session:
            await add_subscriptions(session, chats, game="genshin", now=datetime.now(UTC))
    finally:
        await engine.dispose()


async def fresh_postgres(url: str) -> None:
    """The database of `url` made anew, through its server's admin database."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    await postgres_admin(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)', admin)
    await postgres_admin(f'CREATE DATABASE "{parsed.database}"', admin)


@contextlib.asynccontextmanager
async def daemon(
    folder: Path, url: str, site: FixtureSite, world: World, plan: Plan, args: argparse.Namespace
) -> AsyncIterator[subprocess.Popen[bytes]]:
    interval, log_level = args.interval, args.log_level
    catalog = folder / "catalog.toml"
    catalog.write_text(
        CATALOG.replace("{url}", site.url("genshin")).replace("{interval}", str(interval)),
        encoding="utf-8",
    )
    env = without_settings(
        CODECAST_DATABASE_URL=url,
        CODECAST_SITE_DIR=str(folder / "public"),
        CODECAST_CATALOG=str(catalog),
        CODECAST_LOG_LEVEL=log_level,
        CODECAST_HOST_SPACING="0",
        CODECAST_PARSE_WORKERS="1",
        CODECAST_EXPIRY_CHECK="1",
        # The limits are kept (their state per chat is part of what is measured), only above
        # what the cycles need (the fakes do not limit): 1,000 a second overall, Telegram's
        # paid rate, and a chat or channel's next message a moment after its last.
        CODECAST_TELEGRAM_RATE_OVERALL="1000",
        CODECAST_TELEGRAM_RATE_PER_CHAT="100",
        CODECAST_DISCORD_GLOBAL_RATE="1000",
        CODECAST_DISCORD_CHANNEL_WINDOW="0.05",
        PTB_TIMEDELTA="true",
    )
    env.update(dict(item.split("=", 1) for item in args.daemon_env))
    if plan.telegram:
        env.update(TELEGRAM_TOKEN=world.tg.token, CODECAST_TELEGRAM_API_URL=world.tg.base_url)
    if plan.discord:
        env.update(DISCORD_TOKEN=world.dc.token, CODECAST_DISCORD_API_URL=world.dc.api_url)
    process = subprocess.Popen(  # noqa: ASYNC220 - a benchmark starting its daemon
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        stderr=open(folder / "daemon.log", "wb"),  # noqa: SIM115, ASYNC230 - closed with it
    )
    try:
        yield process
    except BaseException:
        log = (folder / "daemon.log").read_text(encoding="utf-8", errors="replace")
        sys.stderr.write("the daemon's last log lines:\n" + "\n".join(log.splitlines()[-30:]))
        raise
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 60)


async def wait_until(condition: object, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + CYCLE_TIMEOUT
    while not condition():  # type: ignore[operator]
        if process.poll() is not None:
            raise RuntimeError(f"the daemon stopped while waiting for {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {CYCLE_TIMEOUT:g}s")
        await asyncio.sleep(0.005)


async def soak(plan: Plan, args: argparse.Namespace, label: str) -> Result:
    async with (
        CountingSite() as site,
        FakeTelegram() as tg,
        FakeDiscord(rate_limits=False) as dc,
    ):
        world = World(tg, dc)
        expired: list[int] = []
        site.pages["genshin"] = page(0, expired)
        with tempfile.TemporaryDirectory() as folder:
            url = (
                f"sqlite+aiosqlite:///{folder}/codecast.db"
                if args.database == "sqlite"
                else args.postgres_url
            )
            await seed(url, world, plan)
            async with daemon(Path(folder), url, site, world, plan, args) as process:
                if plan.discord:
                    await wait_until(
                        lambda: bool(dc.gateway.live_sessions()), process, "a gateway session"
                    )
                # Cycle 0: the first sight of the page, a baseline; nothing is announced.
                await wait_until(lambda: site.served >= 1, process, "the first poll")
                samples: list[float] = []
                started = time.monotonic()
                received_before, edits_before = world.received(), world.edits()
                # Each cycle's subscribers, minus the two that leave in it.
                per_cycle = plan.per_platform * (plan.telegram + plan.discord) - 2
                for cycle in range(1, plan.cycles + 1):
                    if cycle % plan.expire_every == 0 and cycle > EXPIRES_AFTER:
                        expired.append(cycle - EXPIRES_AFTER)
                    site.pages["genshin"] = page(cycle, expired)
                    await world.churn(plan)
                    await wait_until(lambda c=cycle: site.served >= c + 1, process, "a poll")
                    due = received_before + per_cycle * (cycle - BACKLOG_CYCLES)
                    await wait_until(lambda d=due: world.received() >= d, process, "deliveries")
                    await world.settle()
                    samples.append(rss_mb(process.pid))
                    if args.progress and cycle % args.progress == 0:
                        threads = len(os.listdir(f"/proc/{process.pid}/task"))
                        print(
                            f"  cycle {cycle}: {samples[-1]:.1f} MB, {threads} threads", flush=True
                        )
                elapsed = time.monotonic() - started
                # The last announcements and edits finish before the counts are read.
                await asyncio.sleep(3)
                workers = sum(pss_mb(pid) for pid in descendants(process.pid))
                if args.progress:
                    threads = len(os.listdir(f"/proc/{process.pid}/task"))
                    print(f"  daemon threads at the end: {threads}", flush=True)
                return Result(
                    label,
                    samples,
                    workers,
                    plan.cycles,
                    world.received() - received_before,
                    world.edits() - edits_before,
                    elapsed,
                )


def plan_for(platforms: str, args: argparse.Namespace) -> Plan:
    telegram, discord = platforms in ("telegram", "both"), platforms in ("discord", "both")
    per_cycle = -(-args.deliveries // args.cycles)  # what each cycle must deliver
    # Two more than needed: the two chats leaving in each cycle get nothing.
    per_platform = -(-(per_cycle + 2) // (telegram + discord))
    # An expired code's messages are edited where their chats are still there: two leave in
    # each cycle between the announcement and the expiry.
    edited = per_cycle - 2 * EXPIRES_AFTER
    expire_every = max(1, args.cycles * edited // max(1, args.edits))
    return Plan(args.cycles, telegram, discord, per_platform, expire_every)


def optimized(args: argparse.Namespace) -> argparse.Namespace:
    """The same run with the daemon as `make run` and deploy/ start it: PYTHONOPTIMIZE=2."""
    return argparse.Namespace(**{**vars(args), "daemon_env": [*args.daemon_env, OPTIMIZE]})


async def run(platforms: str, args: argparse.Namespace, label: str) -> Result:
    result = await soak(plan_for(platforms, args), args, label)
    for line in result.lines():
        print(line, flush=True)
    return result


async def footprint(args: argparse.Namespace) -> None:
    """Each platform set as it is and optimized; the RSS at the end of each."""
    for platforms in ("telegram", "discord", "both"):
        plain = await run(platforms, args, platforms)
        smaller = await run(platforms, optimized(args), f"{platforms}, optimized")
        ends = [statistics.fmean(r.samples[-WINDOW:]) for r in (plain, smaller)]
        goal = f" (goal: <= {FOOTPRINT_GOAL_MB:g} MB)" if platforms != "both" else ""
        print(
            f"  footprint {platforms}: {ends[0]:.1f} MB; with {OPTIMIZE} (make run, deploy/): "
            f"{ends[1]:.1f} MB{goal}",
            flush=True,
        )


async def main(args: argparse.Namespace) -> None:
    if args.optimized:
        args = optimized(args)
    if args.footprint:
        await footprint(args)
    else:
        for platforms in args.platforms.split(","):
            await run(platforms, args, platforms)
    print(
        f"database {args.database}; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cycles", type=int, default=None)
    parser.add_argument("--deliveries", type=int, default=None)
    parser.add_argument("--edits", type=int, default=None)
    parser.add_argument("--platforms", default="both", help="telegram, discord or both")
    parser.add_argument("--footprint", action="store_true")
    parser.add_argument(
        "--optimized", action="store_true", help=f"the daemon with {OPTIMIZE}, as deployed"
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--postgres-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/codecast_soak"
    )
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between polls")
    parser.add_argument(
        "--daemon-env", action="append", default=[], help="KEY=VALUE for the daemon, repeatable"
    )
    parser.add_argument("--log-level", default="WARNING", help="the daemon's")
    parser.add_argument("--progress", type=int, default=0, help="print RSS every N cycles")
    arguments = parser.parse_args()
    # Scaled down together: 2,000 cycles carry 100,000 deliveries and 10,000 edits.
    cycles = arguments.cycles or (200 if arguments.footprint else 2000)
    arguments.cycles = cycles
    arguments.deliveries = arguments.deliveries or cycles * 50
    arguments.edits = arguments.edits or cycles * 5
    asyncio.run(main(arguments))
