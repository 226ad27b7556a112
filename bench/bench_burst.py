"""A burst of Telegram users at real speed: answer latency, and the fan-out around it.

Usage: python bench/bench_burst.py [--users 300] [--others 900]

The fake Bot API runs in this process and enforces Telegram's published limits as they are
(30 messages/s overall, 1/s per chat, 429 above either). codecast's Telegram side runs in a
child process, built by `notifiers.telegram.wiring.build_service` from environment settings as the
daemon builds it, with the delivery worker, on a SQLite database this process fills.

Figures:
(a) `users` players send `/subscribe genshin` within one second to an idle bot: the time
    from each command to its answer (p50, p99, max), how long until all were answered, and
    the 429s codecast caused;
(b) the next announcement to those players: achieved rate (first to last message) as a
    fraction of the overall limit, and the 429s;
(c) the same burst from new players while an announcement to `others` subscribers is going
    out: the answers' latency, and the broadcast's rate while the burst lasts and after it
    (replies go first, the broadcast keeps a share).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.store import database, repository  # noqa: E402
from tests.seed import add_code, add_subscriptions  # noqa: E402

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from tests.fakes.telegram_api import FakeChat, FakeTelegram, FakeUser, SentMessage

OVERALL_LIMIT = 30.0  # messages per second, Telegram's published overall limit
OTHERS_BASE = 50_000_000  # chat ids of the subscribers of (c)'s broadcast


def utc_now() -> datetime:
    return datetime.now(UTC)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def rate(messages: list[SentMessage]) -> float:
    if len(messages) < 2:
        return float("nan")
    return (len(messages) - 1) / (messages[-1].at - messages[0].at)


# --- the bot process ---------------------------------------------------------------------


async def bot_process() -> None:
    """codecast's Telegram side alone: the service and the delivery worker, until SIGTERM."""
    from bot.app.settings import Settings
    from bot.core.catalog import load_catalog
    from notifiers.delivery import DeliveryWorker
    from notifiers.telegram.wiring import build_service

    settings = Settings()
    engine = database.create_engine(settings.database_url)
    sessions = database.session_factory(engine)
    service = build_service(settings, load_catalog(), sessions, utc_now)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await service.start(commands=True)
    print(json.dumps({"ready": True}), flush=True)
    worker = DeliveryWorker(sessions, service.sender, clock=utc_now, idle_poll=0.2)
    task = asyncio.create_task(worker.run())
    await stop.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await service.stop()
    await engine.dispose()


# --- the driver --------------------------------------------------------------------------


async def announce(sessions: async_sessionmaker[AsyncSession], game: str, code: str) -> None:
    now = utc_now()
    async with sessions.begin() as session:
        row = await add_code(session, game=game, code=code, now=now, rewards="Primogems ×60")
        await repository.create_announcement(session, game, [row.id], now)


async def burst(
    tg: FakeTelegram, crowd: list[tuple[FakeUser, FakeChat]], text: str
) -> tuple[list[float], float]:
    """The crowd sends `text` within one second; each one's wait for the answer, and the
    seconds from the first command to the last answer."""
    asked: dict[int, float] = {}
    gap = 1.0 / len(crowd)
    started = time.monotonic()
    for n, (user, chat) in enumerate(crowd):
        await asyncio.sleep(max(0.0, started + n * gap - time.monotonic()))
        asked[chat.id] = time.monotonic()
        tg.send_command(chat, user, text)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if all(tg.sent_messages(chat_id) for chat_id in asked):
            break
        await asyncio.sleep(0.05)
    answers = {c: tg.sent_messages(c)[0].at for c in asked if tg.sent_messages(c)}
    waits = [answers[c] - asked[c] for c in answers]
    return waits, max(answers.values()) - started


def report_burst(label: str, users: int, waits: list[float], span: float, caused: int) -> None:
    print(label)
    print(f"  answered               {len(waits)} of {users}, all within {span:.1f} s")
    print(
        f"  wait for the answer    p50 {percentile(waits, 50):.2f} s, "
        f"p99 {percentile(waits, 99):.2f} s, max {max(waits):.2f} s"
    )
    print(f"  429s caused            {caused}")


async def drive(users: int, others: int) -> None:
    from tests.fakes.telegram_api import FakeTelegram, RateLimits

    with tempfile.TemporaryDirectory() as folder:
        db_url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await asyncio.to_thread(database.upgrade, db_url)
        engine = database.create_engine(db_url)
        sessions = database.session_factory(engine)
        async with FakeTelegram(rate_limits=RateLimits()) as tg:
            env = {
                **os.environ,
                "TELEGRAM_TOKEN": tg.token,
                "CODECAST_TELEGRAM_API_URL": tg.base_url,
                "CODECAST_DATABASE_URL": db_url,
                "PTB_TIMEDELTA": "true",
            }
            child = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--bot", env=env, cwd=folder,
                stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            assert child.stdout is not None
            json.loads(await child.stdout.readline())
            try:
                await scenarios(tg, sessions, users, others)
            finally:
                child.send_signal(signal.SIGTERM)
                await child.wait()
        await engine.dispose()


async def scenarios(
    tg: FakeTelegram, sessions: async_sessionmaker[AsyncSession], users: int, others: int
) -> None:
    # (a) a burst on an idle bot
    crowd = [(user, tg.private_chat(user)) for user in (tg.add_user() for _ in range(users))]
    waits, span = await burst(tg, crowd, "/subscribe genshin")
    report_burst(
        f"(a) {users} players send /subscribe genshin within 1 s (fake enforcing 30/s, 1/s "
        "per chat)",
        users, waits, span, len(tg.violations),
    )  # fmt: skip

    # (b) the announcement that follows
    before = len(tg.violations)
    await announce(sessions, "genshin", "BURSTGIFT2026")
    wanted = {chat.id for _, chat in crowd}
    announced: list[SentMessage] = []
    deadline = time.monotonic() + users / OVERALL_LIMIT * 3 + 30
    while len(announced) < len(wanted) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        announced = [m for m in tg.sent_messages() if "BURSTGIFT2026" in m.text]
    achieved = rate(announced)
    print(f"(b) the next announcement to those {users}")
    print(f"  messages               {len(announced)}")
    print(f"  achieved rate          {achieved:.1f}/s = {achieved / OVERALL_LIMIT:.3f} of 30/s")
    print(f"  429s caused            {len(tg.violations) - before}")

    # (c) a burst while a broadcast is going out
    async with sessions.begin() as session:
        chats = (("telegram", str(OTHERS_BASE + n), None) for n in range(others))
        await add_subscriptions(session, chats, game="hsr", now=utc_now())
    before = len(tg.violations)
    await announce(sessions, "hsr", "HSRBURSTGIFT")
    while not any("HSRBURSTGIFT" in m.text for m in tg.sent_messages()):  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    await asyncio.sleep(2.0)  # the broadcast at full speed first
    newcomers = [(user, tg.private_chat(user)) for user in (tg.add_user() for _ in range(users))]
    burst_started = time.monotonic()
    waits, span = await burst(tg, newcomers, "/subscribe zzz")
    burst_ended = burst_started + span
    deadline = time.monotonic() + others / OVERALL_LIMIT * 3 + 30
    broadcast: list[SentMessage] = []
    while len(broadcast) < others and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        broadcast = [m for m in tg.sent_messages() if "HSRBURSTGIFT" in m.text]
    report_burst(
        f"(c) {users} new players send /subscribe zzz within 1 s while an announcement goes "
        f"to {others} subscribers",
        users, waits, span, len(tg.violations) - before,
    )  # fmt: skip
    during = [m for m in broadcast if burst_started <= m.at <= burst_ended]
    after = [m for m in broadcast if m.at > burst_ended]
    print(f"  broadcast messages     {len(broadcast)} of {others}")
    print(
        f"  broadcast rate         {len(during) / span:.1f}/s while the burst was answered, "
        f"{rate(after):.1f}/s after it"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--others", type=int, default=900)
    parser.add_argument("--bot", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bot:
        asyncio.run(bot_process())
    else:
        asyncio.run(drive(args.users, args.others))


if __name__ == "__main__":
    main()
