"""HTML pages: walks the document (selectolax/lexbor) into blocks with headings and markup."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from selectolax.lexbor import LexborHTMLParser, LexborNode

from bot.core.domain import CodeStatus, Game
from scrapers.dates import parse_date
from scrapers.extract.blocks import Block, BlockKind, Mark, Row, Span, block_occurrences
from scrapers.extract.context import (
    HeadingTrail,
    Section,
    has_keyword,
    heading_status,
    is_label,
)
from scrapers.extract.games import GameScope, Scope
from scrapers.extract.jsonish import data_literals
from scrapers.extract.model import Evidence, Occurrence
from scrapers.extract.urls import redeem_link

# Reads a data value found in a script, in the section it stands in.
DataHandler = Callable[[object, Section], list[Occurrence]]


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Elements whose content is never page text.
_SKIP = _names(
    "script style noscript template svg math iframe object embed canvas select head "
    "-comment !doctype"
)
# Page furniture: navigation, footers, sidebars, comment threads, share bars.
_FURNITURE_TAGS = frozenset({"nav", "footer", "aside"})
_FURNITURE = re.compile(
    r"^(?:sidebar|side-bar|widget-area|comments?|comment-list|comments-area|comment-section"
    r"|disqus_thread|related|related-posts|related-articles|breadcrumbs?|navbar|nav-menu|menu"
    r"|site-footer|footer|share|share-buttons|social-share|sharing|newsletter|cookie-banner"
    r"|cookie-notice|advert|advertisement|ad-slot|secondary|masthead|site-header)$",
    re.IGNORECASE,
)
_BLOCK_TAGS = _names(
    "p div li dt dd td th tr table ul ol dl pre blockquote section article main header "
    "figure figcaption caption summary details form fieldset address center body html tbody "
    "thead tfoot hr"
)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_CODE_TAGS = frozenset({"code", "kbd", "samp", "tt"})
_EMPHASIS_TAGS = frozenset({"b", "strong", "mark"})
_STRIKE_TAGS = frozenset({"s", "del", "strike"})
_COPY_ATTRS = (
    "data-clipboard-text",
    "data-clipboard",
    "data-copy",
    "data-copy-text",
    "data-code",
    "data-redeem-code",
)
_COPYISH = re.compile(r"copy|clipboard|code", re.IGNORECASE)
_COPY_ELEMENT = re.compile(r"copy|clipboard", re.IGNORECASE)
# Site templates name what an element holds: <span class="redeem-code">, <p class="code">,
# <li class="code-card expired">. Syntax-highlighting and other "...code" classes are not codes.
_CODE_CLASS = re.compile(
    r"(?<![a-z])(?:(?:promo|gift|redeem|redemption|exchange|reward|coupon)[-_]?)?codes?(?![a-z])"
    r"(?![-_](?:block|snippet|highlight|line|wrapper|sample|example|editor))"
)
_EXPIRED_CLASS = re.compile(r"(?<![a-z])(?:expired|inactive|invalid|outdated)(?![a-z])")
_LINE_THROUGH = re.compile(r"line-through", re.IGNORECASE)
_BOLD_STYLE = re.compile(r"font-weight\s*:\s*(?:bold|[6-9]00)", re.IGNORECASE)
# Utility classes that make text bold (Tailwind, Bootstrap).
_BOLD_CLASS = re.compile(
    r"(?<![\w-])(?:font-(?:bold|semibold|extrabold|black)|fw-bold|fw-semibold)(?![\w-])"
)
_DATA_SCRIPT = re.compile(r"json|ld\+json", re.IGNORECASE)
# A short paragraph that is all bold is a heading in disguise ("<p><b>Expired codes</b></p>").
_PSEUDO_HEADING_CHARS = 80
_PSEUDO_LEVEL = 7
# The origin given to <br>: where a paragraph's lines end.
_LINE_BREAK = -1
# Stop walking after this many nodes; a real page has far fewer.
MAX_NODES = 400_000
# Open elements deeper than this cut the document short: real pages nest a dozen levels, the
# HTML parser's time grows with the square of the depth of block elements, and the text of
# every list item and table row is read once per row or item it is in.
MAX_NESTING = 200
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]{0,30})\b[^<>]{0,2000}?(/?)>")
# Elements that never nest (void) or whose end tag is optional: they do not add depth.
_FLAT = _names(
    "area base br col embed hr img input link meta param source track wbr p li dt dd tr td "
    "th option optgroup tbody thead tfoot colgroup rb rt rp html head body b i a span font "
    "em strong small u s code"
)


@dataclass(frozen=True, slots=True)
class _Ctx:
    block: int
    kind: BlockKind = BlockKind.PARAGRAPH
    marks: int = Mark.NONE
    element: int = 0
    group: str | None = None
    column: str = ""
    row: Row | None = None
    # What a table caption or a <summary> says for the content of its container.
    status: CodeStatus = CodeStatus.UNKNOWN
    about: bool = False


# Where pages state when they were written or last updated, most telling first.
_PAGE_DATES = (
    ('meta[property="article:modified_time"]', "content"),
    ('meta[property="og:updated_time"]', "content"),
    ('meta[itemprop="dateModified"]', "content"),
    ('meta[property="article:published_time"]', "content"),
    ('meta[itemprop="datePublished"]', "content"),
    ("time[datetime]", "datetime"),
)


class HtmlReader:
    def __init__(self, game: Game, scope: GameScope, data: DataHandler) -> None:
        self.game = game
        self.scope = scope
        self.data = data
        # The date the page states for itself, once read: what its expiry dates mean "now".
        self.page_date: datetime | None = None

    def read(self, text: str) -> list[Occurrence]:
        tree = LexborHTMLParser(_limit_nesting(text))
        if self.page_date is None:
            self.page_date = _page_date(tree)
        found: list[Occurrence] = []
        for script in tree.css("script"):
            found.extend(self._script(script))
        root = tree.body or tree.root
        if root is None:
            return found
        walk = _Walk(self, tree)
        walk.run(root)
        found.extend(walk.found)
        return found

    def _script(self, script: LexborNode) -> list[Occurrence]:
        kind = (script.attributes.get("type") or "").lower()
        body = script.text(deep=True) or ""
        if not body.strip() or len(body) > 5_000_000:
            return []
        if kind and not (_DATA_SCRIPT.search(kind) or "javascript" in kind or kind == "module"):
            return []
        found: list[Occurrence] = []
        for value in data_literals(body):
            found.extend(self.data(value, Section()))
        return found


class _Walk:
    """One depth-first pass over the document, without recursion."""

    def __init__(self, reader: HtmlReader, tree: LexborHTMLParser) -> None:
        self.reader = reader
        self.game = reader.game
        self.scope = reader.scope
        self.trail = HeadingTrail(reader.scope)
        self.found: list[Occurrence] = []
        self._ids = itertools.count(1)
        self._spans: list[Span] = []
        self._block_ctx: _Ctx | None = None
        title = tree.css_first("title")
        if title is not None:
            # The page title opens the outermost section: "Genshin Impact codes" says
            # which game and that the page is about codes.
            self.trail.enter(0, title.text(deep=True) or "")

    def run(self, root: LexborNode) -> None:
        stack: list[tuple[LexborNode | None, _Ctx | None]] = [(root, _Ctx(block=0))]
        visited = 0
        while stack and visited < MAX_NODES:
            node, ctx = stack.pop()
            visited += 1
            if node is None:
                self._flush()
                continue
            assert ctx is not None
            tag = node.tag or ""
            if tag == "-text":
                parent = node.parent
                self._text(node.text_content or "", ctx, parent.mem_id if parent else 0)
                continue
            if tag in _SKIP or self._furniture(node, tag):
                continue
            level = _HEADINGS.get(tag) or _aria_level(node)
            if level:
                self._flush()
                self.trail.enter(level, node.text(deep=True, separator=" ") or "")
                continue
            if tag == "br":
                self._text("\n", ctx, _LINE_BREAK)
                continue
            child_ctx = self._enter(node, tag, ctx)
            if child_ctx is None:
                continue
            is_block = child_ctx.block != ctx.block
            if is_block:
                self._flush()
                stack.append((None, None))  # flush when the block closes
            children = list(node.iter(include_text=True))
            if tag == "tr":
                self._row(node, children, child_ctx, stack)
                continue
            for child in reversed(children):
                stack.append((child, child_ctx))
        self._flush()

    def _furniture(self, node: LexborNode, tag: str) -> bool:
        if tag in _FURNITURE_TAGS:
            return True
        attrs = node.attributes
        names = f"{attrs.get('class') or ''} {attrs.get('id') or ''}".split()
        return any(_FURNITURE.match(name) for name in names)

    def _enter(self, node: LexborNode, tag: str, ctx: _Ctx) -> _Ctx | None:
        attrs = node.attributes
        self._copy_values(attrs, tag, ctx)
        if tag == "a":
            href = attrs.get("href")
            if href:
                self._link(href, ctx)
        style = attrs.get("style") or ""
        classes = (attrs.get("class") or "").lower()
        marks = ctx.marks
        element = ctx.element
        if tag in _CODE_TAGS or (classes and _CODE_CLASS.search(classes)):
            marks |= Mark.CODE
            element = next(self._ids)
        elif (
            tag in _EMPHASIS_TAGS
            or (style and _BOLD_STYLE.search(style))
            or (classes and _BOLD_CLASS.search(classes))
        ):
            marks |= Mark.EMPHASIS
            element = next(self._ids)
        if (
            tag in _STRIKE_TAGS
            or (style and _LINE_THROUGH.search(style))
            or (classes and _EXPIRED_CLASS.search(classes))
        ):
            marks |= Mark.STRIKE
        if tag not in _BLOCK_TAGS:
            return replace(ctx, marks=marks, element=element)

        block = next(self._ids)
        new = replace(ctx, block=block, marks=marks, element=element)
        if tag in ("li", "dt"):
            parent = node.parent
            group = f"list:{parent.mem_id}" if parent is not None else None
            row = Row(node.text(deep=True, separator=" ") or "")
            return replace(new, kind=BlockKind.LIST_ITEM, group=group, row=row)
        if tag in ("details", "table"):
            label = node.css_first("summary" if tag == "details" else "caption")
            if label is not None:
                return self._labelled(new, label.text(deep=True, separator=" ") or "")
            return new
        if tag in ("summary", "caption"):
            return None  # read as the container's label above
        if tag == "p" and ctx.kind is BlockKind.PARAGRAPH:
            if self._pseudo_heading(node):
                return None
            parent = node.parent
            return replace(new, group=f"p:{parent.mem_id}" if parent is not None else None)
        return new

    def _labelled(self, ctx: _Ctx, label: str) -> _Ctx:
        status = heading_status(label)
        about = has_keyword(label)
        scope = self.scope.of_text(label)
        if scope is Scope.OTHER:
            # A table or collapsible labelled with another game's name is that game's.
            return replace(ctx, status=CodeStatus.UNKNOWN, about=False, group="other")
        return replace(
            ctx,
            status=status if status is not CodeStatus.UNKNOWN else ctx.status,
            about=ctx.about or about,
        )

    def _pseudo_heading(self, node: LexborNode) -> bool:
        text = (node.text(deep=True, separator=" ") or "").strip()
        if not text or len(text) > _PSEUDO_HEADING_CHARS:
            return False
        strong = node.css_first("b, strong")
        bold = strong is not None and (strong.text(deep=True, separator=" ") or "").strip() == text
        if not is_label(text, bold=bold, alone=True):
            return False
        self._flush()
        self.trail.enter(_PSEUDO_LEVEL, text)
        return True

    def _row(
        self,
        row: LexborNode,
        children: list[LexborNode],
        ctx: _Ctx,
        stack: list[tuple[LexborNode | None, _Ctx | None]],
    ) -> None:
        cells = [c for c in children if c.tag in ("td", "th")]
        table = _table_of(row)
        headers = self._headers(table) if table is not None else []
        row_text = row.text(deep=True, separator=" ") or ""
        if cells and all(c.tag == "th" for c in cells):
            if len(cells) == 1 and table is not None:
                # A full-width header row labels the table below it.
                labelled = self._labelled(ctx, row_text)
                self._table_labels[table.mem_id] = labelled
            return
        base = self._table_labels.get(table.mem_id, ctx) if table is not None else ctx
        table_id = table.mem_id if table is not None else row.mem_id
        whole_row = Row(row_text)
        column = 0
        items: list[tuple[LexborNode, _Ctx]] = []
        for cell in cells:
            header = headers[column] if column < len(headers) else ""
            cell_ctx = replace(
                base,
                block=next(self._ids),
                kind=BlockKind.CELL,
                group=f"table:{table_id}:{column}" if base.group != "other" else "other",
                column=header,
                row=whole_row,
                marks=ctx.marks,
                element=ctx.element,
            )
            items.append((cell, cell_ctx))
            span = cell.attributes.get("colspan") or "1"
            column += int(span) if span.isdigit() and 0 < int(span) < 50 else 1
        for cell, cell_ctx in reversed(items):
            stack.append((None, None))
            for child in reversed(list(cell.iter(include_text=True))):
                stack.append((child, cell_ctx))

    @property
    def _table_labels(self) -> dict[int, _Ctx]:
        labels: dict[int, _Ctx] | None = getattr(self, "_labels", None)
        if labels is None:
            labels = {}
            self._labels = labels
        return labels

    def _headers(self, table: LexborNode) -> list[str]:
        cache: dict[int, list[str]] = getattr(self, "_header_cache", {})
        self._header_cache = cache
        found = cache.get(table.mem_id)
        if found is not None:
            return found
        headers: list[str] = []
        for tr in table.css("tr"):
            cells = [c for c in tr.iter() if c.tag in ("td", "th")]
            if cells and all(c.tag == "th" for c in cells) and len(cells) > 1:
                for cell in cells:
                    text = (cell.text(deep=True, separator=" ") or "").strip()
                    span = cell.attributes.get("colspan") or "1"
                    count = int(span) if span.isdigit() and 0 < int(span) < 50 else 1
                    headers.extend([text] * count)
                break
            if cells and any(c.tag == "td" for c in cells):
                break
        cache[table.mem_id] = headers
        return headers

    def _section(self, ctx: _Ctx) -> Section:
        section = self.trail.section
        if ctx.group == "other":
            return Section(CodeStatus.UNKNOWN, Scope.OTHER, False)
        if ctx.status is not CodeStatus.UNKNOWN:
            section = replace(section, status=ctx.status)
        if ctx.about and not section.about_codes:
            section = replace(section, about_codes=True)
        return section

    def _text(self, text: str, ctx: _Ctx, origin: int) -> None:
        if self._block_ctx is not None and self._block_ctx.block != ctx.block:
            self._flush()
        if self._block_ctx is None:
            self._block_ctx = ctx
        self._spans.append(Span(text, ctx.marks, ctx.element, origin))

    def _flush(self) -> None:
        ctx = self._block_ctx
        spans = self._spans
        self._block_ctx = None
        self._spans = []
        if ctx is None or not spans:
            return
        section = self._section(ctx)
        group = ctx.group if ctx.group != "other" else None
        if ctx.kind is BlockKind.PARAGRAPH and any(s.origin == _LINE_BREAK for s in spans):
            self._lines(spans, ctx)
            return
        block = Block(ctx.kind, spans, section, group=group, column=ctx.column, row=ctx.row)
        self.found.extend(block_occurrences(block, self.game, self.scope))

    def _lines(self, spans: list[Span], ctx: _Ctx) -> None:
        """A paragraph broken by <br> is a list of lines ("CODE1 - rewards<br>CODE2 - ..."); a
        first or last line such as "<b>Active codes:</b>" heads the lines after it."""
        # Whether the paragraph speaks of codes is decided once, not once per line.
        nearby = has_keyword("".join(s.text for s in spans))
        lines: list[list[Span]] = [[]]
        for span in spans:
            if span.origin == _LINE_BREAK:
                lines.append([])
            else:
                lines[-1].append(span)
        lines = [line for line in lines if "".join(s.text for s in line).strip()]
        if lines and self._line_label(lines[0], alone=len(lines) == 1):
            del lines[0]
        last = lines.pop() if len(lines) > 1 and self._line_label(lines[-1], enter=False) else None
        section = self._section(ctx)
        for line in lines:
            block = Block(
                BlockKind.LINE,
                line,
                section,
                group=f"br:{ctx.block}",
                row=Row("".join(s.text for s in line)),
                keyword_nearby=nearby,
            )
            self.found.extend(block_occurrences(block, self.game, self.scope))
        if last is not None:
            self._line_label(last)

    def _line_label(self, line: list[Span], *, alone: bool = False, enter: bool = True) -> bool:
        """Whether one line of a paragraph is a label; entered as a heading when `enter`."""
        text = "".join(s.text for s in line).strip()
        if len(text) > _PSEUDO_HEADING_CHARS:
            return False
        bold = all(s.marks & Mark.EMPHASIS for s in line if s.text.strip())
        if not is_label(text, bold=bold, alone=alone):
            return False
        if enter:
            self.trail.enter(_PSEUDO_LEVEL, text)
        return True

    def _row_facts(self, ctx: _Ctx) -> tuple[CodeStatus, str, datetime | None]:
        """The status (and what gave it) and the expiry date a link or copy button's row
        states; read once per row (see Row), however many links it holds."""
        if ctx.marks & Mark.STRIKE:
            status, cue = CodeStatus.EXPIRED, "strike-through"
        else:
            status, cue = CodeStatus.UNKNOWN, ""
        row = ctx.row
        if row is None:
            return status, cue, None
        if status is CodeStatus.UNKNOWN and row.status is not CodeStatus.UNKNOWN:
            status, cue = row.status, "row"
        return status, cue, row.expires

    def _link(self, href: str, ctx: _Ctx) -> None:
        link = redeem_link(href, self.scope)
        if link is None:
            return
        section = self._section(ctx)
        status, cue, expires = self._row_facts(ctx)
        scope = link.scope if link.scope is not Scope.NEUTRAL else section.scope
        evidence = link.evidence | (Evidence.CODE_SECTION if section.about_codes else 0)
        self.found.append(
            Occurrence(
                link.code,
                evidence,
                status,
                section.status,
                scope,
                sections=section.path,
                status_cue=cue,
                expires=expires,
            )
        )

    def _copy_values(self, attrs: dict[str, str | None], tag: str, ctx: _Ctx) -> None:
        values = [attrs.get(name) for name in _COPY_ATTRS]
        # A `value` is a code only on a control that says it copies or holds a code.
        names = " ".join(attrs.get(key) or "" for key in ("class", "id", "name", "onclick"))
        if (attrs.get("type") or "").lower() != "hidden" and _COPYISH.search(names):
            values.append(attrs.get("value"))
        if _COPY_ELEMENT.search(tag):
            # A copy component names what it copies: <CopyCode text="…">, <clipboard-copy
            # value="…">.
            values += [attrs.get(name) for name in ("text", "value", "code", "content")]
        if not any(values):
            return
        section = self._section(ctx)
        for value in values:
            if not value:
                continue
            text = value.strip()
            if not self.game.matches(text):
                continue
            status, cue, expires = self._row_facts(ctx)
            self.found.append(
                Occurrence(
                    text,
                    Evidence.COPY_VALUE,
                    status,
                    section.status,
                    section.scope,
                    sections=section.path,
                    status_cue=cue,
                    expires=expires,
                )
            )


def _limit_nesting(text: str) -> str:
    """The document cut where its open elements nest deeper than MAX_NESTING."""
    depth = 0
    for match in _TAG.finditer(text):
        name = match.group(2).lower()
        if name in _FLAT or match.group(3):
            continue
        if match.group(1):
            depth = max(0, depth - 1)
        else:
            depth += 1
            if depth > MAX_NESTING:
                return text[: match.start()]
    return text


def _page_date(tree: LexborHTMLParser) -> datetime | None:
    """The date a page says it was updated or published, from its metadata."""
    for selector, attribute in _PAGE_DATES:
        node = tree.css_first(selector)
        value = (node.attributes.get(attribute) or "") if node is not None else ""
        moment = parse_date(value[:60]) if value else None
        if moment is not None:
            return moment
    return None


def _aria_level(node: LexborNode) -> int:
    """The level of an element that says it is a heading (role="heading"), else 0."""
    attrs = node.attributes
    if (attrs.get("role") or "").strip().lower() != "heading":
        return 0
    level = (attrs.get("aria-level") or "").strip()
    return int(level) if level.isdigit() and 1 <= int(level) <= 6 else _PSEUDO_LEVEL


def _table_of(row: LexborNode) -> LexborNode | None:
    node = row.parent
    while node is not None and node.tag != "table":
        node = node.parent
    return node
