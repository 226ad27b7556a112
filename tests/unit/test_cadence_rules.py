"""The cadence rules: intervals by trust, the catalog's `interval`, livestream windows."""

from __future__ import annotations

import random
import tomllib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.cadence import Cadence, default_interval, live_now, next_boundary
from bot.core.catalog import CatalogError, load_catalog, parse_catalog
from bot.core.domain import Livestream, SourceConfig, Trust

GAMES = {"genshin": {"name": "Genshin Impact", "pattern": "[A-Z0-9]{6,}"}}


def source(kind: str, trust: Trust, interval: float | None = None) -> SourceConfig:
    return SourceConfig(
        id=f"{kind}-{trust}", kind=kind, game="genshin", url="https://x.test/", trust=trust,
        interval=interval,
    )  # fmt: skip


def test_the_built_in_sources_get_their_defaults_by_trust() -> None:
    intervals = {s.id: default_interval(s) for s in load_catalog().sources}
    assert intervals["hoyolab-genshin"] == 60
    assert intervals["fandom-genshin"] == 60
    assert intervals["game8-genshin"] == 300
    assert intervals["pockettactics-hsr"] == 300
    assert default_interval(source("page", Trust.PAGE)) == 600


def test_a_catalog_interval_wins_over_the_setting_which_wins_over_the_defaults() -> None:
    own = source("page", Trust.PAGE, interval=45)
    plain = source("page", Trust.PAGE)
    assert Cadence().base_interval(own) == 45
    assert Cadence().base_interval(plain) == 600
    assert Cadence(override=2).base_interval(plain) == 2
    assert Cadence(override=2).base_interval(own) == 45


def test_bursts_speed_up_official_and_wiki_sources_only_and_never_slow_one_down() -> None:
    cadence = Cadence(burst_interval=20)
    assert cadence.interval(source("hoyolab", Trust.OFFICIAL), bursting=True) == 20
    assert cadence.interval(source("fandom", Trust.CURATED), bursting=True) == 20
    assert cadence.interval(source("game8", Trust.CURATED), bursting=True) == 300
    assert cadence.interval(source("fandom", Trust.CURATED), bursting=False) == 60
    fast = Cadence(override=1, burst_interval=20)
    assert fast.interval(source("fandom", Trust.CURATED), bursting=True) == 1


def test_jitter_stays_within_its_fraction_and_averages_out() -> None:
    cadence = Cadence(jitter=0.05)
    rng = random.Random(7)
    values = [cadence.jittered(60, rng) for _ in range(2000)]
    assert min(values) >= 57
    assert max(values) <= 63
    assert abs(sum(values) / len(values) - 60) < 0.2


def test_livestreams_are_read_from_the_catalog_with_two_hours_by_default() -> None:
    data = tomllib.loads(
        '[games.genshin]\nname = "G"\npattern = "[A-Z0-9]{6,}"\n'
        '[[livestreams]]\ngame = "genshin"\nstarts = 2026-12-19T12:00:00Z\nhours = 1.5\n'
        '[[livestreams]]\ngame = "genshin"\nstarts = "2027-01-30T20:00:00+08:00"\n'
    )
    first, second = parse_catalog(data).livestreams
    assert first == Livestream(
        "genshin",
        datetime(2026, 12, 19, 12, tzinfo=UTC),
        datetime(2026, 12, 19, 13, 30, tzinfo=UTC),
    )
    assert second.starts == datetime(2027, 1, 30, 12, tzinfo=UTC)
    assert second.ends - second.starts == timedelta(hours=2)


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ({"game": "nope", "starts": "2026-12-19T12:00:00Z"}, "must name a game"),
        ({"game": "genshin", "starts": "2026-12-19T12:00:00"}, "with its offset"),
        ({"game": "genshin", "starts": "soon"}, "not a date"),
        ({"game": "genshin", "starts": "2026-12-19T12:00:00Z", "hours": 0}, "positive"),
        ({"game": "genshin", "starts": "2026-12-19T12:00:00Z", "at": 1}, "unknown keys: at"),
    ],
)
def test_bad_livestreams_are_refused_with_a_reason(entry: dict[str, Any], says: str) -> None:
    with pytest.raises(CatalogError, match=says):
        parse_catalog({"games": GAMES, "livestreams": [entry]})


@pytest.mark.parametrize("interval", [0, -1, "fast", True, float("nan")])
def test_a_bad_source_interval_is_refused(interval: object) -> None:
    raw = {"id": "s", "kind": "page", "game": "genshin", "url": "https://x.test/"}
    with pytest.raises(CatalogError, match=r"sources\[0\]\.interval must be a positive number"):
        parse_catalog({"games": GAMES, "sources": [{**raw, "interval": interval}]})


def test_a_source_interval_is_kept_and_not_passed_on_as_an_option() -> None:
    raw = {"id": "s", "kind": "page", "game": "genshin", "url": "https://x.test/"}
    [parsed] = parse_catalog({"games": GAMES, "sources": [{**raw, "interval": 90}]}).sources
    assert parsed.interval == 90
    assert "interval" not in parsed.options


def test_livestream_windows_say_when_a_game_is_live_and_when_that_changes() -> None:
    start = datetime(2026, 12, 19, 12, tzinfo=UTC)
    streams = [Livestream("genshin", start, start + timedelta(hours=2))]
    assert not live_now(streams, "genshin", start - timedelta(seconds=1))
    assert live_now(streams, "genshin", start)
    assert not live_now(streams, "hsr", start)
    assert not live_now(streams, "genshin", start + timedelta(hours=2))
    assert next_boundary(streams, start - timedelta(hours=1)) == start
    assert next_boundary(streams, start) == start + timedelta(hours=2)
    assert next_boundary(streams, start + timedelta(hours=3)) is None
