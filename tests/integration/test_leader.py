"""Exactly one process runs the scrape schedule: the PostgreSQL advisory lock moves on death."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from bot.app.leader import ScheduleLock, lead
from bot.store import database


@pytest.mark.postgres
async def test_only_one_holder_and_the_lock_moves_when_the_holder_dies(postgres_url: str) -> None:
    first_engine = database.create_engine(postgres_url)
    second_engine = database.create_engine(postgres_url)
    first, second = ScheduleLock(first_engine, key=4242), ScheduleLock(second_engine, key=4242)
    try:
        assert await first.try_acquire()
        assert not await second.try_acquire()
        assert await first.still_held()
        # The holder's connection dies (process killed, network gone): PostgreSQL frees it.
        assert first._connection is not None
        pid = await first._connection.scalar(text("SELECT pg_backend_pid()"))
        async with second_engine.connect() as admin:
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert not await first.still_held()
        assert await second.try_acquire()
        assert not await first.try_acquire()
    finally:
        await first.release()
        await second.release()
        await first_engine.dispose()
        await second_engine.dispose()


@pytest.mark.postgres
async def test_lead_elects_one_and_hands_over_on_release(postgres_url: str) -> None:
    engines = [database.create_engine(postgres_url) for _ in range(2)]
    events: list[str] = []
    elected = [asyncio.Event(), asyncio.Event()]

    def elect(n: int) -> None:
        events.append(f"elected {n}")
        elected[n].set()

    tasks = [
        asyncio.create_task(
            lead(
                ScheduleLock(engine, key=4343),
                on_elected=lambda n=n: elect(n),
                on_deposed=lambda n=n: events.append(f"deposed {n}"),
                check_every=0.1,
            )
        )
        for n, engine in enumerate(engines)
    ]
    try:
        done, _ = await asyncio.wait(
            [asyncio.create_task(e.wait()) for e in elected],
            timeout=5,
            return_when=asyncio.FIRST_COMPLETED,
        )
        assert len(done) == 1
        await asyncio.sleep(0.5)
        assert len([e for e in events if e.startswith("elected")]) == 1
        winner = 0 if elected[0].is_set() else 1
        # The winner stops (its process ends): the other takes over within a check or two.
        tasks[winner].cancel()
        await asyncio.gather(tasks[winner], return_exceptions=True)
        await asyncio.wait_for(elected[1 - winner].wait(), 5)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for engine in engines:
            await engine.dispose()


async def test_on_sqlite_this_process_always_schedules(sqlite_url: str) -> None:
    engine = database.create_engine(sqlite_url)
    try:
        lock = ScheduleLock(engine)
        assert await lock.try_acquire()
        assert await lock.still_held()
    finally:
        await engine.dispose()
