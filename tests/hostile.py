"""Hostile input: page shapes that once made parse time grow with the square of the page
size, and compressed bodies that inflate far past any cap.

Each shape builds a body of about a given size; the scaling tests and bench/bench_hostile.py
parse the same shape at growing sizes and compare the times.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.catalog import load_catalog
from bot.core.domain import ScrapedCode, SourceConfig, Trust
from scrapers import SCRAPERS
from scrapers.base import SourceError


@dataclass(frozen=True)
class HostileShape:
    name: str
    # The scraper kind that reads it, and the URL its source has (the extractor takes a
    # hint from the URL's extension).
    kind: str
    url: str
    build: Callable[[int], bytes]
    game: str = "genshin"
    # Whether parsing it once cost the square of its size. The others are in the bench for
    # their constant costs: depth, many tiny elements, runs a pattern reads a bounded way.
    squared: bool = True

    def parse(self, body: bytes) -> list[ScrapedCode] | SourceError:
        """What the scraper makes of `body`: codes, or the SourceError it raised."""
        source = SourceConfig(
            id=f"hostile-{self.name}",
            kind=self.kind,
            game=self.game,
            url=self.url,
            trust=Trust.CURATED,
        )
        try:
            return SCRAPERS[self.kind].parse(body, load_catalog().game(self.game), source)
        except SourceError as error:
            return error


def _repeat(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


def _run(size: int, char: str, overhead: int = 200) -> str:
    return char * max(1, size - overhead)


def _br_lines(size: int) -> bytes:
    lines = _repeat("AB12CD34EF - 60 Primogems<br>", size - 30)
    return f"<html><body><p>{lines}</p></body></html>".encode()


def _text_paragraph(size: int) -> bytes:
    return _repeat("AB12CD34EF - 60 Primogems\n", size).encode()


def _table_row(size: int) -> bytes:
    cells = _repeat("<td>AB12CD34EF</td>", size - 60)
    return f"<html><body><table><tr>{cells}</tr></table></body></html>".encode()


def _markdown_table_row(size: int) -> bytes:
    cells = _repeat(" AB12CD34EF |", size - 40)
    return f"| Code | Rewards |\n|---|---|\n|{cells}\n".encode()


def _fandom_reward_spaces(size: int) -> bytes:
    spaces = _run(size, " ", 300)
    return (
        '<div class="mw-parser-output"><table><tr><th>Code</th><th>Rewards</th></tr>'
        f"<tr><td><code>GENSHINGIFT</code></td><td>Primogem{spaces}x60</td></tr>"
        "</table></div>"
    ).encode()


def _table_separator_spaces(size: int) -> bytes:
    return f"| Code |\n{_run(size, ' ', 20)}x\n".encode()


def _heading_spaces(size: int) -> bytes:
    return f"# Codes{_run(size, ' ', 20)}x\n\nAB12CD34EF\n".encode()


def _lead_gap_spaces(size: int) -> bytes:
    return f"- AB12CD34EF{_run(size, ' ', 40)}x CD12EF34GH\n".encode()


def _html_lead_gap_spaces(size: int) -> bytes:
    spaces = _run(size, " ", 80)
    return f"<ul><li>AB12CD34EF{spaces}x CD12EF34GH</li></ul>".encode()


def _reward_spaces(size: int) -> bytes:
    rewards = f"Stellar Jade{_run(size, ' ', 80)}x60"
    return json.dumps({"active": [{"code": "STARRAILGIFT", "rewards": [rewards]}]}).encode()


def _code_row_spaces(size: int) -> bytes:
    return f"{{{{Code Row|GENSHINGIFT{_run(size, ' ', 60)}x|G|Primogem*60}}}}\n".encode()


def _code_cell_brackets(size: int) -> bytes:
    return f"{{{{Code Row|GENSHINGIFT {_run(size, '(', 60)}|G|Primogem*60}}}}\n".encode()


def _marker_spaces(size: int) -> bytes:
    row = "{{Code Row|GENSHINGIFT|G|Primogem*60}}"
    return f"<!--active{_run(size, ' ', 80)}x-->\n{row}\n".encode()


def _edit_brackets(size: int) -> bytes:
    runs = _repeat("[edit", size - 200)
    return (
        f'<div class="mw-parser-output"><h2>Codes {runs}</h2><table><tr><th>Code</th></tr>'
        "<tr><td><code>GENSHINGIFT</code></td></tr></table></div>"
    ).encode()


def _script_newlines(size: int) -> bytes:
    newlines = _run(size, chr(10), 60)
    return f"<html><head><script>{newlines}x = 1</script></head></html>".encode()


def _feed_cdata(size: int) -> bytes:
    runs = _repeat("<![CDATA[", size - 200)
    return (
        '<?xml version="1.0"?><rss><channel><title>Codes</title><item><title>New</title>'
        f"<description>{runs}</description></item></channel></rss>"
    ).encode()


def _link_brackets(size: int) -> bytes:
    return _repeat("[](", size).encode()


def _nested_lists(size: int) -> bytes:
    depth = 190
    text = _repeat("AB12CD34EF - 60 Primogems ", max(30, size - depth * 18))
    return f"<html><body>{'<ul><li>' * depth}{text}</body></html>".encode()


def _escaped_quotes(size: int) -> bytes:
    return f"<script>var codes = [{_run(size, chr(92) + chr(34), 60)}</script>".encode()


def _wide_header(size: int) -> bytes:
    header = _repeat("word ", size // 2)
    rows = _repeat("<tr><td>AB12CD34EF</td></tr>", size // 2)
    return f"<table><tr><th>{header}</th><th>x</th></tr>{rows}</table>".encode()


def _bold_fragments(size: int) -> bytes:
    return f"<p><b>AB12CD34EF {_repeat('x<i></i>', size - 30)}</b></p>".encode()


def _nested_tables(size: int) -> bytes:
    depth = 190
    text = _repeat("AB12CD34EF - 60 Primogems ", max(30, size - depth * 30))
    return f"{'<table><tr><td>' * depth}{text}".encode()


def _game8_notes(size: int) -> bytes:
    notes = _repeat("<p>Use them soon.</p>", size // 2)
    items = _repeat("<li>AB12CD34EF - 60 Primogems</li>", size // 2)
    return f"<body><h2>Codes</h2>{notes}<ul>{items}</ul></body>".encode()


def _deep_paragraphs(size: int) -> bytes:
    depth = 190
    return f"<body>{'<div>' * depth}{_repeat('<p>x</p>', size - depth * 5)}</body>".encode()


SHAPES: tuple[HostileShape, ...] = (
    HostileShape("br-lines", "page", "https://hostile.test/page.html", _br_lines),
    HostileShape("text-paragraph", "page", "https://hostile.test/codes.txt", _text_paragraph),
    HostileShape("table-row", "page", "https://hostile.test/page.html", _table_row),
    HostileShape(
        "markdown-table-row", "page", "https://hostile.test/README.md", _markdown_table_row
    ),
    HostileShape(
        "fandom-reward-spaces", "fandom", "https://hostile.test/api", _fandom_reward_spaces
    ),
    HostileShape(
        "table-separator-spaces",
        "page",
        "https://hostile.test/README.md",
        _table_separator_spaces,
    ),
    HostileShape("heading-spaces", "page", "https://hostile.test/README.md", _heading_spaces),
    HostileShape("lead-gap-spaces", "page", "https://hostile.test/README.md", _lead_gap_spaces),
    HostileShape(
        "html-lead-gap-spaces", "page", "https://hostile.test/page.html", _html_lead_gap_spaces
    ),
    HostileShape(
        "reward-spaces", "ennead", "https://hostile.test/codes.json", _reward_spaces, "hsr"
    ),
    HostileShape("code-row-spaces", "fandom", "https://hostile.test/raw", _code_row_spaces),
    HostileShape("code-cell-brackets", "fandom", "https://hostile.test/raw", _code_cell_brackets),
    HostileShape("marker-spaces", "fandom", "https://hostile.test/raw", _marker_spaces),
    HostileShape("edit-brackets", "fandom", "https://hostile.test/api", _edit_brackets),
    HostileShape("script-newlines", "page", "https://hostile.test/page.html", _script_newlines),
    HostileShape("feed-cdata", "page", "https://hostile.test/feed.xml", _feed_cdata),
    HostileShape(
        "link-brackets", "page", "https://hostile.test/README.md", _link_brackets, squared=False
    ),
    HostileShape(
        "nested-lists", "page", "https://hostile.test/page.html", _nested_lists, squared=False
    ),
    HostileShape("escaped-quotes", "page", "https://hostile.test/page.html", _escaped_quotes),
    HostileShape("wide-header", "page", "https://hostile.test/page.html", _wide_header),
    HostileShape(
        "bold-fragments", "page", "https://hostile.test/page.html", _bold_fragments, squared=False
    ),
    HostileShape(
        "nested-tables", "page", "https://hostile.test/page.html", _nested_tables, squared=False
    ),
    HostileShape("game8-notes", "game8", "https://hostile.test/codes", _game8_notes),
    HostileShape(
        "deep-paragraphs", "game8", "https://hostile.test/codes", _deep_paragraphs, squared=False
    ),
)


def shape(name: str) -> HostileShape:
    return next(s for s in SHAPES if s.name == name)


def gzip_bomb(inflated: int) -> bytes:
    """A gzip body of a few kilobytes per megabyte that inflates to `inflated` zero bytes,
    built without holding them."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1_000_000)
    parts = [compressor.compress(block) for _ in range(inflated // len(block))]
    parts.append(compressor.flush())
    return b"".join(parts)


def gzipped(data: bytes, times: int = 1) -> bytes:
    for _ in range(times):
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        data = compressor.compress(data) + compressor.flush()
    return data
