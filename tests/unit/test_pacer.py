"""The pacer: evenly spaced sends that make up for timers waking late, never for idle time."""

from __future__ import annotations

import pytest

from notifiers.limits import Pacer

INTERVAL = 0.001  # a send a millisecond: the paid broadcast rate
EARLY = INTERVAL / 2
CATCH_UP = 0.005


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def went_at_once(pacer: Pacer, *, queued: bool) -> int:
    """How many acquisitions go now, without waiting for a slot."""
    count = 0
    while pacer.ready():
        await pacer.acquire(queued=queued)
        count += 1
        assert count < 1000
    return count


async def test_slots_a_late_timer_missed_while_sends_queue_are_made_up() -> None:
    clock = Clock()
    pacer = Pacer(INTERVAL, early=EARLY, catch_up=CATCH_UP, clock=clock)
    await pacer.acquire()
    # The next send's timer was due in a millisecond and woke three late.
    clock.now += 4 * INTERVAL
    await pacer.acquire(queued=True)
    # It missed three slots: the queue behind it takes them now, then the schedule holds.
    assert await went_at_once(pacer, queued=True) == 3


async def test_without_a_queue_nothing_is_made_up() -> None:
    clock = Clock()
    pacer = Pacer(INTERVAL, early=EARLY, catch_up=CATCH_UP, clock=clock)
    await pacer.acquire()
    clock.now += 4 * INTERVAL
    await pacer.acquire()
    assert await went_at_once(pacer, queued=False) == 0


async def test_idle_time_is_never_banked() -> None:
    clock = Clock()
    pacer = Pacer(INTERVAL, early=EARLY, catch_up=CATCH_UP, clock=clock)
    await pacer.acquire()
    clock.now += 60
    # The first send after a minute of quiet goes at once; the second waits its interval.
    await pacer.acquire()
    assert not pacer.ready()


async def test_a_long_stall_is_made_up_for_catch_up_seconds_at_most() -> None:
    clock = Clock()
    pacer = Pacer(INTERVAL, early=EARLY, catch_up=CATCH_UP, clock=clock)
    await pacer.acquire()
    clock.now += 1.0  # the machine was busy for a second
    await pacer.acquire(queued=True)
    burst = await went_at_once(pacer, queued=True)
    assert burst == pytest.approx(CATCH_UP / INTERVAL, abs=1)


def test_early_must_stay_within_the_interval() -> None:
    with pytest.raises(ValueError, match="early"):
        Pacer(INTERVAL, early=INTERVAL)
