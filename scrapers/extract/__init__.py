"""The generic code extractor: any page (HTML, Markdown, wikitext, JSON, JS, text) to codes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from bot.core.domain import Game, ScrapedCode
from scrapers.extract.candidates import resolve
from scrapers.extract.context import Section
from scrapers.extract.feed import feed_to_html
from scrapers.extract.games import GameScope
from scrapers.extract.html import HtmlReader
from scrapers.extract.jsonish import data_literals
from scrapers.extract.markdown import MarkdownReader, Placeholder
from scrapers.extract.model import Finding, Occurrence
from scrapers.extract.sniff import (
    MAX_INPUT_BYTES,
    Format,
    decode,
    document_format,
    looks_binary,
    sniff,
)
from scrapers.extract.structured import DataReader
from scrapers.extract.wikitext import WikitextReader

__all__ = ["MAX_INPUT_BYTES", "Finding", "extract_codes", "find_codes", "is_text"]

log = logging.getLogger(__name__)

# Documents nested inside data (a wiki page in an API answer) are read this deep at most.
_MAX_NESTING = 3


def is_text(body: bytes) -> bool:
    """False for bodies that are not text at all (images, archives, binary garbage)."""
    return not looks_binary(body[:MAX_INPUT_BYTES])


def extract_codes(
    body: bytes,
    game: Game,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    now: datetime | None = None,
) -> list[ScrapedCode]:
    """The codes of `game` on a page, deduplicated case-insensitively, in page order.

    Never raises: a body it cannot read yields no codes. Only the first MAX_INPUT_BYTES
    bytes are looked at. Where the page states no status in words, an expiry date it gives
    is compared with the date the page states for itself, else with `now` (the current time
    when not given); the expiry date itself is kept on each code.
    """
    found = find_codes(body, game, filename=filename, content_type=content_type, now=now)
    return [finding.code for finding in found]


def find_codes(
    body: bytes,
    game: Game,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    now: datetime | None = None,
) -> list[Finding]:
    """Like extract_codes, with what made each string a code and what gave its status."""
    try:
        if not body or looks_binary(body[:MAX_INPUT_BYTES]):
            return []
        text = decode(body[:MAX_INPUT_BYTES], content_type)
        page = _Page(game)
        occurrences = page.read(text, sniff(text, filename, content_type))
        # An expiry date means what the page meant by it as of the date the page gives itself.
        reference = page.html.page_date or now or datetime.now(UTC)
        return resolve(occurrences, game, page.scope, reference)
    except Exception:  # a broken page must never break a scrape cycle
        log.warning("extractor failed on %s", filename or "a page", exc_info=True)
        return []


class _Page:
    """The readers for one game, wired so each can hand nested documents to the others."""

    def __init__(self, game: Game) -> None:
        self.game = game
        self.scope = GameScope(game)
        self._nesting = 0
        self.data = DataReader(game, self.scope, self._document)
        self.html = HtmlReader(game, self.scope, self._data)
        self.wikitext = WikitextReader(game, self.scope, self._markdown)

    def read(self, text: str, fmt: Format) -> list[Occurrence]:
        if fmt is Format.DATA:
            found: list[Occurrence] = []
            for value in data_literals(text):
                found.extend(self.data.read(value, Section()))
            return found
        if fmt is Format.HTML:
            return self.html.read(text)
        if fmt is Format.FEED:
            return self.html.read(feed_to_html(text))
        if fmt is Format.WIKITEXT:
            return self.wikitext.read(text)
        return self._markdown({}).read(text)

    def _markdown(self, placeholders: dict[str, Placeholder]) -> MarkdownReader:
        return MarkdownReader(self.game, self.scope, self._data, placeholders)

    def _data(self, value: Any, section: Section) -> list[Occurrence]:
        return self.data.read(value, section)

    def _document(self, text: str, section: Section) -> list[Occurrence]:
        if self._nesting >= _MAX_NESTING:
            return []
        self._nesting += 1
        try:
            return self.read(text, document_format(text))
        finally:
            self._nesting -= 1
