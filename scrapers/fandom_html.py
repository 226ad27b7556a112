"""Rendered Fandom code tables (`action=parse&prop=text`): one row per code cell, by column."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from selectolax.lexbor import LexborNode

from bot.core.domain import CodeStatus, Game, RewardItem, ScrapedCode
from bot.core.rewards import MAX_ITEMS, items_text
from scrapers.base import SourceChanged
from scrapers.codelist import CodeList, server_of
from scrapers.dates import parse_date
from scrapers.htmltext import (
    block_text,
    code_from_link,
    heading_level,
    heading_text,
    html_tree,
    img_src,
    inline_text,
)
from scrapers.rewards import parse_item, rewards_from_text
from scrapers.sections import Sections, split_codes

# "Valid until: September 2, 2026", "Expired: May 1, 2024", "Expires 2024-05-01 03:59".
_UNTIL = re.compile(
    r"(?:valid\s+(?:until|till|through)|expire[sd]?(?:\s+on)?|until|ends?(?:\s+on)?)\s*:?\s*"
    r"(?P<when>.+)",
    re.IGNORECASE,
)
_SAYS_EXPIRED = re.compile(r"\bexpired\b|\binactive\b", re.IGNORECASE)
_DISCOVERED = re.compile(r"^\s*(?:discovered|added|released|found|start(?:ed|s)?)\b", re.I)


@dataclass(frozen=True)
class Columns:
    """Column indexes of a code table, found from its header words."""

    code: int | None
    server: int | None = None
    rewards: int | None = None
    duration: int | None = None


def columns(header: list[str]) -> Columns:
    def find(*words: str) -> int | None:
        for index, title in enumerate(header):
            if any(word in title for word in words):
                return index
        return None

    return Columns(
        code=find("code"),
        server=find("server", "region"),
        rewards=find("reward", "item"),
        duration=find("duration", "valid", "expir", "date", "status", "period"),
    )


@dataclass(frozen=True)
class TableRow:
    """The text of one table row, read through the table's columns."""

    texts: list[str]
    columns: Columns

    def _cell(self, index: int | None) -> str | None:
        if index is None or index >= len(self.texts):
            return None
        return self.texts[index]

    @property
    def code_text(self) -> str | None:
        return self._cell(self.columns.code)

    def server(self) -> str | None:
        text = self._cell(self.columns.server)
        return server_of(text) if text else None

    def status(self, section: CodeStatus) -> CodeStatus:
        duration = self._cell(self.columns.duration) or ""
        if _SAYS_EXPIRED.search(duration):
            return CodeStatus.EXPIRED
        return section

    def expires_at(self) -> datetime | None:
        return expiry_in(self._cell(self.columns.duration) or "")


def expiry_in(text: str) -> datetime | None:
    """The end date in a duration cell; the discovery date on the line above is not one."""
    for line in text.splitlines():
        if _DISCOVERED.match(line):
            continue
        match = _UNTIL.search(line)
        if match is not None:
            when = parse_date(match["when"])
            if when is not None:
                return when
    return None


def parse_rendered(html: str, game: Game) -> list[ScrapedCode]:
    """Codes from the rendered page: every table with a "Code" column, by section."""
    tree = html_tree(html, "fandom")
    root = tree.css_first("div.mw-parser-output") or tree.body
    if root is None:
        raise SourceChanged("fandom: the HTML has no body")
    codes = CodeList(game)
    sections = Sections()
    tables = 0
    for node in root.traverse(include_text=False):
        level = heading_level(node)
        if level is not None:
            sections.heading(level, heading_text(node))
        elif node.tag == "table" and _read_table(node, sections.status(), codes):
            tables += 1
    if tables == 0:
        raise SourceChanged("fandom: no table with a Code column in the rendered page")
    return codes.result()


def _direct_rows(table: LexborNode) -> list[LexborNode]:
    """This table's own rows, not those of tables nested in its cells."""
    rows: list[LexborNode] = []
    for child in table.iter(include_text=False):
        if child.tag == "tr":
            rows.append(child)
        elif child.tag in ("tbody", "thead", "tfoot"):
            rows.extend(row for row in child.iter(include_text=False) if row.tag == "tr")
    return rows


def _cells(row: LexborNode) -> list[LexborNode]:
    return [cell for cell in row.iter(include_text=False) if cell.tag in ("td", "th")]


def _read_table(table: LexborNode, section: CodeStatus, codes: CodeList) -> bool:
    rows = _direct_rows(table)
    header_index = next(
        (i for i, row in enumerate(rows) if any(c.tag == "th" for c in _cells(row))), None
    )
    if header_index is None:
        return False
    header = [inline_text(cell).lower() for cell in _cells(rows[header_index])]
    cols = columns(header)
    if cols.code is None:
        return False
    for row in rows[header_index + 1 :]:
        cells = _cells(row)
        if cols.code >= len(cells):
            continue
        table_row = TableRow([block_text(cell) for cell in cells], cols)
        rewards, items = _rewards(cells[cols.rewards] if cols.rewards is not None else None)
        if cols.rewards is not None and cols.rewards >= len(cells):
            rewards, items = "", ()
        for code in _codes_in_cell(cells[cols.code]):
            codes.add(
                code,
                status=table_row.status(section),
                rewards=rewards,
                items=items,
                expires_at=table_row.expires_at(),
                server=table_row.server(),
            )
    return True


def _codes_in_cell(cell: LexborNode) -> list[str]:
    """Codes in <code> elements (one cell can hold several), else in links, else the text."""
    marked = [inline_text(node) for node in cell.css("code")]
    if marked:
        return [code for text in marked for code in split_codes(text)]
    linked = [code_from_link(link.attributes.get("href")) for link in cell.css("a[href]")]
    found = [code for code in linked if code]
    if found:
        return found
    return split_codes(block_text(cell))


def _rewards(cell: LexborNode | None) -> tuple[str, tuple[RewardItem, ...]]:
    """Fandom's item boxes (`span.item`: icon + "Primogem x60"), else the cell's text."""
    if cell is None:
        return "", ()
    items: list[RewardItem] = []
    for box in cell.css("span.item"):
        text_node = box.css_first(".item-text")
        image = box.css_first("img")
        item = parse_item(
            inline_text(text_node if text_node is not None else box),
            img_src(image) if image is not None else None,
        )
        if item is not None and len(items) < MAX_ITEMS:
            items.append(item)
    if items:
        return items_text(items), tuple(items)
    return rewards_from_text(block_text(cell))
