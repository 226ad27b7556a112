"""Benchmark of the static site: render time and size, write cost, front page weight.

The goal is a warm render of 10 games x 500 codes in all twelve languages under 1 s (the
codes are cleaned and ordered once, codes.json written once; each language writes its own
pages and feeds). On a shared machine the wall time swings with the other processes' load;
the CPU time beside it is what the render itself costs.
"""

from __future__ import annotations

import gzip
import random
import statistics
import string
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.catalog import load_catalog
from bot.core.domain import CodeStatus, CodeView, Game, RewardItem, SourceHealth
from bot.site import SiteRenderer, SiteSnapshot, render_site, write_site
from bot.site.cards import front_lines, game_cards
from bot.site.feeds import atom_feeds, codes_json_files
from bot.site.icons import Icon
from bot.site.localize import site_languages
from bot.site.view import arrange

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SITE = "https://codes.example.org/"
RUNS = 9
# Reward icons as the icon pipeline leaves them: one in ten codes carries HoYoLAB-style items
# (icon and amount, no name) whose icons were fetched and converted.
ICON_URLS = [f"https://cdn.example.net/icon{i}.png" for i in range(4)]
ICONS = {
    url: Icon(webp=f"{i:016x}.webp", png=f"{i + 100:016x}.png", width=32, height=32)
    for i, url in enumerate(ICON_URLS)
}
REWARDS = [
    "Primogems \u00d760, Mora \u00d710000",
    "Stellar Jade \u00d7100, Credit \u00d750000",
    "Polychrome \u00d7300, Dennies \u00d730000",
    "Crystals \u00d7100, Asterite \u00d7500",
    "Astrite \u00d750, Premium Tuning Module \u00d71",
    "Hero's Wit \u00d75, Mystic Enhancement Ore \u00d75, Mora \u00d720000",
]


def games(count: int) -> tuple[Game, ...]:
    catalog = tuple(load_catalog().games.values())
    extra = tuple(
        Game(id=f"game{i}", name=f"Game {i}", pattern="[A-Z0-9]{6,20}", note="Redeem in game.")
        for i in range(count - len(catalog))
    )
    return (catalog + extra)[:count]


def snapshot(game_count: int, per_game: int, current_share: float) -> SiteSnapshot:
    rnd = random.Random(42)
    chosen = games(game_count)
    codes = []
    for game in chosen:
        for i in range(per_game):
            code = "".join(rnd.choice(string.ascii_uppercase + string.digits) for _ in range(12))
            current = i < per_game * current_share
            status = CodeStatus.ACTIVE if current else CodeStatus.EXPIRED
            if current and rnd.random() < 0.1:
                status = CodeStatus.UNKNOWN
            first = NOW - timedelta(hours=6 * i + rnd.randint(0, 5))
            items = (RewardItem("Primogem", 60, "https://cdn.example.net/p.png"),)
            if rnd.random() < 0.1:
                items = tuple(RewardItem("", rnd.choice((5, 60, 100)), u) for u in ICON_URLS[:2])
            codes.append(
                CodeView(
                    game=game.id,
                    code=code,
                    status=status,
                    rewards=rnd.choice(REWARDS),
                    items=items,
                    first_seen=first,
                    last_seen=NOW,
                    expires_at=None if current else first + timedelta(days=7),
                    sources=("fandom", "game8", "hoyolab")[: rnd.randint(1, 3)],
                )
            )
    sources = tuple(
        SourceHealth(
            id=f"fandom-{g.id}",
            game=g.id,
            kind="fandom",
            url="https://wiki.example.net/api.php",
            last_attempt=NOW,
            last_success=NOW,
            last_error=None,
            consecutive_failures=0,
            last_count=per_game,
            probably_broken=False,
        )
        for g in chosen
    )
    return SiteSnapshot(
        games=chosen,
        codes=tuple(codes),
        sources=sources,
        generated_at=NOW,
        site_url=SITE,
        icons=ICONS,
    )


def timed(action: Callable[[], object]) -> tuple[float, float]:
    """Median wall and CPU seconds of RUNS calls."""
    walls, cpus = [], []
    for _ in range(RUNS):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), statistics.median(cpus)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> None:
    big = snapshot(10, 500, current_share=0.2)
    start = time.perf_counter()
    files = render_site(big)
    cold = time.perf_counter() - start
    renderer = SiteRenderer()
    wall, cpu = timed(lambda: renderer.render(big))
    files = renderer.render(big)
    total = sum(len(v) for v in files.values())
    languages = site_languages()
    print(
        f"render 10 games x 500 codes ({len(big.codes)} codes, 20% current),"
        f" {len(languages)} languages:"
    )
    print(f"  cold (new SiteRenderer): {ms(cold)}")
    print(f"  warm median of {RUNS}:     {ms(wall)} (CPU {ms(cpu)}; goal < 1000 ms)")
    print(f"  files: {len(files)}, bytes: {total:,}")
    largest = max(files, key=lambda k: len(files[k]))
    print(f"  largest: {largest} ({len(files[largest]):,} B)")

    # The stages of a render, each timed alone (medians, CPU time): the language-neutral ones
    # once, the others for one language (English, then Japanese) and for all of them.
    games = arrange(big.games, big.codes, big.generated_at, big.icons)
    english, japanese = languages[0], languages[2]
    stages: dict[str, Callable[[], object]] = {
        "arrange (clean, escape, order)": lambda: arrange(
            big.games, big.codes, big.generated_at, big.icons
        ),
        "codes.json files": lambda: codes_json_files(SITE, games),
        "game page cards, English": lambda: [game_cards(g.all_codes, english.card) for g in games],
        "game page cards, Japanese": lambda: [
            game_cards(g.all_codes, japanese.card) for g in games
        ],
        "game page cards, all": lambda: [
            game_cards(g.all_codes, site.card) for site in languages for g in games
        ],
        "front page lines, all": lambda: [
            front_lines(g.current, site.card) for site in languages for g in games
        ],
        "Atom feeds, all": lambda: [atom_feeds(SITE, games, site) for site in languages],
    }
    print("  stages (CPU):")
    for name, action in stages.items():
        print(f"    {name:32s} {ms(timed(action)[1])}")

    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp)
        start = time.perf_counter()
        first = write_site(site, files)
        first_time = time.perf_counter() - start
        again = renderer.render(big)
        start = time.perf_counter()
        second = write_site(site, again)
        second_time = time.perf_counter() - start
    print("write to a temporary folder (with .gz twins):")
    print(
        f"  first run:  {len(first.written)} files, {first.bytes_written:,} B,"
        f" {first_time * 1000:.0f} ms"
    )
    print(
        f"  second run, no change: {len(second.written)} files written,"
        f" {second.unchanged} unchanged, {second_time * 1000:.0f} ms"
    )

    small = render_site(snapshot(5, 50, current_share=1.0), renderer)
    print("index.html for 5 games x 50 active codes (goal < 15,360 B gzipped):")
    for site in languages:
        index = small[f"{site.folder}index.html"]
        packed = gzip.compress(index, compresslevel=9, mtime=0)
        print(f"  /{site.folder:9s} {len(index):,} B raw, {len(packed):,} B gzipped")


if __name__ == "__main__":
    main()
