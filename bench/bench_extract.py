"""Time of the generic extractor per page: the labelled corpus, recorded pages, a 5 MB page."""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

from bot.core.catalog import load_catalog
from scrapers.page import extract_codes
from tests.recorded import EXTRACTION_DEV, SHARED_FIXTURES

REPEAT = 5


def _pages() -> list[tuple[str, Path]]:
    pages: list[tuple[str, Path]] = []
    for labels in sorted(EXTRACTION_DEV.glob("*.labels.json")):
        game = labels.name.rsplit("_", 1)[-1].split(".")[0]  # NNN_site_GAME.labels.json
        stem = labels.name[: -len(".labels.json")]
        pages.extend((game, p) for p in labels.parent.glob(stem + ".*") if p != labels)
    for path in sorted(SHARED_FIXTURES.glob("*/*.html")):
        game = path.name.split("_")[1] if path.name.startswith("game8") else "genshin"
        pages.append((game, path))
    return pages


def _huge() -> bytes:
    rnd = random.Random(1)
    words = ["lorem", "ipsum", "codes", "Primogems", "2031", "STARLIGHT", "v7.2"]
    parts = ["<html><body><h2>Codes</h2><ul>"]
    size = 0
    while size < 5_000_000:
        prose = " ".join(rnd.choice(words) for _ in range(200))
        piece = f"<p>{prose}</p><li><b>X{size:09d}Q</b></li>"
        parts.append(piece)
        size += len(piece)
    return "".join(parts).encode()


def main() -> int:
    catalog = load_catalog()
    rows: list[tuple[str, int, int, float]] = []
    for game_id, path in _pages():
        body = path.read_bytes()
        game = catalog.game(game_id)
        times = []
        found = 0
        for _ in range(REPEAT):
            start = time.perf_counter()
            found = len(extract_codes(body, game, filename=str(path)))
            times.append(time.perf_counter() - start)
        rows.append((path.name, len(body), found, statistics.median(times)))
    body = _huge()
    start = time.perf_counter()
    found = len(extract_codes(body, catalog.game("genshin"), filename="huge.html"))
    rows.append(("synthetic 5 MB page", len(body), found, time.perf_counter() - start))
    print(f"{'page':58s} {'bytes':>9s} {'codes':>5s} {'median ms':>10s}")
    for name, size, count, seconds in rows:
        print(f"{name[:58]:58s} {size:9d} {count:5d} {seconds * 1000:10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
