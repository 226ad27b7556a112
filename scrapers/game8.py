"""Game8 code guides: code lists, redeem links, expired-code tables and copy buttons.

The article is read top to bottom under its h2/h3/h4 headings. A code is expired when it is
marked "(EXPIRED)", when a heading above it says "Expired", or when its section's own text
says its codes have expired; otherwise it is listed as usable, which is what the page is for.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime

from selectolax.lexbor import LexborNode

from bot.core.domain import CodeStatus, Game, RewardItem, ScrapedCode, SourceConfig
from scrapers.base import SourceChanged, decode_text, fetch_url
from scrapers.codelist import CodeList, check_size, shielded
from scrapers.dates import parse_date
from scrapers.htmltext import (
    block_text,
    code_from_link,
    heading_level,
    heading_text,
    html_tree,
    inline_text,
)
from scrapers.rewards import rewards_from_text
from scrapers.sections import looks_like_code, split_codes

_EXPIRED_WORD = re.compile(r"\bexpired\b", re.IGNORECASE)
_EXPIRED_MARK = re.compile(r"\(\s*expired\s*\)", re.IGNORECASE)
# Section text that says the codes listed in it are dead.
_EXPIRED_NOTICE = re.compile(
    r"\b(?:has|have|had)\s+(?:since\s+|already\s+)?expired\b"
    r"|\bexpired\s+on\b"
    r"|\bno\s+longer\s+(?:be\s+)?(?:redeemable|valid|available|usable)\b"
    r"|\bcan\s+no\s+longer\s+be\s+(?:redeemed|used)\b",
    re.IGNORECASE,
)
_DEADLINE = re.compile(r"\buntil\b|\bexpir", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_CN_HEADING = re.compile(r"\bCN\b|\bChina\b|\bChinese\b")
_GLOBAL_HEADING = re.compile(r"\bGlobal\b|\bEN\b|\bOverseas\b", re.IGNORECASE)
_CODE_COLUMN = re.compile(r"^\s*(?:redeem\s+|redemption\s+|promo\s+)?codes?\s*$", re.IGNORECASE)
_REWARD_COLUMN = re.compile(r"reward|item", re.IGNORECASE)
# A code written first in a list item, before " - rewards" or "(rewards)".
_LEADING_CODE = re.compile(r"^\s*(?P<code>[A-Za-z0-9]{4,32})\s*(?:[-\u2013\u2014:(]|$)")
_WRAPPING = " -\u2013\u2014:/,\t\n"
_LIST_TAGS = frozenset({"li"})
_TABLE_TAGS = frozenset({"td", "th"})


# A plain conditional GET; the registry hands the daemon this very function (scrapers/__init__).
fetch = fetch_url


@shielded("game8")
def parse(body: bytes, game: Game, source: SourceConfig) -> list[ScrapedCode]:
    check_size("game8", body)
    tree = html_tree(decode_text(body), "game8")
    root = tree.css_first("div.archive-style-wrapper") or tree.body
    if root is None:
        raise SourceChanged("game8: the page has no body")
    article = _Article()
    article.read(root)
    if not article.found:
        raise SourceChanged("game8: no code lists, redeem links or code tables on the page")
    codes = CodeList(game)
    for found in article.found:
        status, expires_at, server = article.context(found)
        for code in found.codes:
            codes.add(
                code,
                status=status,
                rewards=found.rewards,
                items=found.items,
                expires_at=expires_at,
                server=server,
            )
    return codes.result()


@dataclass
class _Section:
    """A heading and the paragraphs under it; what they say is read once, after the page is,
    however many codes the section holds."""

    level: int
    title: str
    notes: list[str] = field(default_factory=list)

    @functools.cached_property
    def says_expired(self) -> bool:
        return bool(_EXPIRED_WORD.search(self.title)) or any(
            _EXPIRED_NOTICE.search(note) for note in self.notes
        )

    @functools.cached_property
    def deadline(self) -> datetime | None:
        return _deadline(self.notes)

    @functools.cached_property
    def server(self) -> str | None:
        if _CN_HEADING.search(self.title):
            return "cn"
        if _GLOBAL_HEADING.search(self.title):
            return "global"
        return None


@dataclass
class _Found:
    """Codes found in one place of the page, with the heading path above that place."""

    codes: list[str]
    path: tuple[int, ...]
    marked_expired: bool = False
    rewards: str = ""
    items: tuple[RewardItem, ...] = ()

    def __post_init__(self) -> None:
        self.codes = [code for code in self.codes if code]


class _Article:
    def __init__(self) -> None:
        self.sections: list[_Section] = []
        self.path: list[int] = []
        self.found: list[_Found] = []
        self._in_list_or_table = _Ancestry(_LIST_TAGS | _TABLE_TAGS)

    def read(self, root: LexborNode) -> None:
        for node in root.traverse(include_text=False):
            level = heading_level(node)
            if level is not None:
                self._heading(level, heading_text(node))
            elif node.tag == "p" and not self._in_list_or_table.of(node):
                if self.path:
                    self.sections[self.path[-1]].notes.append(inline_text(node))
            elif node.tag == "li":
                self._list_item(node)
            elif node.tag == "a":
                self._link(node)
            elif node.tag == "table":
                self._table(node)
            else:
                self._copy_button(node)

    def _heading(self, level: int, title: str) -> None:
        while self.path and self.sections[self.path[-1]].level >= level:
            self.path.pop()
        self.sections.append(_Section(level, title))
        self.path.append(len(self.sections) - 1)

    def _add(
        self, codes: list[str], *, marked_expired: bool = False, rewards_text: str = ""
    ) -> None:
        rewards, items = rewards_from_text(rewards_text)
        found = _Found(codes, tuple(self.path), marked_expired, rewards, items)
        if found.codes:
            self.found.append(found)

    def _list_item(self, item: LexborNode) -> None:
        text = inline_text(item)
        codes = _linked_codes(item) or _leading_code(item, text)
        if not codes:
            return
        rest = _EXPIRED_MARK.sub("", text)
        for code in codes:
            rest = rest.replace(code, "", 1)
        rest = rest.strip(_WRAPPING)
        if rest.startswith("(") and rest.endswith(")"):
            rest = rest[1:-1]
        self._add(codes, marked_expired=_marked_expired(item, text), rewards_text=rest)

    def _link(self, link: LexborNode) -> None:
        if self._in_list_or_table.of(link):
            return  # read with its list item or table row
        code = code_from_link(link.attributes.get("href"))
        if code:
            self._add([code])

    def _table(self, table: LexborNode) -> None:
        rows = _own_rows(table)
        if not rows:
            return
        header = [inline_text(cell) for cell in _cells(rows[0])]
        code_column = next((i for i, h in enumerate(header) if _CODE_COLUMN.match(h)), None)
        if code_column is None:
            return
        reward_column = next((i for i, h in enumerate(header) if _REWARD_COLUMN.search(h)), None)
        for row in rows[1:]:
            cells = _cells(row)
            if code_column >= len(cells):
                continue
            cell_text = block_text(cells[code_column])
            rewards = ""
            if reward_column is not None and reward_column < len(cells):
                rewards = block_text(cells[reward_column])
            self._add(
                _codes_in_cell(cells[code_column], cell_text),
                marked_expired=bool(_EXPIRED_MARK.search(cell_text)),
                rewards_text=rewards,
            )

    def _copy_button(self, node: LexborNode) -> None:
        attributes = node.attributes
        value = attributes.get("data-clipboard-text")
        if value is None and "copy" in (attributes.get("class") or "").lower():
            value = attributes.get("value") or attributes.get("data-code")
        if value:
            self._add([value.strip()])

    def context(self, found: _Found) -> tuple[CodeStatus, datetime | None, str | None]:
        """Status, expiry and server of codes found under `found.path`."""
        sections = [self.sections[index] for index in found.path]
        expired = found.marked_expired or any(section.says_expired for section in sections)
        expires_at: datetime | None = None
        server: str | None = None
        for section in sections:  # the innermost section that says something wins
            expires_at = section.deadline or expires_at
            server = section.server or server
        return (CodeStatus.EXPIRED if expired else CodeStatus.ACTIVE), expires_at, server


def _linked_codes(item: LexborNode) -> list[str]:
    codes = [code_from_link(link.attributes.get("href")) for link in item.css("a[href]")]
    return [code for code in codes if code]


def _leading_code(item: LexborNode, text: str) -> list[str]:
    """A code written at the start of an item ("CODE - rewards"), if it looks like one."""
    match = _LEADING_CODE.match(text)
    if match is None or not looks_like_code(match["code"]):
        return []
    return [match["code"]]


def _marked_expired(item: LexborNode, text: str) -> bool:
    if _EXPIRED_MARK.search(text):
        return True
    return any(_EXPIRED_WORD.search(inline_text(mark)) for mark in item.css(".a-red"))


def _deadline(notes: list[str]) -> datetime | None:
    for note in notes:
        for sentence in _SENTENCE_END.split(note):
            if _DEADLINE.search(sentence):
                when = parse_date(sentence)
                if when is not None:
                    return when
    return None


def _codes_in_cell(cell: LexborNode, cell_text: str) -> list[str]:
    """Each element of a code cell holds one code; a <br> inside one only wraps a long code.

    ("GENSHINIMPACT<br>RIVALS23" in one span is the single code GENSHINIMPACTRIVALS23.)
    """
    parts = [inline_text(child) for child in cell.iter(include_text=False) if child.tag != "br"]
    if parts:
        return [code for part in parts for code in split_codes(part)]
    return split_codes(cell_text)


def _cells(row: LexborNode) -> list[LexborNode]:
    return [cell for cell in row.iter(include_text=False) if cell.tag in _TABLE_TAGS]


def _own_rows(table: LexborNode) -> list[LexborNode]:
    """The rows of `table` itself, in page order: not those of tables nested in it (each
    nested table is passed over whole, so every row is looked at by one table only)."""
    rows: list[LexborNode] = []
    stack = list(table.iter(include_text=False))
    stack.reverse()
    while stack:
        node = stack.pop()
        if node.tag == "table":
            continue
        if node.tag == "tr":
            rows.append(node)
        stack.extend(reversed(list(node.iter(include_text=False))))
    return rows


class _Ancestry:
    """Whether elements stand inside one of some elements (a list item, a table cell).

    Remembered for every element walked through: paragraphs deep in a page would otherwise
    each walk up the same long line of ancestors.
    """

    def __init__(self, tags: frozenset[str]) -> None:
        self.tags = tags
        # mem_id -> whether that element or one of its ancestors is one of `tags`.
        self._within: dict[int, bool] = {}

    def of(self, node: LexborNode) -> bool:
        walked: list[int] = []
        parent = node.parent
        within = False
        while parent is not None:
            known = self._within.get(parent.mem_id)
            if known is not None:
                within = known
                break
            if parent.tag in self.tags:
                within = True
                self._within[parent.mem_id] = True
                break
            walked.append(parent.mem_id)
            parent = parent.parent
        for mem_id in walked:
            self._within[mem_id] = within
        return within
