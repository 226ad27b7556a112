"""Pages are parsed in worker processes: a slow page fails on its own clock, the event loop
never waits for a parser, and stopping never waits either."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app.parsing import ParserPool, ParsingStopped
from bot.core.catalog import load_catalog
from bot.core.domain import SourceConfig, Trust
from scrapers.base import SourceTooSlow
from tests.hostile import shape

GENSHIN = load_catalog().game("genshin")
PAGE = SourceConfig(
    id="a-page", kind="page", game="genshin", url="https://codes.test/a.html", trust=Trust.CURATED
)
GOOD = b"<html><body><h2>Active codes</h2><ul><li><b>GENSHINGIFT</b> - 60 Primogems</li></ul>"
# Seconds of parsing at the least, even on a fast machine (bench/bench_hostile.py).
SLOW = shape("br-lines").build(3_000_000)


@pytest.fixture
async def pool() -> AsyncIterator[ParserPool]:
    parsers = ParserPool(workers=2, time_limit=1.0)
    try:
        # The fork server and a first worker are up before the clocks of the tests start.
        codes, _ = await parsers.parse(PAGE, GOOD, GENSHIN)
        assert [c.code for c in codes] == ["GENSHINGIFT"]
        yield parsers
    finally:
        parsers.stop()


async def test_a_page_over_the_time_limit_fails_as_too_slow_and_the_next_one_is_read(
    pool: ParserPool,
) -> None:
    started = time.monotonic()
    with pytest.raises(SourceTooSlow, match="too slow to parse"):
        await pool.parse(PAGE, SLOW, GENSHIN)
    assert time.monotonic() - started < pool.time_limit + 2
    codes, seconds = await pool.parse(PAGE, GOOD, GENSHIN)
    assert [c.code for c in codes] == ["GENSHINGIFT"]
    assert 0 < seconds < pool.time_limit


async def test_the_event_loop_runs_on_while_a_page_is_parsed(pool: ParserPool) -> None:
    gaps: list[float] = []

    async def tick() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    try:
        with pytest.raises(SourceTooSlow):
            await pool.parse(PAGE, SLOW, GENSHIN)
    finally:
        ticker.cancel()
    assert len(gaps) > 20
    assert max(gaps) < 0.25, f"the loop stalled for {max(gaps):.2f}s"


async def test_stopping_ends_a_parse_at_once() -> None:
    parsers = ParserPool(workers=1, time_limit=600.0)
    await parsers.parse(PAGE, GOOD, GENSHIN)
    parsing = asyncio.create_task(parsers.parse(PAGE, SLOW, GENSHIN))
    await asyncio.sleep(0.5)
    assert not parsing.done()
    stopped = time.monotonic()
    parsers.stop()
    with pytest.raises(ParsingStopped):
        await asyncio.wait_for(parsing, 5)
    assert time.monotonic() - stopped < 2
    with pytest.raises(ParsingStopped):
        await parsers.parse(PAGE, GOOD, GENSHIN)


@pytest.mark.timing
async def test_pages_wait_for_a_free_worker_and_their_clock_starts_then() -> None:
    parsers = ParserPool(workers=1, time_limit=3.0)
    try:
        await parsers.parse(PAGE, GOOD, GENSHIN)
        # A dozen pages of half a second each through one worker take longer together than
        # one page may alone.
        pages = [parsers.parse(PAGE, GOOD * 4000, GENSHIN) for _ in range(12)]
        results = await asyncio.gather(*pages)
        assert all([c.code for c in codes] == ["GENSHINGIFT"] for codes, _ in results)
    finally:
        parsers.stop()


_KILLED_DAEMON = """
import asyncio, os, sys
from bot.app.parsing import ParserPool
from bot.core.catalog import load_catalog
from bot.core.domain import SourceConfig

async def main() -> None:
    pool = ParserPool(workers=2, time_limit=30)
    source = SourceConfig(id="p", kind="page", game="genshin", url="https://p.test/")
    await pool.parse(source, b"Redeem code GENSHINGIFT", load_catalog().game("genshin"))
    print(os.getpid(), flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_workers_end_when_the_daemon_is_killed() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _KILLED_DAEMON, stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 60)
    daemon = int(line)
    workers = [p for p in _children_of(daemon, deep=True) if p != daemon]
    assert workers, "the pool started no worker process"
    process.send_signal(signal.SIGKILL)
    # The wait ends once the daemon's pipes close too: a worker left behind holds them open.
    try:
        await asyncio.wait_for(process.wait(), 20)
    except TimeoutError:
        raise AssertionError("worker processes outlived the killed daemon") from None
    deadline = time.monotonic() + 15
    while any(_running(p) for p in workers):
        assert time.monotonic() < deadline, "worker processes outlived the killed daemon"
        await asyncio.sleep(0.2)


def _children_of(pid: int, *, deep: bool) -> list[int]:
    """Process ids below `pid` (from /proc), its grandchildren too with `deep`."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    if deep:
        found += [g for child in list(found) for g in _children_of(child, deep=True)]
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
