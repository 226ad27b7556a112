"""Parse time grows in proportion to the page for every hostile shape, never with its square.

Each shape is parsed at a size large enough to measure and at eight times that size; the
ratio of the CPU times (less what a tiny page costs) is about 8 when parsing is linear and
about 64 when it is quadratic. The bound leaves room for a noisy machine. Absolute figures
live in bench/bench_hostile.py.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator

import pytest

from tests.hostile import SHAPES, HostileShape

# Parses megabytes per shape (about a minute of CPU in all): `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

GROWTH = 8
# Linear is 8, quadratic 64.
MAX_RATIO = 24
# The smaller page must cost at least this much CPU for the ratio to mean anything.
MEASURABLE = 0.015
TINY = 300
START = 1_000
# Sizes below which each shape stays the same kind of page: past them a block is cut at the
# extractor's block cap, or a scraper refuses the page as too large.
LARGEST = {
    "lead-gap-spaces": 19_000,
    "html-lead-gap-spaces": 19_000,
    "fandom-reward-spaces": 19_000,
    "heading-spaces": 19_000,
    "code-row-spaces": 590_000,
    "code-cell-brackets": 590_000,
    "marker-spaces": 590_000,
}
DEFAULT_LARGEST = 1_600_000
SQUARED = [s for s in SHAPES if s.squared]


def _cpu_seconds(hostile: HostileShape, size: int, repeat: int = 3) -> float:
    body = hostile.build(size)
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        started = time.process_time()
        hostile.parse(body)
        best = min(best, time.process_time() - started)
    return best


@pytest.fixture(autouse=True)
def _frozen_heap() -> Iterator[None]:
    """The objects earlier tests left are moved out of the collector's sight: each
    collection before a measurement then scans this test's objects only, not the process's."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.mark.parametrize("hostile", SQUARED, ids=[s.name for s in SQUARED])
def test_eight_times_the_page_costs_about_eight_times_the_time(hostile: HostileShape) -> None:
    largest = LARGEST.get(hostile.name, DEFAULT_LARGEST)
    base = _cpu_seconds(hostile, TINY)
    size = START
    # One reading per size while looking for a measurable one, the best of a few after.
    while _cpu_seconds(hostile, size, repeat=1) - base < MEASURABLE:
        if size * GROWTH * 2 > largest:
            break
        size *= 2
    small = _cpu_seconds(hostile, size) - base
    large = _cpu_seconds(hostile, size * GROWTH, repeat=2) - base
    said = f"{hostile.name}: {size} bytes took {small:.4f}s, {size * GROWTH} bytes {large:.4f}s"
    if small < MEASURABLE:
        # Too fast to measure even at the largest size that keeps the shape: then the large
        # page must be cheap too (a quadratic cost would show here).
        assert large < MEASURABLE * MAX_RATIO, said
    else:
        assert large / small < MAX_RATIO, said
