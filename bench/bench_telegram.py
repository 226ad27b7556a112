"""Telegram fan-out: rate against the limit, raw speed, memory, and code-to-message latency.

Usage: python bench/bench_telegram.py [--subscribers 2000] [--scale 10] [--big 10000]

(a) one announcement to N subscribers through the delivery worker, the fake Bot API (its own
    process) enforcing Telegram's limits `scale` times faster: achieved rate / limit;
(b) the same with no limits: messages per second, through the worker (SQLite outbox) and
    through the sender alone (no database);
(c) peak RSS of a fresh process fanning out to 1,000 and to `big` subscribers;
(d) from a code appearing on a source page to the first sendMessage at the fake: one real
    scrape cycle (local page, SQLite, the composition root's App), then the worker;
(e) who hears first: one wave of two games to `--wave-chats` chats (a third of them each
    game's only, a third both; 1 in 100 a group of hundreds to tens of thousands, each
    group subscribed at a random point), queued in the old order and in the new one
    (CODECAST_DELIVERY_ORDER), sent at the limit: the time until every chat, and every
    group, has its first message, shown at Telegram's real rate.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.request import urlopen

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app.settings import Settings  # noqa: E402
from bot.core.catalog import load_catalog  # noqa: E402
from bot.core.domain import Announcement, DeliveryOrder, Platform  # noqa: E402
from bot.store import database, repository  # noqa: E402
from bot.store.outbox import Delivery  # noqa: E402
from notifiers.delivery import DeliveryWorker, Outcome, Sent  # noqa: E402
from notifiers.telegram.limits import TelegramLimits  # noqa: E402
from notifiers.telegram.service import TelegramService  # noqa: E402
from notifiers.telegram.wiring import build_service  # noqa: E402
from tests.fakes.telegram_api import DEFAULT_TOKEN  # noqa: E402
from tests.seed import add_code, add_subscriptions  # noqa: E402

Sessions = async_sessionmaker[AsyncSession]
OVERALL_LIMIT = 30.0  # messages per second, Telegram's published overall limit
CONCURRENCY = 32  # sends in flight in the delivery worker
NO_LIMITS = TelegramLimits.unlimited()


def utc_now() -> datetime:
    return datetime.now(UTC)


def rss_mb() -> float:
    """Peak RSS of this process in MB.

    Linux keeps `getrusage`'s ru_maxrss across execve, so a child started by a big parent
    reports the parent's size; the kernel's own high-water mark of this process's memory
    (VmHWM) starts afresh at exec. getrusage is the fallback elsewhere.
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextlib.contextmanager
def fake_process(*flags: str) -> Iterator[str]:
    """The fake Bot API in a process of its own; yields its base URL."""
    command = [sys.executable, "-m", "tests.fakes.telegram_api", "--no-record", *flags]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def fake_stats(base_url: str) -> dict[str, object]:
    root = base_url.rsplit("/bot", 1)[0]
    with urlopen(f"{root}/fake/stats", timeout=5) as answer:  # noqa: S310 - 127.0.0.1
        stats: dict[str, object] = json.load(answer)
    return stats


async def prepared_database(folder: Path, subscribers: int) -> tuple[Sessions, object]:
    url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    await asyncio.to_thread(database.upgrade, url)
    engine = database.create_engine(url)
    sessions = database.session_factory(engine)
    now = utc_now()
    async with sessions.begin() as session:
        await add_subscriptions(
            session,
            (("telegram", str(10_000_000 + i), None) for i in range(subscribers)),
            game="genshin",
            now=now,
        )
        code = await add_code(
            session,
            game="genshin",
            code="BENCHCODE1",
            now=now,
            rewards="Primogems ×60, Mora ×10,000",
        )
        await repository.create_announcement(session, "genshin", [code.id], now)
    return sessions, engine


@contextlib.asynccontextmanager
async def telegram(
    base_url: str, sessions: Sessions, limits: TelegramLimits
) -> AsyncIterator[TelegramService]:
    settings = Settings(
        TELEGRAM_TOKEN=DEFAULT_TOKEN,
        CODECAST_TELEGRAM_API_URL=base_url,
        CODECAST_TELEGRAM_CONNECTIONS=CONCURRENCY,
    )
    service = build_service(settings, load_catalog(), sessions, utc_now, limits=limits)
    await service.start(commands=False)
    try:
        yield service
    finally:
        await service.stop()


async def fan_out(
    base_url: str, subscribers: int, limits: TelegramLimits
) -> tuple[float, int, float]:
    """Seconds for the worker to deliver one announcement to every subscriber, the number
    sent, and the CPU seconds this process spent on it."""
    with tempfile.TemporaryDirectory() as folder:
        sessions, engine = await prepared_database(Path(folder), subscribers)
        try:
            return await deliver_all(base_url, sessions, limits)
        finally:
            await engine.dispose()  # type: ignore[attr-defined]


async def deliver_all(
    base_url: str, sessions: Sessions, limits: TelegramLimits
) -> tuple[float, int, float]:
    async with telegram(base_url, sessions, limits) as service:
        worker = DeliveryWorker(sessions, service.sender, clock=utc_now, concurrency=CONCURRENCY)
        started, cpu = time.perf_counter(), time.process_time()
        stats = await worker.drain()
        return time.perf_counter() - started, stats.sent, time.process_time() - cpu


async def sender_alone(
    base_url: str, count: int, limits: TelegramLimits = NO_LIMITS
) -> tuple[float, float]:
    """Messages per second through TelegramSender.send alone (no outbox), CONCURRENCY in
    flight, and CPU seconds per message in this process."""
    with tempfile.TemporaryDirectory() as folder:
        sessions, engine = await prepared_database(Path(folder), 0)
        try:
            async with telegram(base_url, sessions, limits) as service:
                async with sessions() as session:
                    codes = await repository.announcement_codes(session, 1)
                announcement = Announcement(1, "genshin", utc_now(), tuple(codes))
                queue = iter(range(count))
                started, cpu = time.perf_counter(), time.process_time()

                async def lane() -> None:
                    for i in queue:
                        delivery = Delivery(
                            i, 1, i, Platform.TELEGRAM, str(20_000_000 + i), "genshin", None,
                            None, 1,
                        )  # fmt: skip
                        await service.sender.send(delivery, announcement)

                await asyncio.gather(*(lane() for _ in range(CONCURRENCY)))
                elapsed = time.perf_counter() - started
                return count / elapsed, (time.process_time() - cpu) / count
        finally:
            await engine.dispose()  # type: ignore[attr-defined]


async def latency() -> tuple[float, float]:
    """Seconds from cycle start, and from cycle end, to the first message at the fake.

    The daemon's path: App.cycle() (fetch a local HoYoLAB-shaped source, merge, diff, store
    with the delivery rows, render the site, wake the worker), then the delivery worker
    already running, as in `codecast run`.
    """
    from bot.app.daemon import build_app
    from tests.fakes.source_site import FixtureSite, Page
    from tests.fakes.telegram_api import FakeTelegram

    def livestream(*codes: str) -> Page:
        bonuses = [
            {"exchange_code": code, "code_status": "ON", "icon_bonuses": [{"bonus_num": 60}]}
            for code in codes
        ]
        modules = [{"exchange_group": {"bonuses": bonuses}}] if bonuses else []
        body = {"retcode": 0, "message": "OK", "data": {"modules": modules}}
        return Page(json.dumps(body).encode(), "application/json")

    async with FixtureSite() as site, FakeTelegram() as tg:
        site.pages["livestream"] = livestream()
        with tempfile.TemporaryDirectory() as folder:
            catalog = Path(folder) / "catalog.toml"
            builtin = (ROOT / "bot" / "core" / "catalog.toml").read_text(encoding="utf-8")
            games = builtin.split("\n[[sources]]", 1)[0]
            catalog.write_text(
                f'{games}\n[[sources]]\nid = "local"\nkind = "hoyolab"\ngame = "genshin"\n'
                f'trust = "official"\nurl = "{site.url("livestream")}"\n',
                encoding="utf-8",
            )
            settings = Settings(
                CODECAST_DATABASE_URL=f"sqlite+aiosqlite:///{folder}/bench.db",
                CODECAST_SITE_DIR=Path(folder) / "public",
                CODECAST_CATALOG=catalog,
                TELEGRAM_TOKEN=tg.token,
                CODECAST_TELEGRAM_API_URL=tg.base_url,
            )
            app = await build_app(settings)
            try:
                [service] = app.services
                await service.start(commands=False)
                runner = asyncio.create_task(app.workers[0].run())
                await app.cycle()  # first sight of the page: a baseline, nothing announced
                async with app.sessions.begin() as session:
                    await repository.subscribe(
                        session, Platform.TELEGRAM, "4242", "genshin", now=utc_now()
                    )
                site.pages["livestream"] = livestream("NEWCODE2026")
                started = time.monotonic()
                report = await app.cycle()
                ended = time.monotonic()
                await tg.wait_for(lambda: bool(tg.sent_messages(4242)), within=30)
                first = tg.sent_messages(4242)[0].at
                runner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await runner
                assert report.deliveries == 1, report
            finally:
                await app.close()
    return first - started, first - ended


def memory_child(database_file: str) -> None:
    """Run in a fresh process: unlimited fan-out from a prepared database; print the RSS
    before sending, its peak, and the peak of Python's own allocations while sending."""

    async def run() -> None:
        engine = database.create_engine(f"sqlite+aiosqlite:///{database_file}")
        try:
            with fake_process() as base_url:
                before = rss_mb()
                tracemalloc.start()
                await deliver_all(base_url, database.session_factory(engine), NO_LIMITS)
                python_peak = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
        finally:
            await engine.dispose()
        print(f"{before:.1f} {rss_mb():.1f} {python_peak:.2f}")

    asyncio.run(run())


async def peak_rss(subscribers: int) -> tuple[float, float, float]:
    """RSS (MB) of a fresh process before and at the peak of fanning out to `subscribers`,
    and the peak of the Python objects allocated while sending.

    The database is prepared here, in this process, so that making 100,000 subscriptions
    is not counted as the sender's memory.
    """
    with tempfile.TemporaryDirectory() as folder:
        _, engine = await prepared_database(Path(folder), subscribers)
        await engine.dispose()  # type: ignore[attr-defined]
        output = subprocess.run(  # noqa: ASYNC221 - a benchmark waiting for its child
            [sys.executable, __file__, "--memory-child", str(Path(folder) / "bench.db")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PTB_TIMEDELTA": "true"},
        )
    before, peak, python_peak = output.stdout.strip().splitlines()[-1].split()
    return float(before), float(peak), float(python_peak)


async def main(args: argparse.Namespace) -> None:
    n, scale = args.subscribers, args.scale
    limit = OVERALL_LIMIT * scale
    if "a" in args.parts:
        await limited(n, scale, limit)
    if "b" in args.parts:
        await unlimited(n)
    if "c" in args.parts:
        (before, small, small_heap), (_, big, big_heap) = (
            await peak_rss(1000),
            await peak_rss(args.big),
        )
        print(
            f"(c) peak RSS of the sending process: {small:.1f} MB at 1,000 subscribers, "
            f"{big:.1f} MB at {args.big:,} ({before:.1f} MB before the first send); Python "
            f"objects allocated while sending peak at {small_heap:.2f} MB and "
            f"{big_heap:.2f} MB: the rest of the growth is native memory, SQLite's page "
            "cache (up to 2 MB per pooled connection) and the allocator's arenas"
        )
    if "e" in args.parts:
        await who_hears_first(args.wave_chats, scale)
    if "d" in args.parts:
        from_start, from_end = await latency()
        print(
            f"(d) code on a page -> first Telegram message: {from_start * 1000:.0f} ms from "
            f"the start of the cycle that finds it, {from_end * 1000:.0f} ms after it ends"
        )


async def limited(n: int, scale: float, limit: float) -> None:
    limits = TelegramLimits().scaled(scale)
    with fake_process("--limits", "--scale", str(scale)) as base_url:
        seconds, sent, _ = await fan_out(base_url, n, limits)
        alone, _ = await sender_alone(base_url, n, limits)
        stats = fake_stats(base_url)
    rate = sent / seconds
    print(
        f"(a) limited: {sent} messages in {seconds:.2f}s = {rate:.0f} msg/s against a limit of "
        f"{limit:.0f}/s (Telegram's 30/s x {scale:g}): {rate / limit:.3f} of the limit; "
        f"violations at the fake: {stats['violations']}"
    )
    print(
        f"    at the real limit this is {n / (rate / scale):.0f}s for {n} chats, "
        f"{10_000 / (rate / scale):.0f}s for 10,000 (goal: <= 351 s); the sender alone "
        f"(no outbox) keeps {alone / limit:.3f} of the limit: the rest is the worker's pause "
        "between batches (claim and final flush), which weighs ten times less at 30/s"
    )


async def unlimited(n: int) -> None:
    with fake_process() as base_url:
        seconds, sent, cpu = await fan_out(base_url, n, TelegramLimits.unlimited())
        alone, alone_cpu = await sender_alone(base_url, n)
    print(
        f"(b) unlimited: worker + SQLite outbox {sent / seconds:.0f} msg/s "
        f"({sent} in {seconds:.2f}s, {cpu / sent * 1e6:.0f} us CPU per message here, "
        f"i.e. {sent / cpu:.0f} msg/s per core); sender alone {alone:.0f} msg/s "
        f"({alone_cpu * 1e6:.0f} us CPU per message, {1 / alone_cpu:.0f} msg/s per core); "
        f"{CONCURRENCY} in flight; load average now {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores"
    )


class FirstMessages:
    """The sender, noting when each chat's first message of the fan-out was answered."""

    def __init__(self, inner: TelegramService) -> None:
        self.inner = inner.sender
        self.platform = self.inner.platform
        self.started = time.perf_counter()
        self.first: dict[str, float] = {}

    async def send(self, delivery: Delivery, announcement: Announcement) -> Outcome:
        outcome = await self.inner.send(delivery, announcement)
        if isinstance(outcome, Sent):
            self.first.setdefault(delivery.chat_id, time.perf_counter() - self.started)
        return outcome


async def wave_fan_out(
    base_url: str, chats: int, order: DeliveryOrder, limits: TelegramLimits
) -> tuple[dict[str, float], set[str], float]:
    """One wave of two games to `chats` chats, queued in `order` and sent: seconds to each
    chat's first message, the groups, and the seconds for the whole wave."""
    rng = random.Random(2026)
    audiences = {
        str(-1_000_000_000_000 - i if rng.random() < 0.01 else 10_000_000 + i): 1
        for i in range(chats)
    }
    groups = {chat for chat in audiences if chat.startswith("-")}
    for chat in groups:
        audiences[chat] = rng.choice([300, 2_000, 15_000, 60_000])
    games = {
        chat: [["genshin"], ["hsr"], ["genshin", "hsr"]][rng.randrange(3)] for chat in audiences
    }
    subscribed = list(audiences)
    rng.shuffle(subscribed)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await asyncio.to_thread(database.upgrade, url)
        engine = database.create_engine(url)
        sessions = database.session_factory(engine)
        now = utc_now()
        try:
            async with sessions.begin() as session:
                for game in ("genshin", "hsr"):
                    await add_subscriptions(
                        session,
                        (("telegram", c, None) for c in subscribed if game in games[c]),
                        game=game,
                        now=now,
                        audiences=audiences,
                    )
                codes = {
                    game: [(await add_code(session, game=game, code=f"{game}WAVE1", now=now)).id]
                    for game in ("genshin", "hsr")
                }
                await repository.create_wave(session, codes, now, order=order)
            async with telegram(base_url, sessions, limits) as service:
                sender = FirstMessages(service)
                worker = DeliveryWorker(sessions, sender, clock=utc_now, concurrency=CONCURRENCY)
                sender.started = time.perf_counter()
                await worker.drain()
                return sender.first, groups, time.perf_counter() - sender.started
        finally:
            await engine.dispose()


async def who_hears_first(chats: int, scale: float) -> None:
    limits = TelegramLimits().scaled(scale)
    with fake_process("--limits", "--scale", str(scale)) as base_url:
        for order in (DeliveryOrder.SUBSCRIBED, DeliveryOrder.REACH):
            first, groups, whole = await wave_fan_out(base_url, chats, order, limits)
            times = sorted(first.values())
            print(
                f"(e) {order:<10} {chats} chats, {len(groups)} groups, 2 games: every chat has "
                f"its first message after {times[-1] * scale:.0f}s, half of them after "
                f"{times[len(times) // 2] * scale:.0f}s, every group after "
                f"{max(first[g] for g in groups) * scale:.1f}s; the whole wave "
                f"{whole * scale:.0f}s (at Telegram's 30/s; measured {scale:g}x faster; "
                f"load average {os.getloadavg()[0]:.1f})"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--big", type=int, default=10_000)
    parser.add_argument("--wave-chats", type=int, default=3000)
    parser.add_argument("--parts", default="abcde", help="which figures: any of a, b, c, d, e")
    parser.add_argument("--memory-child", default="", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    if arguments.memory_child:
        memory_child(arguments.memory_child)
    else:
        asyncio.run(main(arguments))
