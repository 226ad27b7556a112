"""The `page` source kind: any URL a user adds, read by the generic extractor."""

from __future__ import annotations

from bot.core.domain import Game, ScrapedCode, SourceConfig
from scrapers.base import SourceChanged, fetch_url
from scrapers.extract import extract_codes, find_codes, is_text

__all__ = ["extract_codes", "fetch", "find_codes", "parse"]


# A plain conditional GET; the registry hands the daemon this very function (scrapers/__init__).
fetch = fetch_url


def parse(body: bytes, game: Game, source: SourceConfig) -> list[ScrapedCode]:
    """The codes on the page; a body that is not text at all means the source changed."""
    if body and not is_text(body):
        raise SourceChanged("the response is not text")
    return extract_codes(body, game, filename=source.url)
