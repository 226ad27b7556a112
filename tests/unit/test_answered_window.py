"""The answered window both platforms use: a request counts until a window after its answer."""

from __future__ import annotations

import asyncio
import time

import pytest

from notifiers.limits import AnsweredWindow

WINDOW = 0.2


async def test_requests_up_to_the_limit_go_at_once() -> None:
    # A long window, so that "at once" cannot be confused with waiting on a busy machine.
    window = AnsweredWindow(3, 5.0)
    started = time.monotonic()
    for _ in range(3):
        async with window.slot():
            pass
    assert time.monotonic() - started < 2.5


async def test_one_more_waits_for_the_oldest_answer_to_leave_the_window() -> None:
    window = AnsweredWindow(3, WINDOW)
    for _ in range(3):
        async with window.slot():
            pass
    answered = time.monotonic()
    async with window.slot():
        waited = time.monotonic() - answered
    assert waited == pytest.approx(WINDOW, abs=0.05)


async def test_a_slow_answer_keeps_its_place_until_a_window_after_it() -> None:
    window = AnsweredWindow(1, WINDOW)
    async with window.slot():
        # Started long ago, answered only now: the server may have counted it just now.
        await asyncio.sleep(WINDOW)
    answered = time.monotonic()
    assert window.occupied() == 1
    async with window.slot():
        waited = time.monotonic() - answered
    assert waited == pytest.approx(WINDOW, abs=0.05)


async def test_a_request_in_flight_frees_its_place_for_waiters_when_answered() -> None:
    window = AnsweredWindow(1, WINDOW)
    release = asyncio.Event()

    async def first() -> None:
        async with window.slot():
            await release.wait()

    task = asyncio.create_task(first())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(window.slot().__aenter__())
    await asyncio.sleep(0.05)
    assert not waiter.done()
    release.set()
    await task
    await asyncio.wait_for(waiter, WINDOW * 3)


def test_nonsense_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="count"):
        AnsweredWindow(0, 1.0)
