"""The scraper registry: each catalog `kind` names the module that fetches and parses it.

Modules are imported when first asked for, not with this package: the daemon only fetches
(its pages are parsed in worker processes, bot/app/parsing.py), and a kind's fetch is a
function of a light module (`FETCHES`), so the daemon never loads the parsers' libraries
(selectolax, mwparserfromhell) nor the generic extractor's vocabulary. The worker processes
import every parser once, before their first page (`PARSER_MODULES`).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import cast

from bot.core.domain import Game, ScrapedCode, SourceConfig
from scrapers.base import Fetched, Fetcher, FetchFunction, Scraper, Validators

# kind -> the module that keeps the scraper contract (fetch + parse).
PARSER_MODULES: dict[str, str] = {
    # The generic extractor: any HTML, Markdown, wikitext or text page, for any game.
    "page": "scrapers.page",
    "fandom": "scrapers.fandom",
    "hoyolab": "scrapers.hoyolab",
    "game8": "scrapers.game8",
    "pockettactics": "scrapers.pockettactics",
    "ennead": "scrapers.ennead",
}
# kind -> "module:function" of its fetch, the same function as the module's `fetch` (a test
# checks it), from a module that imports no parser.
FETCHES: dict[str, str] = {
    "page": "scrapers.base:fetch_url",
    "fandom": "scrapers.mediawiki:fetch",
    "hoyolab": "scrapers.hoyolab:fetch",
    "game8": "scrapers.base:fetch_url",
    "pockettactics": "scrapers.base:fetch_url",
    "ennead": "scrapers.base:fetch_url",
}


class ScraperRegistry(Mapping[str, Scraper]):
    """kind -> scraper module, each imported on first use."""

    def __getitem__(self, kind: str) -> Scraper:
        return cast(Scraper, importlib.import_module(PARSER_MODULES[kind]))

    def __iter__(self) -> Iterator[str]:
        return iter(PARSER_MODULES)

    def __len__(self) -> int:
        return len(PARSER_MODULES)


SCRAPERS: Mapping[str, Scraper] = ScraperRegistry()


def scraper_for(kind: str) -> Scraper:
    """The module for a catalog kind; a KeyError that lists the known kinds otherwise."""
    try:
        return SCRAPERS[kind]
    except KeyError:
        known = ", ".join(sorted(SCRAPERS))
        raise KeyError(f"no scraper for kind {kind!r} (known: {known})") from None


def fetch_for(kind: str) -> FetchFunction:
    """A kind's fetch, imported without its parser."""
    module, _, name = FETCHES[kind].partition(":")
    return cast(FetchFunction, getattr(importlib.import_module(module), name))


class Fetching:
    """A kind as the daemon uses it: its fetch, light; its parser only if ever asked for (the
    daemon parses in worker processes and never asks)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._fetch = fetch_for(kind)

    async def fetch(
        self, fetcher: Fetcher, source: SourceConfig, validators: Validators
    ) -> Fetched:
        return await self._fetch(fetcher, source, validators)

    def parse(self, body: bytes, game: Game, source: SourceConfig) -> list[ScrapedCode]:
        return SCRAPERS[self.kind].parse(body, game, source)


def fetching_scrapers() -> dict[str, Scraper]:
    """Every kind, for fetching: what the daemon's pipeline is built with."""
    return {kind: Fetching(kind) for kind in PARSER_MODULES}
