"""Kill -9 in the middle of a fan-out, N times: deliveries lost and doubled per run.

Usage: python bench/bench_crash.py [--runs 10] [--per-platform 2500]
Each run queues one announcement to that many Telegram chats and Discord channels (fake
platforms on 127.0.0.1), kills `codecast run` with SIGKILL a third of the way through,
restarts it and lets it drain.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

# The harness and the fake platforms live with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.e2e.crash_harness import kill_9_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--per-platform", type=int, default=2500)
    args = parser.parse_args()
    totals = {"lost": 0, "telegram": 0, "discord": 0}
    for number in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as folder:
            run = asyncio.run(kill_9_run(Path(folder), args.per_platform))
        lost = run.telegram_missing + run.discord_missing
        totals["lost"] += lost
        totals["telegram"] += run.telegram_doubles
        totals["discord"] += run.discord_doubles
        print(
            f"run {number:>2}: {run.queued} queued, killed after {run.delivered_at_kill}; "
            f"lost {lost}, doubled: Telegram {run.telegram_doubles}, "
            f"Discord {run.discord_doubles}; outbox {run.states}"
        )
    print(
        f"{args.runs} runs: lost {totals['lost']}, doubled Telegram {totals['telegram']} "
        f"(bound 66 a run), Discord {totals['discord']}"
    )


if __name__ == "__main__":
    main()
