"""Locks that decide whose turn it is: by priority (without starving anyone) and per chat."""

from __future__ import annotations

import asyncio

import pytest

from notifiers.limits import KeyedLock, PriorityLock


async def _grant_order(lock: PriorityLock, waiters: list[tuple[str, int]]) -> list[str]:
    """Hold the lock while `waiters` queue up in this order, then record who gets it."""
    order: list[str] = []

    async def wait(name: str, priority: int) -> None:
        await lock.acquire(priority)
        order.append(name)
        await asyncio.sleep(0)
        lock.release()

    await lock.acquire(0)
    tasks = [asyncio.create_task(wait(name, priority)) for name, priority in waiters]
    await asyncio.sleep(0)  # every waiter queued
    lock.release()
    await asyncio.gather(*tasks)
    return order


async def test_urgent_waiters_go_first_in_arrival_order() -> None:
    lock = PriorityLock(patience=10)
    order = await _grant_order(lock, [("b1", 2), ("r1", 1), ("b2", 2), ("r2", 1)])
    assert order == ["r1", "r2", "b1", "b2"]
    assert not lock.locked


async def test_a_stream_of_urgent_waiters_never_starves_the_others() -> None:
    lock = PriorityLock(patience=3)
    waiters = [("b1", 2), ("b2", 2)] + [(f"r{i}", 1) for i in range(1, 8)]
    order = await _grant_order(lock, waiters)
    assert order == ["r1", "r2", "r3", "b1", "r4", "r5", "r6", "b2", "r7"]


async def test_a_cancelled_waiter_is_skipped_and_the_lock_goes_on() -> None:
    lock = PriorityLock()
    await lock.acquire(1)
    cancelled = asyncio.create_task(lock.acquire(1))
    after = asyncio.create_task(lock.acquire(2))
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    lock.release()
    await asyncio.wait_for(after, 1.0)
    assert lock.locked
    lock.release()
    assert not lock.locked


async def test_a_waiter_cancelled_after_being_handed_the_lock_hands_it_on() -> None:
    lock = PriorityLock()
    await lock.acquire(1)
    first = asyncio.create_task(lock.acquire(1))
    second = asyncio.create_task(lock.acquire(1))
    await asyncio.sleep(0)
    lock.release()  # handed to `first`, which has not run yet
    first.cancel()
    await asyncio.wait_for(second, 1.0)
    assert lock.locked


def test_release_of_an_unlocked_lock_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        PriorityLock().release()


async def test_keyed_lock_orders_one_key_and_forgets_it_when_free() -> None:
    locks = KeyedLock()
    order: list[str] = []

    async def work(key: str, name: str) -> None:
        await locks.acquire(key)
        order.append(f"{name} in")
        await asyncio.sleep(0.01)
        order.append(f"{name} out")
        locks.release(key)

    await asyncio.gather(work("a", "a1"), work("a", "a2"), work("b", "b1"))
    assert order.index("a1 out") < order.index("a2 in")
    assert order.index("b1 in") < order.index("a1 out")  # other keys do not wait
    assert len(locks) == 0
