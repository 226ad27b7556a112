"""Markdown and plain text: headings, lists, tables, fenced blocks and inline markup."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

from bot.core.domain import Game
from scrapers.extract.blocks import (
    MAX_BLOCK_CHARS,
    Block,
    BlockKind,
    Mark,
    Row,
    Span,
    block_occurrences,
)
from scrapers.extract.context import HeadingTrail, Section, has_keyword, is_label
from scrapers.extract.games import GameScope
from scrapers.extract.jsonish import JUNK, loads
from scrapers.extract.model import Occurrence

# No Markdown library is among the project's dependencies, and a renderer would throw away
# what matters here (which line a code stood on, which fence held JSON); this line reader keeps
# just the structure the extractor scores on.

# Reads data (a JSON value) found in a fenced block, in the section it stands in.
DataHandler = Callable[[object, Section], list[Occurrence]]
# A placeholder line stands for something the caller reads itself (a wiki template).
Placeholder = Callable[[HeadingTrail], list[Occurrence]]

MAX_LINES = 200_000
# Labels rank below every real heading.
_LABEL_LEVEL = 7

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
# Pages are hostile input: no pattern here may retry a run of one character from each of its
# positions (a line of twenty thousand spaces must cost twenty thousand steps, not the square).
# So trailing whitespace and closing hashes are stripped in code, not matched lazily.
_HEADING = re.compile(r"\s{0,3}(#{1,6})\s(.*)")
# A heading that is a code: "### `CODE`", "### [`CODE`](https://…?code=CODE) …". The link's
# address is checked for a code parameter ahead, then taken whole, in one pass.
_CODE_HEADING = re.compile(
    r"`[^`\n]{1,60}`|\[`?[^`\]\n]{1,60}`?\]\((?=[^)\s]{0,2000}[?&]code=)[^)\s]*+\)"
    r"|\[`[^`\n]{1,60}`\]\([^)\s]{0,2000}+\)",
    re.IGNORECASE,
)
_SETEXT = re.compile(r"^\s{0,3}(=+|-{2,})\s*$")
_LIST = re.compile(r"^(\s*)(?:[-*+•]|\d{1,3}[.)])\s+(.*)$")
# Matched against the stripped line (see above).
_TABLE_SEP = re.compile(r"\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?")
_QUOTE = re.compile(r"^\s{0,3}(?:>\s?)+")
# Every repetition is bounded: pages are hostile input, and an unbounded lazy match with a
# back-reference backtracks quadratically on a line of ten thousand backticks.
_INLINE = re.compile(
    r"(?P<code>`{1,3})(?P<code_body>[^`\n]{1,200}?)(?P=code)"
    r"|(?P<strong>\*\*|__)(?P<strong_body>[^\n]{1,300}?)(?P=strong)"
    r"|~~(?P<strike_body>[^\n]{1,300}?)~~"
    r"|<(?P<tag>s|del|strike|code|kbd|b|strong)\b[^<>]{0,200}>(?P<tag_body>[^<]{0,300}?)"
    r"</(?P=tag)\s*>"
    r"|!?\[(?P<link_text>[^\]\n]{0,300}+)\]\((?P<link_url>[^)\s]{0,2000}+)(?:\s+\"[^\"]{0,200}\")?\)"
    r"|(?P<br><br\s*/?>)"
    r"|(?P<html></?[a-zA-Z][a-zA-Z0-9]{0,20}(?:\s[^<>]{0,300})?/?>)",
    re.IGNORECASE,
)
_TAG_MARK = {
    "s": Mark.STRIKE,
    "del": Mark.STRIKE,
    "strike": Mark.STRIKE,
    "code": Mark.CODE,
    "kbd": Mark.CODE,
    "b": Mark.EMPHASIS,
    "strong": Mark.EMPHASIS,
}


class _Inline:
    """Splits one line of Markdown into marked spans and the links it carries."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def spans(self, text: str) -> tuple[list[Span], list[str]]:
        text = text[:MAX_BLOCK_CHARS]
        spans: list[Span] = []
        links: list[str] = []
        self._parse(text, Mark.NONE, 0, spans, links, depth=0)
        return spans, links

    def _parse(
        self,
        text: str,
        marks: int,
        element: int,
        spans: list[Span],
        links: list[str],
        depth: int,
    ) -> None:
        if depth > 4:
            spans.append(Span(text, marks, element))
            return
        pos = 0
        for match in _INLINE.finditer(text):
            if match.start() > pos:
                spans.append(Span(text[pos : match.start()], marks, element))
            pos = match.end()
            if match.group("code"):
                spans.append(Span(match.group("code_body"), marks | Mark.CODE, next(self._ids)))
            elif match.group("strong"):
                self._parse(
                    match.group("strong_body"),
                    marks | Mark.EMPHASIS,
                    next(self._ids),
                    spans,
                    links,
                    depth + 1,
                )
            elif match.group("strike_body") is not None:
                self._parse(
                    match.group("strike_body"),
                    marks | Mark.STRIKE,
                    element,
                    spans,
                    links,
                    depth + 1,
                )
            elif match.group("tag"):
                mark = _TAG_MARK[match.group("tag").lower()]
                inner_element = element if mark is Mark.STRIKE else next(self._ids)
                self._parse(
                    match.group("tag_body"), marks | mark, inner_element, spans, links, depth + 1
                )
            elif match.group("link_url") is not None:
                links.append(match.group("link_url"))
                self._parse(match.group("link_text"), marks, element, spans, links, depth + 1)
            elif match.group("br"):
                spans.append(Span(" \n ", marks, 0))
            else:
                spans.append(Span(" ", marks, 0))
        if pos < len(text):
            spans.append(Span(text[pos:], marks, element))


def _label_text(line: str, *, alone: bool) -> str | None:
    """The text of a short line such as "**Expired codes**" or "Active codes:" that opens a
    section, or None."""
    stripped = line.strip()
    bold = bool(re.fullmatch(r"(\*\*|__)[^*_]+\1:?", stripped))
    text = stripped.strip("*_ ")
    return text if is_label(text, bold=bold, alone=alone) else None


def _heading(line: str) -> tuple[int, str] | None:
    """An ATX heading's level and title ("## Codes ##" is level 2, "Codes")."""
    match = _HEADING.match(line)
    if match is None:
        return None
    return len(match.group(1)), match.group(2).strip().rstrip("#").rstrip()


def _cells(line: str) -> list[str]:
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", body)]


class MarkdownReader:
    """Reads Markdown (or plain text, which is Markdown without markup) into occurrences."""

    def __init__(
        self,
        game: Game,
        scope: GameScope,
        data: DataHandler,
        placeholders: dict[str, Placeholder] | None = None,
    ) -> None:
        self.game = game
        self.scope = scope
        self.data = data
        self.placeholders = placeholders or {}
        self._inline = _Inline()
        self._groups = itertools.count(1)

    def read(self, text: str, trail: HeadingTrail | None = None) -> list[Occurrence]:
        trail = trail or HeadingTrail(self.scope)
        found: list[Occurrence] = []
        lines = text.splitlines()[:MAX_LINES]
        i = 0
        n = len(lines)
        list_group: str | None = None
        para_group: str | None = None
        para_lines: list[str] = []
        code_headings: tuple[int, str] | None = None

        def flush_paragraph() -> None:
            nonlocal para_group
            # A first line such as "Expired codes:" heads the lines after it.
            first = _label_text(para_lines[0], alone=len(para_lines) == 1) if para_lines else None
            if first is not None:
                trail.enter(_LABEL_LEVEL, first)
                del para_lines[0]
            # A last line such as "Codes still active:" heads what follows (a list).
            last = _label_text(para_lines[-1], alone=False) if len(para_lines) > 1 else None
            if last is not None:
                del para_lines[-1]
            # Whether the paragraph speaks of codes is decided once, not once per line.
            nearby = has_keyword(" ".join(para_lines)) if para_lines else None
            for line in para_lines:
                found.extend(self._line(line, BlockKind.LINE, trail.section, para_group, nearby))
            if last is not None:
                trail.enter(_LABEL_LEVEL, last)
            para_lines.clear()
            para_group = None

        while i < n:
            raw = lines[i]
            line = _QUOTE.sub("", raw)
            stripped = line.strip()
            if stripped in self.placeholders:
                flush_paragraph()
                found.extend(self.placeholders[stripped](trail))
                i += 1
                continue
            fence = _FENCE.match(line)
            if fence:
                flush_paragraph()
                close = fence.group(1)
                body: list[str] = []
                i += 1
                while i < n and not _QUOTE.sub("", lines[i]).strip().startswith(close):
                    body.append(_QUOTE.sub("", lines[i]))
                    i += 1
                i += 1
                found.extend(self._fenced("\n".join(body), trail.section))
                continue
            heading = _heading(line)
            if heading:
                flush_paragraph()
                level, title = heading
                trail.enter(level, title)
                list_group = None
                if _CODE_HEADING.fullmatch(title.strip()):
                    # Headings that are codes, one after another, are a list of codes.
                    if code_headings is None or code_headings[0] != level:
                        code_headings = (level, f"headings:{next(self._groups)}")
                    found.extend(
                        self._line(title, BlockKind.LIST_ITEM, trail.section, code_headings[1])
                    )
                else:
                    code_headings = None
                i += 1
                continue
            if (
                i + 1 < n
                and stripped
                and not _LIST.match(line)
                and "|" not in stripped
                and not para_lines
                and _SETEXT.match(lines[i + 1])
            ):
                trail.enter(1 if lines[i + 1].strip().startswith("=") else 2, stripped)
                i += 2
                continue
            if "|" in stripped and i + 1 < n and _TABLE_SEP.fullmatch(lines[i + 1].strip()):
                flush_paragraph()
                i = self._table(lines, i, trail, found)
                continue
            item = _LIST.match(line)
            if item:
                flush_paragraph()
                if list_group is None:
                    list_group = f"list:{next(self._groups)}"
                found.extend(
                    self._line(item.group(2), BlockKind.LIST_ITEM, trail.section, list_group)
                )
                i += 1
                continue
            if not stripped:
                flush_paragraph()
                i += 1
                continue
            if list_group is not None and not raw[:1].isspace():
                list_group = None
            if para_group is None:
                para_group = f"para:{next(self._groups)}"
            para_lines.append(line)
            i += 1
        flush_paragraph()
        return found

    def _line(
        self,
        text: str,
        kind: BlockKind,
        section: Section,
        group: str | None,
        keyword_nearby: bool | None = None,
    ) -> list[Occurrence]:
        spans, links = self._inline.spans(text)
        row = Row("".join(s.text for s in spans))
        block = Block(
            kind,
            spans,
            section,
            group=group,
            row=row,
            links=links,
            keyword_nearby=keyword_nearby,
        )
        return block_occurrences(block, self.game, self.scope)

    def _fenced(self, body: str, section: Section) -> list[Occurrence]:
        stripped = body.strip()
        if stripped[:1] in ("{", "["):
            value = loads(stripped)
            if value is not JUNK:
                return self.data(value, section)
        # Other code blocks: each line is read like a list item in code markup.
        group = f"pre:{next(self._groups)}"
        found: list[Occurrence] = []
        for line in body.splitlines():
            if not line.strip():
                continue
            element = next(self._inline._ids)
            spans = [Span(line, Mark.CODE, element)]
            block = Block(BlockKind.LINE, spans, section, group=group, row=Row(line))
            found.extend(block_occurrences(block, self.game, self.scope))
        return found

    def _table(
        self, lines: list[str], start: int, trail: HeadingTrail, found: list[Occurrence]
    ) -> int:
        headers = _cells(_QUOTE.sub("", lines[start]))
        table = next(self._groups)
        i = start + 2
        while i < len(lines):
            line = _QUOTE.sub("", lines[i])
            if "|" not in line or not line.strip():
                break
            cells = _cells(line)
            row_spans = [self._inline.spans(c) for c in cells]
            row = Row(" | ".join("".join(s.text for s in spans) for spans, _ in row_spans))
            for index, (spans, links) in enumerate(row_spans):
                column = headers[index] if index < len(headers) else ""
                block = Block(
                    BlockKind.CELL,
                    spans,
                    trail.section,
                    group=f"table:{table}:{index}",
                    column=column,
                    row=row,
                    links=links,
                )
                found.extend(block_occurrences(block, self.game, self.scope))
            i += 1
        return i
