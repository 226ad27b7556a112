"""Parse time against page size for each hostile page shape (tests/hostile.py).

Each measurement runs in a child process with a time budget, so a shape that is still
quadratic prints "> budget" instead of running for hours. Ratios near 2 per doubling are
linear; near 4, quadratic.

    .venv/bin/python bench/bench_hostile.py [--budget 60] [--shapes br-lines,table-row]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hostile import SHAPES, shape  # noqa: E402

# The br-lines sizes are the ones first measured (29 KB and doublings) up to the 3 MB cap.
BR_SIZES = (29_000, 58_000, 116_000, 232_000, 464_000, 928_000, 1_856_000, 3_000_000)
SIZES = (10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_280_000, 3_000_000)
# The sizes the issue reported on, measured once each besides the doublings.
EXTRA = {"text-paragraph": (44_000,), "table-row": (152_000,), "fandom-reward-spaces": (20_300,)}


def measure_one(name: str, size: int) -> None:
    """In the child: build, parse once, print seconds and what came out."""
    hostile = shape(name)
    body = hostile.build(size)
    started = time.perf_counter()
    result = hostile.parse(body)
    seconds = time.perf_counter() - started
    outcome = f"{len(result)} codes" if isinstance(result, list) else type(result).__name__
    print(f"{seconds:.6f} {len(body)} {outcome}")


def measure(name: str, size: int, budget: float) -> tuple[float | None, int, str]:
    command = [sys.executable, __file__, "--one", name, str(size)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=budget, check=True)
    except subprocess.TimeoutExpired:
        return None, size, ""
    seconds, length, outcome = done.stdout.split(maxsplit=2)
    return float(seconds), int(length), outcome.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per measurement")
    parser.add_argument("--shapes", default="", help="comma-separated shape names")
    parser.add_argument("--max-size", type=int, default=3_000_000)
    parser.add_argument("--one", nargs=2, metavar=("SHAPE", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        measure_one(args.one[0], int(args.one[1]))
        return 0
    wanted = [s for s in args.shapes.split(",") if s] or [s.name for s in SHAPES]
    print(f"{'shape':24s} {'bytes':>9s} {'seconds':>9s} {'x prev':>7s}  result")
    for name in wanted:
        base = BR_SIZES if name == "br-lines" else SIZES
        sizes = sorted({*base, *EXTRA.get(name, ())})
        previous: float | None = None
        for size in sizes:
            if size > args.max_size:
                break
            seconds, length, outcome = measure(name, size, args.budget)
            if seconds is None:
                print(f"{name:24s} {length:9d} {'> ' + str(int(args.budget)):>9s}")
                break
            ratio = f"{seconds / previous:7.2f}" if previous and size in base else ""
            print(f"{name:24s} {length:9d} {seconds:9.3f} {ratio:>7s}  {outcome}")
            if size in base:
                previous = seconds
    return 0


if __name__ == "__main__":
    sys.exit(main())
