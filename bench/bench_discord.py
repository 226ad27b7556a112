"""Discord: announcement rate against the global limit, /codes latency, and the bot's memory.

Usage: python bench/bench_discord.py [--channels 2000] [--interactions 200]

The fake Discord runs in this process and enforces Discord's limits (50 requests/s global,
5 messages per 5 s per channel). codecast's Discord bot runs in a child process, built by
`notifiers.discord.build_service` from environment settings as the daemon builds it, with
the shared delivery worker; so its peak RSS is the bot's own, not the fake's.

Figures:
- announcement to N channels (one message each: the per-channel limit does not bind, the
  global one does): achieved rate between the first and the last message create, as a
  fraction of the 50/s limit, and the 429s codecast caused (the fake's violations);
- /codes: from the INTERACTION_CREATE frame leaving the fake to the interaction callback
  (deferred) and to the follow-up carrying the codes, p50 and p99, one at a time and as a
  burst of all of them within one second (how many were answered within Discord's 3 s);
- peak RSS of the bot process with the gateway connected, after all of the above.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.catalog import load_catalog  # noqa: E402
from bot.store import database  # noqa: E402

if TYPE_CHECKING:
    from tests.fakes.discord_api import FakeDiscord

GLOBAL_LIMIT = 50
INTERACTION_DEADLINE = 3.0  # seconds Discord gives an interaction's first answer
CHANNELS_PER_GUILD = 50
CODES_PER_GAME = 12


def utc_now() -> datetime:
    return datetime.now(UTC)


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# --- the bot process ---------------------------------------------------------------------


async def bot_process() -> None:
    """codecast's Discord side alone: the service and the delivery worker, until SIGTERM."""
    from bot.app.settings import Settings
    from notifiers.delivery import DeliveryWorker
    from notifiers.discord.wiring import build_service

    settings = Settings()
    engine = database.create_engine(settings.database_url)
    sessions = database.session_factory(engine)
    service = build_service(settings, load_catalog(), sessions, utc_now)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await service.start(commands=True)
    connected = rss_kb()
    print(json.dumps({"ready": True, "rss_connected_kb": connected}), flush=True)
    worker = DeliveryWorker(sessions, service.sender, clock=utc_now)
    task = asyncio.create_task(worker.run())
    await stop.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    before_stop = rss_kb()
    await service.stop()
    await engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps({"peak_rss_kb": peak, "rss_end_kb": before_stop, "sent": worker.stats.sent}),
        flush=True,
    )


# --- the driver --------------------------------------------------------------------------


async def prepare(db_url: str, dc: FakeDiscord, channels: int) -> tuple[int, int, int]:
    """Guilds and channels on the fake; subscriptions, codes and one announcement in the
    database. Returns a guild, a channel and a member to run /codes as."""
    from bot.core.domain import Platform
    from bot.store import repository
    from bot.store.models import CodeRow

    await asyncio.to_thread(database.upgrade, db_url)
    engine = database.create_engine(db_url)
    sessions = database.session_factory(engine)
    now = utc_now()
    first: tuple[int, int, int] | None = None
    catalog = load_catalog()
    try:
        async with sessions.begin() as session:
            made = 0
            while made < channels:
                guild = dc.add_guild(f"Server {made // CHANNELS_PER_GUILD}", channels=())
                member = dc.add_member(guild.id, "player")
                for _ in range(min(CHANNELS_PER_GUILD, channels - made)):
                    channel = dc.add_channel(guild.id)
                    await repository.subscribe(
                        session, Platform.DISCORD, str(channel.id), "genshin",
                        now=now, space_id=str(guild.id),
                    )  # fmt: skip
                    first = first or (guild.id, channel.id, member.user.id)
                    made += 1
            for game in catalog.games:
                for i in range(CODES_PER_GAME):
                    session.add(
                        CodeRow(
                            game=game, code=f"{game.upper()}CODE{i:02d}",
                            code_key=f"{game.upper()}CODE{i:02d}",
                            rewards="Primogem x60, Hero's Wit x5, Mora x20000", items=[],
                            status="active", first_seen=now, last_seen=now, announced_at=now,
                        )
                    )  # fmt: skip
            code = CodeRow(
                game="genshin", code="GENSHINNEWGIFT", code_key="GENSHINNEWGIFT",
                rewards="Primogem x100", items=[], status="active",
                first_seen=now, last_seen=now, announced_at=now,
            )  # fmt: skip
            session.add(code)
            await session.flush()
            _, rows = await repository.create_announcement(session, "genshin", [code.id], now)
            assert rows == channels
    finally:
        await engine.dispose()
    assert first is not None
    return first


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def burst(
    dc: FakeDiscord, guild_id: int, channel_id: int, user_id: int, count: int
) -> tuple[list[float], list[float]]:
    """`count` /codes spread over one second: each one's time to its callback and to the
    follow-up with the codes."""
    handles = []
    sent_at = []
    started = time.monotonic()
    for n in range(count):
        await asyncio.sleep(max(0.0, started + n / count - time.monotonic()))
        sent_at.append(time.monotonic())
        handles.append(
            await dc.dispatch_interaction(
                guild_id, channel_id, user_id, "codes", {"game": "genshin"}
            )
        )
    callbacks = [
        record.latency for record in await asyncio.gather(*(h.response() for h in handles))
    ]
    replies = await asyncio.gather(*(h.wait_followups(1) for h in handles))
    answers = [reply.created_at - sent for [reply], sent in zip(replies, sent_at, strict=True)]
    return callbacks, answers


async def drive(channels: int, interactions: int) -> None:
    # Imported here: the bot process must not carry the fake (aiohttp's server) in its RSS.
    from tests.fakes.discord_api import FakeDiscord

    with tempfile.TemporaryDirectory() as folder:
        db_url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        async with FakeDiscord(global_limit=GLOBAL_LIMIT) as dc:
            guild_id, channel_id, user_id = await prepare(db_url, dc, channels)
            env = {
                **os.environ,
                "DISCORD_TOKEN": dc.token,
                "CODECAST_DISCORD_API_URL": dc.api_url,
                "CODECAST_DATABASE_URL": db_url,
                "CODECAST_DISCORD_GLOBAL_RATE": str(GLOBAL_LIMIT),
            }
            child = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--bot", env=env, cwd=folder,
                stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            assert child.stdout is not None
            started = json.loads(await child.stdout.readline())
            # The worker starts right after: wait until every channel has its message.
            deadline = time.monotonic() + channels / GLOBAL_LIMIT * 3 + 30
            # Polled: the fake has no event for stored messages.
            while len(dc.messages()) < channels and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
            creates = [
                r for r in dc.requests
                if r.method == "POST" and r.path.startswith("/channels/")
                and r.path.endswith("/messages") and r.status == 200
            ]  # fmt: skip
            span = creates[-1].at - creates[0].at if len(creates) > 1 else float("nan")
            rate = (len(creates) - 1) / span
            violations = len(dc.violations)

            callbacks: list[float] = []
            answers: list[float] = []
            for _ in range(interactions):
                sent = time.monotonic()
                handle = await dc.dispatch_interaction(
                    guild_id, channel_id, user_id, "codes", {"game": "genshin"}
                )
                callbacks.append((await handle.response()).latency)
                [reply] = await handle.wait_followups(1)
                answers.append(reply.created_at - sent)

            burst_callbacks, burst_answers = await burst(
                dc, guild_id, channel_id, user_id, interactions
            )

            child.send_signal(signal.SIGTERM)
            finished = json.loads(await child.stdout.readline())
            await child.wait()

    print(f"announcement to {channels} channels (fake enforcing {GLOBAL_LIMIT}/s global, 5/5 s)")
    print(f"  messages created       {len(creates)}")
    print(f"  achieved rate          {rate:.1f}/s = {rate / GLOBAL_LIMIT:.2f} of the global limit")
    print(f"  429s caused            {violations}")
    print(f"/codes latency over {interactions} interactions (sequential)")
    print(
        f"  to the callback        p50 {percentile(callbacks, 50) * 1000:.1f} ms, "
        f"p99 {percentile(callbacks, 99) * 1000:.1f} ms"
    )
    print(
        f"  to the codes follow-up p50 {percentile(answers, 50) * 1000:.1f} ms, "
        f"p99 {percentile(answers, 99) * 1000:.1f} ms"
    )
    print(f"  mean callback          {statistics.mean(callbacks) * 1000:.1f} ms")
    print(f"/codes latency, {interactions} interactions within one second (a burst)")
    in_time = sum(1 for latency in burst_callbacks if latency < INTERACTION_DEADLINE)
    print(f"  answered in 3 s        {in_time} of {interactions}")
    print(
        f"  to the callback        p50 {percentile(burst_callbacks, 50) * 1000:.1f} ms, "
        f"p99 {percentile(burst_callbacks, 99) * 1000:.1f} ms, "
        f"max {max(burst_callbacks) * 1000:.1f} ms"
    )
    print(
        f"  to the codes follow-up p50 {percentile(burst_answers, 50) * 1000:.1f} ms, "
        f"p99 {percentile(burst_answers, 99) * 1000:.1f} ms"
    )
    print("bot process memory (Discord only, gateway connected)")
    print(f"  RSS after start        {started['rss_connected_kb'] / 1024:.1f} MB")
    print(f"  RSS at the end         {finished['rss_end_kb'] / 1024:.1f} MB")
    print(f"  peak RSS               {finished['peak_rss_kb'] / 1024:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--channels", type=int, default=2000)
    parser.add_argument("--interactions", type=int, default=200)
    parser.add_argument("--bot", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bot:
        asyncio.run(bot_process())
    else:
        asyncio.run(drive(args.channels, args.interactions))


if __name__ == "__main__":
    main()
