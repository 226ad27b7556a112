"""How often each source is polled: defaults by trust, the catalog's interval, livestream bursts.

Pure rules; bot/app/schedule.py keeps the due times and the bursts under way.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.core.domain import Livestream, SourceConfig, Trust

# Official and wiki sources are where a new code shows first (HoYoLAB lists livestream codes
# as they are shown; wiki editors add them within minutes); editorial pages follow later,
# and pages a user adds are the least known.
OFFICIAL_SECONDS = 60.0
WIKI_SECONDS = 60.0
CURATED_SECONDS = 300.0
PAGE_SECONDS = 600.0
# Kinds that read a wiki (MediaWiki API), however they are trusted.
WIKI_KINDS = frozenset({"fandom"})
# Each interval is stretched or shrunk by up to this fraction, at random, so that polls of
# many sources (and many codecast installations) do not fall on the same second.
JITTER = 0.05


def is_wiki(source: SourceConfig) -> bool:
    return source.kind in WIKI_KINDS


def follows_bursts(source: SourceConfig) -> bool:
    """Sources polled faster while a game's livestream codes come in: official and wikis."""
    return source.trust is Trust.OFFICIAL or is_wiki(source)


def starts_bursts(source: SourceConfig) -> bool:
    """A new code from an official source means a livestream (or a drop) is under way."""
    return source.trust is Trust.OFFICIAL


def default_interval(source: SourceConfig) -> float:
    if source.trust is Trust.OFFICIAL:
        return OFFICIAL_SECONDS
    if is_wiki(source):
        return WIKI_SECONDS
    if source.trust is Trust.PAGE:
        return PAGE_SECONDS
    return CURATED_SECONDS


@dataclass(frozen=True)
class Cadence:
    """The polling rules, built once from the settings.

    `override` is CODECAST_SCRAPE_INTERVAL: when set, it replaces the defaults by trust for
    every source that has no `interval` of its own in the catalog.
    """

    override: float | None = None
    burst_interval: float = 20.0
    burst_seconds: float = 7200.0
    jitter: float = JITTER

    def base_interval(self, source: SourceConfig) -> float:
        if source.interval is not None:
            return source.interval
        if self.override is not None:
            return self.override
        return default_interval(source)

    def interval(self, source: SourceConfig, *, bursting: bool) -> float:
        """Seconds until the next poll; a burst never makes a source slower."""
        base = self.base_interval(source)
        if bursting and follows_bursts(source):
            return min(base, self.burst_interval)
        return base

    def jittered(self, seconds: float, rng: random.Random) -> float:
        return seconds * (1.0 + rng.uniform(-self.jitter, self.jitter))


def live_now(livestreams: Iterable[Livestream], game: str, now: datetime) -> bool:
    return any(stream.game == game and stream.covers(now) for stream in livestreams)


def next_boundary(livestreams: Iterable[Livestream], now: datetime) -> datetime | None:
    """The next start or end of a livestream window after `now`, if any."""
    moments = [
        moment for stream in livestreams for moment in (stream.starts, stream.ends) if moment > now
    ]
    return min(moments, default=None)
