"""Waiting for an event with a time limit, without losing a cancellation.

On Python 3.11, `asyncio.wait_for(event.wait(), seconds)` returns normally when the task is
cancelled just as the event is set: the cancellation is lost, and a loop that waits that way
goes on after its stop asked it to end, so whoever awaits it waits forever (fixed in 3.12,
whose `wait_for` is built on `asyncio.timeout`). `asyncio.timeout` never loses one.
"""

from __future__ import annotations

import asyncio


async def wait_set(event: asyncio.Event, seconds: float) -> bool:
    """Whether `event` was set within `seconds` (at once when it is set already)."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
