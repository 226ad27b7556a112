"""Detection latency, the cost of an unchanged poll, load per host, and CPU at idle.

Usage: python bench/bench_cadence.py [--hours 4] [--compress 60] [--idle-seconds 120]

Part one runs codecast's own poll schedule, host gate and pipeline (fetch over HTTP, parse,
merge, commit on SQLite) against local fakes: a HoYoLAB livestream endpoint (one host, no
ETag: every answer whole) and one MediaWiki API per wiki, whose content changes at random
times. Each official game has one livestream: three codes appear on HoYoLAB within an hour,
each on the game's wiki a few minutes later; wiki-only games get a new code now and then.
Time is compressed: every default interval, burst and spacing is divided by --compress
(60 s becomes 1 s at 60×). A latency is reported in uncompressed seconds: the wait for the
poll that read the change, multiplied back, plus that poll's real time from its first
request to its commit (not multiplied, so a loaded machine shows).

Part two runs `codecast run` itself at the default settings, uncompressed, against the same
kind of fakes (a catalog shaped like the built-in one: 3 official sources on one host, 5
wikis, 7 editorial pages on two hosts) with nothing changing, and reads the CPU time of it
and its parser processes from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bot.app.pipeline import Pipeline
from bot.app.schedule import FIRST_ROUND_SECONDS, PollSchedule
from bot.core.cadence import Cadence, default_interval, follows_bursts
from bot.core.catalog import Catalog, parse_catalog
from bot.core.domain import Game, ScrapedCode, SourceConfig, Trust
from bot.store import database
from scrapers import SCRAPERS
from scrapers.base import Fetched, Fetcher, Scraper, Validators
from scrapers.politeness import HostGate, host_of
from tests.fakes.mediawiki import FakeMediaWiki, code_page
from tests.fakes.source_site import FixtureSite, Page

WIKI_ONLY_GAMES = 4
TITLE = "Redemption Code"
PATTERN = "[A-Za-z0-9]{6,24}"


def hoyolab(codes: list[str]) -> bytes:
    """HoYoLAB's livestream answer listing `codes` (an empty module list between streams)."""
    future = int(time.time()) + 3 * 86400
    bonuses = [
        {"exchange_code": c, "code_status": "ON", "offline_at": future, "icon_bonuses": []}
        for c in codes
    ]
    modules = [{"exchange_group": {"bonuses": bonuses}}] if codes else []
    return json.dumps({"retcode": 0, "message": "OK", "data": {"modules": modules}}).encode()


@dataclass
class Change:
    source_id: str
    code: str
    at: float  # loop time
    bursting: bool
    latency: float | None = None


class TimedScrapers(dict[str, Scraper]):
    """The real scrapers, noting when each source's fetch began (after its host's turn)."""

    def __init__(self) -> None:
        super().__init__({kind: _Timed(scraper, self) for kind, scraper in SCRAPERS.items()})
        self.fetch_started: dict[str, float] = {}


@dataclass(frozen=True)
class _Timed:
    inner: Scraper
    owner: TimedScrapers

    async def fetch(
        self, fetcher: Fetcher, source: SourceConfig, validators: Validators
    ) -> Fetched:
        self.owner.fetch_started[source.id] = asyncio.get_running_loop().time()
        return await self.inner.fetch(fetcher, source, validators)

    def parse(self, body: bytes, game: Game, source: SourceConfig) -> list[ScrapedCode]:
        return self.inner.parse(body, game, source)


def catalog_for(
    site: FixtureSite, wikis: dict[str, FakeMediaWiki], compress: float, official_games: int
) -> Catalog:
    games: dict[str, Any] = {}
    sources: list[dict[str, Any]] = []
    for n in range(official_games):
        game = f"live{n}"
        games[game] = {"name": game, "pattern": PATTERN}
        sources.append(
            {"id": f"hoyolab-{game}", "kind": "hoyolab", "game": game, "trust": "official",
             "may_be_empty": True, "url": site.url(f"hoyolab/{game}")}
        )  # fmt: skip
    for game in [f"live{n}" for n in range(official_games)] + [
        f"wiki{n}" for n in range(WIKI_ONLY_GAMES)
    ]:
        games.setdefault(game, {"name": game, "pattern": PATTERN})
        sources.append(
            {"id": f"fandom-{game}", "kind": "fandom", "game": game,
             "url": wikis[game].url(TITLE.replace(" ", "_"))}
        )  # fmt: skip
    catalog = parse_catalog({"games": games, "sources": sources})
    # The default interval of each source, compressed.
    return parse_catalog(
        {
            "games": games,
            "sources": [
                {**raw, "interval": default_interval(s) / compress}
                for raw, s in zip(sources, catalog.sources, strict=True)
            ],
        }
    )


async def simulate(
    hours: float, compress: float, seed: int, official_games: int
) -> dict[str, Any]:
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    span = hours * 3600 / compress
    folder = Path(tempfile.mkdtemp(prefix="bench-cadence-"))
    url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    await database.ensure_schema(url)
    engine = database.create_engine(url)
    sessions = database.session_factory(engine)
    site = await FixtureSite(etags=False).start()
    wikis = {
        g: await FakeMediaWiki().start()
        for g in [f"live{n}" for n in range(official_games)]
        + [f"wiki{n}" for n in range(WIKI_ONLY_GAMES)]
    }
    official_listed: dict[str, list[str]] = defaultdict(list)
    wiki_listed: dict[str, list[str]] = defaultdict(lambda: ["OLDCODE1234"])
    for n in range(official_games):
        site.pages[f"hoyolab/live{n}"] = Page(hoyolab([]), "application/json")
    for game, wiki in wikis.items():
        wiki.edit(TITLE, code_page(*wiki_listed[game]))
    catalog = catalog_for(site, wikis, compress, official_games)
    official = [s.id for s in catalog.sources if s.trust is Trust.OFFICIAL]
    hosts = HostGate(
        10.0 / compress,
        dict.fromkeys({host_of(s.url) for s in catalog.sources if s.id in official}, 1 / compress),
        backoff_start=60.0 / compress,
        backoff_max=3600.0 / compress,
    )
    scrapers = TimedScrapers()
    client = httpx.AsyncClient(timeout=20)
    pipeline = Pipeline(
        catalog=catalog,
        sessions=sessions,
        fetcher=Fetcher(client, retries=0),
        scrapers=scrapers,
        clock=lambda: datetime.now(UTC),
        hosts=hosts,
    )
    pending: dict[str, list[Change]] = defaultdict(list)
    first_round_over = datetime.now(UTC) + timedelta(seconds=2 * FIRST_ROUND_SECONDS)
    changes: list[Change] = []
    unchanged_bytes: dict[str, list[int]] = defaultdict(list)
    requests_by_host: dict[str, int] = defaultdict(int)
    by_id = {s.id: s for s in catalog.sources}

    async def poll(source: SourceConfig) -> int:
        report = await pipeline.poll_source(source)
        done = loop.time()
        [outcome] = report.outcomes
        requests_by_host[host_of(source.url)] += outcome.traffic.requests
        listed = {c.code for c in outcome.codes or ()}
        found = [c for c in pending[source.id] if c.code in listed]
        kind = "official" if source.id in official else "wiki"
        # Unchanged: a wiki read nothing new (same revision id); HoYoLAB, which sends no
        # ETag, answered whole with nothing new in it.
        nothing_new = outcome.codes is None if kind == "wiki" else not found
        if outcome.error is None and nothing_new and report.started_at > first_round_over:
            unchanged_bytes[kind].append(outcome.traffic.bytes)
        started = scrapers.fetch_started.get(source.id, done)
        for change in found:
            waited = max(0.0, started - change.at) * compress
            change.latency = waited + (done - started)
            pending[source.id].remove(change)
        return sum(report.first_listed.values())

    schedule = PollSchedule(
        catalog.sources,
        Cadence(burst_interval=20 / compress, burst_seconds=7200 / compress),
        poll,
        rng=rng,
        first_round=FIRST_ROUND_SECONDS / compress,
        resting_until=lambda s: hosts.resting_until(s.url),
    )

    def change(source_id: str, code: str) -> None:
        source = by_id[source_id]
        game = source.game
        item = Change(source_id, code, loop.time(), schedule.bursting(game))
        changes.append(item)
        pending[source_id].append(item)
        if source_id.startswith("hoyolab-"):
            official_listed[game].append(code)
            site.pages[f"hoyolab/{game}"] = Page(
                hoyolab(official_listed[game]), "application/json"
            )
        else:
            wiki_listed[game].append(code)
            wikis[game].edit(TITLE, code_page(*wiki_listed[game]))

    # The script of changes: (loop seconds from start, source id, code).
    script: list[tuple[float, str, str]] = []
    minute = 60 / compress
    for n in range(official_games):
        start = rng.uniform(10, max(11.0, hours * 60 - 130)) * minute
        offsets = sorted([0.0, rng.uniform(5, 40), rng.uniform(20, 60)])
        for k, offset in enumerate(offsets):
            code = f"LIVE{n}CODE{k}X"
            at = start + offset * minute
            script.append((at, f"hoyolab-live{n}", code))
            script.append((at + rng.uniform(1, 10) * minute, f"fandom-live{n}", code))
    for n in range(WIKI_ONLY_GAMES):
        at = rng.expovariate(1 / 30) * minute + 5 * minute
        k = 0
        while at < span - 3 * minute:
            script.append((at, f"fandom-wiki{n}", f"WIKI{n}EDIT{k}X"))
            k += 1
            at += rng.expovariate(1 / 30) * minute
    script.sort()

    began = loop.time()
    schedule.start()
    try:
        for at, source_id, code in script:
            await asyncio.sleep(max(0.0, began + at - loop.time()))
            change(source_id, code)
        await asyncio.sleep(max(0.0, began + span - loop.time()))
    finally:
        await schedule.stop(grace=5)
        await client.aclose()
        await site.stop()
        for wiki in wikis.values():
            await wiki.stop()
        await engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)
    elapsed_hours = (loop.time() - began) * compress / 3600
    return {
        "changes": changes,
        "unchanged_bytes": unchanged_bytes,
        "requests_per_hour": {h: n / elapsed_hours for h, n in requests_by_host.items()},
        "official_host": host_of(catalog.sources[0].url),
        "hours": elapsed_hours,
        "bursting_sources": sum(follows_bursts(s) for s in catalog.sources),
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def report_latency(changes: list[Change]) -> None:
    for kind in ("official", "wiki"):
        for burst in (False, True):
            picked = [
                c.latency
                for c in changes
                if c.latency is not None
                and c.source_id.startswith("hoyolab" if kind == "official" else "fandom")
                and c.bursting == burst
            ]
            missed = sum(
                1
                for c in changes
                if c.latency is None
                and c.source_id.startswith("hoyolab" if kind == "official" else "fandom")
                and c.bursting == burst
            )
            label = f"{kind}, {'during a burst' if burst else 'no burst'}"
            if not picked:
                print(f"  {label:<28} no samples")
                continue
            print(
                f"  {label:<28} n={len(picked):>3}  p50 {percentile(picked, 0.5):5.1f} s"
                f"  p95 {percentile(picked, 0.95):5.1f} s  max {max(picked):5.1f} s"
                + (f"  ({missed} not seen by the end)" if missed else "")
            )


# --- part two: the daemon at idle ----------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process and its children (the parser workers), in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


async def idle_daemon(seconds: float, warmup: float) -> tuple[float, int]:
    folder = Path(tempfile.mkdtemp(prefix="bench-idle-"))
    site = await FixtureSite(etags=False).start()
    guides = await FixtureSite().start()
    other_guides = await FixtureSite().start()
    wikis = [await FakeMediaWiki().start() for _ in range(5)]
    lines = []
    for n, name in enumerate(("genshin", "hsr", "zzz", "hi3", "wuwa")):
        lines.append(f'[games.{name}]\nname = "{name}"\npattern = "{PATTERN}"\n')
        wikis[n].edit(TITLE, code_page("GENSHINGIFT", "OLDCODE1234"))
        lines.append(
            f'[[sources]]\nid = "fandom-{name}"\nkind = "fandom"\ngame = "{name}"\n'
            f'url = "{wikis[n].url(TITLE.replace(" ", "_"))}"\n'
        )
    for name in ("genshin", "hsr", "zzz"):
        site.pages[f"hoyolab/{name}"] = Page(hoyolab([]), "application/json")
        lines.append(
            f'[[sources]]\nid = "hoyolab-{name}"\nkind = "hoyolab"\ngame = "{name}"\n'
            f'trust = "official"\nmay_be_empty = true\nurl = "{site.url("hoyolab/" + name)}"\n'
        )
    page = b"<ul><li><strong>GENSHINGIFT</strong> - 60 Primogems</li></ul>"
    for n, (host, name) in enumerate(
        [(guides, g) for g in ("genshin", "hsr", "zzz", "wuwa")]
        + [(other_guides, g) for g in ("genshin", "hsr", "zzz")]
    ):
        host.pages[f"codes/{n}"] = Page(page)
        lines.append(
            f'[[sources]]\nid = "guide-{n}"\nkind = "page"\ngame = "{name}"\n'
            f'trust = "curated"\nurl = "{host.url(f"codes/{n}")}"\n'
        )
    catalog = folder / "catalog.toml"
    catalog.write_text("\n".join(lines), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODECAST_")}
    env.pop("TELEGRAM_TOKEN", None)
    env.pop("DISCORD_TOKEN", None)
    env.update(
        CODECAST_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'codecast.db'}",
        CODECAST_SITE_DIR=str(folder / "public"),
        CODECAST_CATALOG=str(catalog),
        CODECAST_LOG_LEVEL="WARNING",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        await asyncio.sleep(warmup)
        before = cpu_seconds(process.pid)
        asked = len(site.requests) + sum(len(w.asked) for w in wikis)
        await asyncio.sleep(seconds)
        spent = cpu_seconds(process.pid) - before
        asked = len(site.requests) + sum(len(w.asked) for w in wikis) - asked
    finally:
        process.terminate()
        await process.wait()
        for fake in (site, guides, other_guides):
            await fake.stop()
        for wiki in wikis:
            await wiki.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return spent, asked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=float, default=4.0)
    parser.add_argument("--compress", type=float, default=60.0)
    parser.add_argument("--idle-seconds", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument(
        "--livestreams", type=int, default=6, help="games with an official source, one stream each"
    )
    args = parser.parse_args()
    result = asyncio.run(simulate(args.hours, args.compress, args.seed, args.livestreams))
    print(
        f"{result['hours']:.1f} h at the default cadence, compressed {args.compress:g}x; "
        f"{args.livestreams} games with a livestream (official + wiki), "
        f"{WIKI_ONLY_GAMES} wiki-only games"
    )
    print("detection latency (change on the source -> stored):")
    report_latency(result["changes"])
    print("bytes per unchanged poll (status line, headers and body):")
    for kind, values in sorted(result["unchanged_bytes"].items()):
        print(
            f"  {kind:<9} median {statistics.median(values):6.0f}  max {max(values):6.0f}"
            f"  (n={len(values)})"
        )
    print("requests per hour per host:")
    rates = result["requests_per_hour"]
    official_host = result["official_host"]
    print(f"  official API ({args.livestreams} games on one host): {rates[official_host]:.0f}")
    wiki_rates = [r for h, r in rates.items() if h != official_host]
    print(
        f"  each wiki host: median {statistics.median(wiki_rates):.0f}, max {max(wiki_rates):.0f}"
    )
    if args.idle_seconds > 0:
        spent, asked = asyncio.run(idle_daemon(args.idle_seconds, warmup=20.0))
        per_hour = spent * 3600 / args.idle_seconds
        print(
            f"`codecast run` at idle, default settings, built-in-shaped catalog (15 sources):"
            f" {spent:.2f} s CPU in {args.idle_seconds:g} s -> {per_hour:.0f} s CPU per hour"
            f" ({asked} requests to the official and wiki fakes)"
        )


if __name__ == "__main__":
    main()
