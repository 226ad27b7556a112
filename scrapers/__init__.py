"""The scraper registry: each catalog `kind` names the module that fetches and parses it."""

from __future__ import annotations

from scrapers import ennead, fandom, game8, hoyolab, page, pockettactics
from scrapers.base import Scraper

SCRAPERS: dict[str, Scraper] = {
    # The generic extractor: any HTML, Markdown, wikitext or text page, for any game.
    "page": page,
    "fandom": fandom,
    "hoyolab": hoyolab,
    "game8": game8,
    "pockettactics": pockettactics,
    "ennead": ennead,
}


def scraper_for(kind: str) -> Scraper:
    """The module for a catalog kind; a KeyError that lists the known kinds otherwise."""
    try:
        return SCRAPERS[kind]
    except KeyError:
        known = ", ".join(sorted(SCRAPERS))
        raise KeyError(f"no scraper for kind {kind!r} (known: {known})") from None
