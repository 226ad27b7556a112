"""A codecast daemon in a process of its own, fed by fake platforms, for crash-safety tests."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.store import database, repository
from bot.store.models import DeliveryRow, DeliveryState
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from tests.seed import add_code, add_subscriptions

# A catalog with the built-in games and no sources: these tests are about delivery.
CATALOG = """
[games.genshin]
name = "Genshin Impact"
pattern = "[A-Za-z0-9]{6,20}"
redeem_url = "https://genshin.hoyoverse.com/en/gift?code={code}"
"""


@dataclass
class Fleet:
    """The chats and channels subscribed, and what the fakes received for each."""

    telegram_chats: list[int] = field(default_factory=list)
    discord_channels: list[int] = field(default_factory=list)

    def telegram_counts(self, tg: FakeTelegram) -> Counter[int]:
        return Counter(m.chat_id for m in tg.sent_messages())

    def discord_counts(self, dc: FakeDiscord) -> Counter[int]:
        return Counter(m.channel_id for m in dc.messages() if m.kind == "channel")


def build_world(dc: FakeDiscord, telegram: int, discord: int) -> Fleet:
    fleet = Fleet(telegram_chats=[5_000_000 + i for i in range(telegram)])
    per_guild = 500
    for start in range(0, discord, per_guild):
        count = min(per_guild, discord - start)
        guild = dc.add_guild(
            f"Server {start // per_guild}", channels=tuple(f"codes-{i}" for i in range(count))
        )
        fleet.discord_channels += list(guild.channels)
    return fleet


async def seed(url: str, fleet: Fleet) -> int:
    """Subscriptions for every chat and channel, and one announcement queued to them all."""
    await asyncio.to_thread(database.upgrade, url)
    engine = database.create_engine(url)
    sessions = database.session_factory(engine)
    now = datetime.now(UTC)
    chats = [("telegram", str(chat), None) for chat in fleet.telegram_chats] + [
        ("discord", str(channel), "0") for channel in fleet.discord_channels
    ]
    try:
        async with sessions.begin() as session:
            await add_subscriptions(session, chats, game="genshin", now=now)
            code = await add_code(
                session, game="genshin", code="CRASHSAFE2026", now=now, rewards="Primogem ×60"
            )
            _, count = await repository.create_announcement(session, "genshin", [code.id], now)
    finally:
        await engine.dispose()
    return count


async def outbox_states(url: str) -> dict[str, int]:
    engine = database.create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(DeliveryRow.state, func.count()).group_by(DeliveryRow.state)
                )
            ).all()
    finally:
        await engine.dispose()
    return {state: int(n) for state, n in rows}


async def senders(url: str) -> Counter[str]:
    """How many rows each delivery worker marked sent (claimed_by stays on sent rows)."""
    engine = database.create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(DeliveryRow.claimed_by, func.count())
                    .where(DeliveryRow.state == DeliveryState.SENT)
                    .group_by(DeliveryRow.claimed_by)
                )
            ).all()
    finally:
        await engine.dispose()
    return Counter({str(worker): int(n) for worker, n in rows})


def daemon_environment(
    tmp_path: Path, url: str, tg: FakeTelegram, dc: FakeDiscord, **extra: str
) -> dict[str, str]:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(CATALOG, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODECAST_")}
    env.update(
        CODECAST_DATABASE_URL=url,
        CODECAST_SITE_DIR=str(tmp_path / "public"),
        CODECAST_CATALOG=str(catalog),
        CODECAST_SCRAPE_INTERVAL="3600",
        CODECAST_HOST_SPACING="0",
        CODECAST_OFFICIAL_HOST_SPACING="0",
        TELEGRAM_TOKEN=tg.token,
        CODECAST_TELEGRAM_API_URL=tg.base_url,
        DISCORD_TOKEN=dc.token,
        CODECAST_DISCORD_API_URL=dc.api_url,
        # The fakes run without Telegram's and with a raised Discord limit, so that
        # thousands of sends take seconds; the limits have tests of their own.
        CODECAST_TELEGRAM_RATE_OVERALL="5000",
        CODECAST_DISCORD_GLOBAL_RATE="2000",
        CODECAST_DELIVERY_LEASE="3",
        CODECAST_DELIVERY_RETRY_BASE="0.5",
        PTB_TIMEDELTA="true",
    )
    env.update(extra)
    return env


@dataclass
class Daemon:
    """`codecast run` as a child process; its stderr is kept for the failure message."""

    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None
    log: bytearray = field(default_factory=bytearray)
    _reader: asyncio.Task[None] | None = None

    async def start(self) -> Daemon:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=self.env,
            stderr=asyncio.subprocess.PIPE,
            # A group of its own, so that a kill takes its parser processes too.
            start_new_session=True,
        )
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.process is not None
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.log += line

    def kill(self) -> None:
        """SIGKILL to the daemon and the processes it started, as when its machine dies:
        a parser process left behind would keep the log pipe open."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)

    async def stop(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), 60)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 10)
        return code

    @property
    def text(self) -> str:
        return self.log.decode(errors="replace")


@dataclass(frozen=True)
class KillRun:
    queued: int
    delivered_at_kill: int
    states: dict[str, int]
    telegram_missing: int
    discord_missing: int
    telegram_doubles: int
    discord_doubles: int
    log: str


async def poll(predicate: Callable[[], Awaitable[bool]], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not await predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


async def kill_9_run(folder: Path, per_platform: int, kill_after: float = 1 / 3) -> KillRun:
    """Queue one announcement to `per_platform` chats on each platform, start codecast, kill
    it with SIGKILL once `kill_after` of the messages arrived, restart it, let it drain."""
    async with (
        FakeTelegram(rate_limits=None) as tg,
        FakeDiscord(global_limit=5000, echo_messages=False) as dc,
    ):
        fleet = build_world(dc, per_platform, per_platform)
        url = f"sqlite+aiosqlite:///{folder / 'codecast.db'}"
        queued = await seed(url, fleet)
        env = daemon_environment(folder, url, tg, dc)

        def delivered() -> int:
            return len(fleet.telegram_counts(tg)) + len(fleet.discord_counts(dc))

        async def enough() -> bool:
            return delivered() >= queued * kill_after

        async def drained() -> bool:
            return (await outbox_states(url)).get("pending", 0) == 0

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
        if not finished or code != 0:
            raise AssertionError(f"restart did not drain (exit {code}):\n{second.text[-5000:]}")
        telegram = fleet.telegram_counts(tg)
        discord = fleet.discord_counts(dc)
        return KillRun(
            queued=queued,
            delivered_at_kill=at_kill,
            states=await outbox_states(url),
            telegram_missing=len(set(fleet.telegram_chats) - set(telegram)),
            discord_missing=len(set(fleet.discord_channels) - set(discord)),
            telegram_doubles=sum(n - 1 for n in telegram.values()),
            discord_doubles=sum(n - 1 for n in discord.values()),
            log=first.text + "\n--- restart ---\n" + second.text,
        )
