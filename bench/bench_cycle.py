"""One scrape cycle over every demo source served locally: wall time and parsing CPU time.

Usage: python bench/bench_cycle.py [--rounds 5]
Each round starts from an empty database, so every page is fetched and parsed in full;
a second cycle in the same round shows the cost when the pages answer 304 Not Modified.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bot.app.daemon import build_app
from bot.app.settings import Settings
from tests.demo import stock
from tests.fakes.source_site import FixtureSite


async def one_round(folder: Path) -> tuple[float, float, float, int, int]:
    async with FixtureSite() as site:
        catalog = stock(site, folder)
        settings = Settings(
            CODECAST_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'bench.db'}",
            CODECAST_SITE_DIR=folder / "public",
            CODECAST_CATALOG=catalog,
            # One local server holds every page: the figure is codecast's work, not waits.
            CODECAST_HOST_SPACING=0,
            CODECAST_OFFICIAL_HOST_SPACING=0,
        )
        app = await build_app(settings, with_services=False)
        try:
            started = time.perf_counter()
            report = await app.pipeline.scrape_cycle()
            wall = time.perf_counter() - started
            started = time.perf_counter()
            await app.pipeline.scrape_cycle()
            unchanged = time.perf_counter() - started
        finally:
            await app.close()
    codes = sum(len(o.codes or ()) for o in report.outcomes)
    return wall, report.parse_seconds, unchanged, len(report.outcomes), codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    results = []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as folder:
            results.append(asyncio.run(one_round(Path(folder))))
    walls = [r[0] for r in results]
    parses = [r[1] for r in results]
    unchanged = [r[2] for r in results]
    _, _, _, sources, codes = results[-1]
    print(f"one cycle over {sources} sources ({codes} codes listed), {args.rounds} rounds:")
    print(f"  wall time, full fetch+parse+store: median {statistics.median(walls) * 1000:.1f} ms")
    print(f"  CPU time spent parsing:            median {statistics.median(parses) * 1000:.1f} ms")
    print(
        f"  wall time, all sources 304:        median {statistics.median(unchanged) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
