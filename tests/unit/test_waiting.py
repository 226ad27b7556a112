"""Loops that wait for an event with a time limit end when they are cancelled, always."""

from __future__ import annotations

import asyncio

import pytest

from bot.app.schedule import SiteRefresh
from bot.core.waiting import wait_set


async def test_wait_set_says_whether_the_event_came_in_time() -> None:
    event = asyncio.Event()
    assert not await wait_set(event, 0.01)
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_set(event, 5)
    assert await wait_set(event, 0)  # set already


async def test_a_cancellation_that_comes_as_the_event_is_set_is_not_lost() -> None:
    event = asyncio.Event()
    waiter = asyncio.create_task(wait_set(event, 60))
    await asyncio.sleep(0)
    event.set()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter


async def test_the_site_refresh_stops_when_a_write_is_asked_for_as_it_stops() -> None:
    # The daemon's stop waited forever for this loop: asked to write as it was cancelled,
    # it went on writing every minute instead.
    writes: list[None] = []

    async def publish() -> None:
        writes.append(None)

    refresh = SiteRefresh(publish, every=60)
    refresh.start()
    await asyncio.sleep(0)
    refresh.request()
    async with asyncio.timeout(5):  # the stop begins in this step, as the request came
        await refresh.stop()
    assert writes == []
