"""Fandom wikis through the MediaWiki API: code-row templates, wikitables and rendered tables.

Accepted bodies: `action=query&prop=revisions` JSON (`revisions[0]["*"]` or
`revisions[0].slots.main["*"]`, formatversion 1 or 2), `action=parse&prop=wikitext` JSON,
`action=parse&prop=text` JSON or its bare HTML, and raw wikitext (`action=raw`).
"""

from __future__ import annotations

import json
import re
from typing import Any

import mwparserfromhell
from mwparserfromhell.nodes import (
    Comment,
    ExternalLink,
    Heading,
    HTMLEntity,
    Node,
    Tag,
    Template,
    Text,
    Wikilink,
)
from mwparserfromhell.wikicode import Wikicode

from bot.core.domain import CodeStatus, Game, RewardItem, ScrapedCode, SourceConfig
from bot.core.rewards import MAX_ITEMS, items_text
from scrapers import fandom_html, mediawiki
from scrapers.base import SourceChanged, decode_text
from scrapers.codelist import CodeList, check_size, server_of, shielded
from scrapers.dates import parse_date
from scrapers.htmltext import nested_deeper
from scrapers.rewards import parse_item, rewards_from_text
from scrapers.sections import Sections, split_codes

# Row templates: {{Code Row|...}} (Genshin) and {{Redemption Code Row|...}} (Star Rail, Zenless).
_ROW_TEMPLATE = re.compile(r"^(?:redemption\s+)?code\s+row$", re.IGNORECASE)
# The rest of the family (headers, footers, containers) proves the page still has its shape.
_FAMILY_TEMPLATE = re.compile(r"^(?:redemption\s+)?code\s+(?:row|container|list)", re.IGNORECASE)
# An expiry column that says "expired" instead of giving a date.
_EXPIRED_WORD = re.compile(r"^\s*(?:exp(?:ired)?\.?|ended|invalid|inactive)\s*$", re.IGNORECASE)
_YES = frozenset({"yes", "y", "true", "1"})
_DROP_TAGS = frozenset({"ref", "references", "sup"})
_FOOTNOTE = re.compile(r"\[\d+\]|\[note \d+\]", re.IGNORECASE)
# Deeper template nesting than this is not a code page; it only costs time.
_MAX_DEPTH = 40
# The wikitext parser slows down sharply on long or deeply nested garbage; real code pages
# are well under these bounds (a few hundred rows, tables and tags a handful deep).
MAX_WIKITEXT_CHARS = 600_000
_MAX_MARKUP_NESTING = 100
_TABLE_EDGE = re.compile(r"^[ \t]*(\{\||\|\})", re.MULTILINE)


# The revision id first, the content only when it moved; the registry hands the daemon this
# very function (scrapers/__init__), without this module's parsers.
fetch = mediawiki.fetch


@shielded("fandom")
def parse(body: bytes, game: Game, source: SourceConfig) -> list[ScrapedCode]:
    check_size("fandom", body)
    kind, content = unwrap(decode_text(body))
    if kind == "html":
        return fandom_html.parse_rendered(content, game)
    return parse_wikitext(content, game)


def unwrap(text: str) -> tuple[str, str]:
    """("wikitext" | "html", content) from an API response or a bare page."""
    head = text.lstrip()[:2]
    if head.startswith("{") and head not in ("{{", "{|"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise SourceChanged("fandom: the response is not JSON") from exc
        return _from_api(data)
    if head.startswith("[") and head != "[[":
        try:
            return _from_api(json.loads(text))
        except ValueError:
            pass  # wikitext may open with an external link: "[https://... text]"
    # Rendered pages come wrapped in MediaWiki's output div; a page of wikitext can hold some
    # HTML too, so without the wrapper only template-free markup counts as rendered.
    if "mw-parser-output" in text or (
        "{{" not in text and re.search(r"<(?:table|div|h[1-6])\b", text, re.IGNORECASE)
    ):
        return "html", text
    return "wikitext", text


def _from_api(data: Any) -> tuple[str, str]:
    if not isinstance(data, dict):
        raise SourceChanged("fandom: API response is not an object")
    if isinstance(data.get("error"), dict):
        error = data["error"]
        raise SourceChanged(
            f"fandom: API error {str(error.get('code'))[:40]}: {str(error.get('info'))[:200]}"
        )
    parsed = data.get("parse")
    if isinstance(parsed, dict):
        if "wikitext" in parsed:
            return "wikitext", _content(parsed["wikitext"], "parse.wikitext")
        if "text" in parsed:
            return "html", _content(parsed["text"], "parse.text")
        raise SourceChanged("fandom: parse response without wikitext or text")
    query = data.get("query")
    if isinstance(query, dict):
        pages = query.get("pages")
        page_list = list(pages.values()) if isinstance(pages, dict) else pages
        if not isinstance(page_list, list) or not page_list:
            raise SourceChanged("fandom: query response without pages")
        for page in page_list:
            if not isinstance(page, dict):
                continue
            if "missing" in page or "invalid" in page:
                title = str(page.get("title", "?"))[:100]
                raise SourceChanged(f"fandom: page {title!r} does not exist")
            revisions = page.get("revisions")
            if isinstance(revisions, list) and revisions and isinstance(revisions[0], dict):
                revision = revisions[0]
                slots = revision.get("slots")
                if isinstance(slots, dict) and isinstance(slots.get("main"), dict):
                    return "wikitext", _content(slots["main"], "revisions[0].slots.main")
                return "wikitext", _content(revision, "revisions[0]")
        raise SourceChanged("fandom: query response without revisions")
    raise SourceChanged("fandom: neither a query nor a parse response")


def _content(value: Any, where: str) -> str:
    """A text field: "*" in formatversion 1, "content" or a bare string in formatversion 2."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("*", "content"):
            if isinstance(value.get(key), str):
                return str(value[key])
    raise SourceChanged(f"fandom: {where} holds no text")


def parse_wikitext(text: str, game: Game) -> list[ScrapedCode]:
    """Codes from the wikitext of a code page (row templates first, then wikitables)."""
    _check_parseable(text)
    wikicode = mwparserfromhell.parse(text)
    codes = CodeList(game)
    reader = _WikitextReader(codes)
    reader.walk(wikicode, depth=0)
    if not reader.shape_found:
        raise SourceChanged("fandom: no code-row templates or code tables in the wikitext")
    return codes.result()


def _check_parseable(text: str) -> None:
    if len(text) > MAX_WIKITEXT_CHARS:
        raise SourceChanged(f"fandom: {len(text)} characters of wikitext is not a code page")
    depth = 0
    for match in _TABLE_EDGE.finditer(text):
        depth = depth + 1 if match[1] == "{|" else max(0, depth - 1)
        if depth > _MAX_MARKUP_NESTING:
            raise SourceChanged("fandom: wikitables nested too deep")
    if nested_deeper(text, _MAX_MARKUP_NESTING):
        raise SourceChanged("fandom: markup nested too deep")


class _WikitextReader:
    """Walks the parsed page in order, tracking headings and <!--active--> style markers."""

    def __init__(self, codes: CodeList) -> None:
        self.codes = codes
        self.sections = Sections()
        self.shape_found = False

    def walk(self, wikicode: Wikicode, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        for node in wikicode.nodes:
            if isinstance(node, Heading):
                self.sections.heading(node.level, plain(node.title))
            elif isinstance(node, Comment):
                self.sections.marker(str(node.contents))
            elif isinstance(node, Template):
                self._template(node, depth)
            elif isinstance(node, Tag):
                if str(node.tag).strip().lower() == "table" and self._table(node):
                    continue
                if node.contents is not None:
                    self.walk(node.contents, depth + 1)

    def _template(self, template: Template, depth: int) -> None:
        name = _template_name(template)
        if _ROW_TEMPLATE.match(name):
            self.shape_found = True
            self._row(template)
            return
        if _FAMILY_TEMPLATE.match(name):
            self.shape_found = True
        # Rows can sit inside containers, tabs and other wrappers.
        for param in template.params:
            self.walk(param.value, depth + 1)

    def _row(self, template: Template) -> None:
        if _param_text(template, "notacode").lower() in _YES:
            return
        status = self.sections.status()
        expiry = _param_text(template, "5")
        if _EXPIRED_WORD.match(expiry):
            status = CodeStatus.EXPIRED
        items = _items(_param(template, "3"))
        for code in split_codes(_param_text(template, "1")):
            self.codes.add(
                code,
                status=status,
                rewards=items_text(items),
                items=items,
                expires_at=parse_date(expiry),
                server=server_of(_param_text(template, "2")),
            )

    def _table(self, table: Tag) -> bool:
        """Read a wikitable with a "Code" column; False when it is some other table."""
        rows = _table_rows(table)
        if not rows:
            return False
        header = [plain(cell.contents).lower() for cell in rows[0]]
        columns = fandom_html.columns(header)
        if columns.code is None:
            return False
        self.shape_found = True
        for cells in rows[1:]:
            texts = [plain(cell.contents) if cell.contents is not None else "" for cell in cells]
            row = fandom_html.TableRow(texts, columns)
            if row.code_text is None:
                continue
            rewards, items = _table_rewards(cells, texts, columns.rewards)
            for code in split_codes(row.code_text):
                self.codes.add(
                    code,
                    status=row.status(self.sections.status()),
                    rewards=rewards,
                    items=items,
                    expires_at=row.expires_at(),
                    server=row.server(),
                )
        return True


def _table_rewards(
    cells: list[Tag], texts: list[str], index: int | None
) -> tuple[str, tuple[RewardItem, ...]]:
    if index is None or index >= len(cells):
        return "", ()
    contents = cells[index].contents
    if _has_list(contents):
        items = _items(contents)
        return items_text(items), items
    return rewards_from_text(texts[index])


def _table_rows(table: Tag) -> list[list[Tag]]:
    """Rows of cells; cells before the first |- form the first row."""
    rows: list[list[Tag]] = []
    loose: list[Tag] = []
    if table.contents is None:
        return rows
    for node in table.contents.nodes:
        if not isinstance(node, Tag):
            continue
        tag = str(node.tag).strip().lower()
        if tag in ("td", "th"):
            loose.append(node)
        elif tag == "tr" and node.contents is not None:
            cells = [
                cell
                for cell in node.contents.nodes
                if isinstance(cell, Tag) and str(cell.tag).strip().lower() in ("td", "th")
            ]
            if cells:
                rows.append(cells)
    if loose:
        rows.insert(0, loose)
    return rows


def _template_name(template: Template) -> str:
    return re.sub(r"[\s_]+", " ", str(template.name.strip_code() or template.name)).strip()


def _param(template: Template, name: str) -> Wikicode | None:
    if not template.has(name):
        return None
    value: Wikicode = template.get(name).value
    return value


def _param_text(template: Template, name: str) -> str:
    value = _param(template, name)
    return plain(value) if value is not None else ""


def _has_list(wikicode: Wikicode | None) -> bool:
    return wikicode is not None and any(
        "list" in _template_name(t).lower() for t in wikicode.filter_templates(recursive=False)
    )


def _items(wikicode: Wikicode | None) -> tuple[RewardItem, ...]:
    """Items from "Primogem*60;Mora*10,000" or {{Item List|Primogem*60;...|mode=br}}."""
    if wikicode is None:
        return ()
    sources: list[str] = []
    for template in wikicode.filter_templates(recursive=False):
        if "list" in _template_name(template).lower() and template.has("1"):
            sources.append(plain(template.get("1").value))
    if not sources:
        sources.append(plain(wikicode))
    items: list[RewardItem] = []
    for source_text in sources:
        for piece in re.split(r"[;\n]", source_text):
            item = parse_item(piece)
            if item is not None and len(items) < MAX_ITEMS:
                items.append(item)
    return tuple(items)


def plain(wikicode: Wikicode | None) -> str:
    """Readable text of some wikitext: no refs, comments, templates or markup; <br> as newline."""
    if wikicode is None:
        return ""
    parts: list[str] = []
    _plain_into(wikicode, parts, depth=0)
    text = _FOOTNOTE.sub("", "".join(parts))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def _plain_into(wikicode: Wikicode, parts: list[str], depth: int) -> None:
    # mwparserfromhell's strip_code keeps <ref> contents and needs a copy to edit; walking the
    # nodes once does both jobs without re-parsing every template parameter.
    if depth > _MAX_DEPTH:
        return
    for node in wikicode.nodes:
        _plain_node(node, parts, depth)


def _plain_node(node: Node, parts: list[str], depth: int) -> None:
    if isinstance(node, Text):
        parts.append(str(node.value))
    elif isinstance(node, HTMLEntity):
        parts.append(node.normalize())
    elif isinstance(node, Wikilink):
        shown = node.text if node.text is not None else node.title
        _plain_into(shown, parts, depth + 1)
    elif isinstance(node, ExternalLink):
        if node.title is not None:
            _plain_into(node.title, parts, depth + 1)
        elif not node.brackets:
            parts.append(str(node.url))
    elif isinstance(node, Tag):
        name = str(node.tag).strip().lower()
        if name == "br":
            parts.append("\n")
        elif name not in _DROP_TAGS and node.contents is not None:
            _plain_into(node.contents, parts, depth + 1)
            if name in ("p", "div", "li", "tr", "td", "th"):
                parts.append("\n")
    # Comments, templates, headings and arguments carry no readable cell text.
