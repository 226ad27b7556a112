"""MediaWiki wikitext: code-row templates, headings and wikitables, via mwparserfromhell."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from functools import partial
from typing import Any

import mwparserfromhell
from mwparserfromhell.nodes import (
    Comment,
    ExternalLink,
    Heading,
    HTMLEntity,
    Tag,
    Template,
    Text,
    Wikilink,
)

from bot.core.domain import CodeStatus, Game
from scrapers.dates import parse_date
from scrapers.extract.context import HeadingTrail, heading_status, row_status
from scrapers.extract.games import GameScope
from scrapers.extract.markdown import MarkdownReader, Placeholder
from scrapers.extract.model import Evidence, Occurrence

MarkdownFactory = Callable[[dict[str, Placeholder]], MarkdownReader]

# Nested markup deeper than this is read as plain text.
MAX_DEPTH = 40
_ROW_WORDS = ("row", "redemption", "redeem", "promo", "exchange", "gift", "entry")
_INLINE_CODE_TEMPLATES = frozenset({"code", "kbd", "mono", "tt", "c", "copy", "clipboard"})
_SPLIT = re.compile(r"[\s;,/|、，]+")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_HIDDEN_TAGS = frozenset(
    {"ref", "references", "gallery", "math", "score", "timeline", "imagemap", "templatedata"}
)

_LINK_PREFIXES = ("file:", "image:", "category:", "media:")
# Where code-row templates keep the expiry date: named, or fifth after code, server, rewards
# and the date found ({{Code Row|CODE|G|Primogem*60|2031-01-01|2031-01-08}}).
_EXPIRY_PARAMS = ("expiry", "expires", "expire", "expiration", "end", "until", "validuntil", "5")
_TRUE = frozenset({"1", "yes", "true", "y"})


def _norm_name(template: Template) -> str:
    return " ".join(str(template.name).replace("_", " ").split()).lower()


def _is_code_row(name: str) -> bool:
    if "code" not in name or name.endswith(("header", "footer", "top", "bottom", "end", "start")):
        return False
    return any(word in name for word in _ROW_WORDS) and "container" not in name


# The page is turned into the Markdown the Markdown reader knows (headings, tables, lists,
# bold, code, strike-through), with each code-row template left as a placeholder line that
# is read here, so templates and prose share one trail of headings.
class WikitextReader:
    def __init__(self, game: Game, scope: GameScope, markdown: MarkdownFactory) -> None:
        self.game = game
        self.scope = scope
        self.markdown = markdown
        self._ids = itertools.count(1)

    def read(self, text: str) -> list[Occurrence]:
        wikicode = mwparserfromhell.parse(defuse(text))
        placeholders: dict[str, Placeholder] = {}
        converted = self._nodes(wikicode.nodes, placeholders, depth=0)
        return self.markdown(placeholders).read(converted)

    def _placeholder(self, placeholders: dict[str, Placeholder], action: Placeholder) -> str:
        key = f"\x00wiki{next(self._ids)}\x00"
        placeholders[key] = action
        return f"\n{key}\n"

    def _nodes(self, nodes: list[Any], placeholders: dict[str, Placeholder], depth: int) -> str:
        if depth > MAX_DEPTH:
            return " ".join(str(n) for n in nodes)
        out: list[str] = []
        for node in nodes:
            out.append(self._node(node, placeholders, depth))
        return "".join(out)

    def _node(self, node: Any, placeholders: dict[str, Placeholder], depth: int) -> str:
        if isinstance(node, Text):
            return str(node.value)
        if isinstance(node, Heading):
            title = node.title.strip_code().strip()
            return f"\n{'#' * min(node.level, 6)} {title}\n"
        if isinstance(node, Template):
            return self._template(node, placeholders, depth)
        if isinstance(node, Comment):
            status = heading_status(str(node.contents))
            if status is CodeStatus.UNKNOWN:
                return ""
            return self._placeholder(placeholders, partial(_mark, status))
        if isinstance(node, Tag):
            return self._tag(node, placeholders, depth)
        if isinstance(node, Wikilink):
            title = str(node.title).strip()
            if title.lower().startswith(_LINK_PREFIXES):
                return ""
            if node.text is not None:
                return self._nodes(node.text.nodes, placeholders, depth + 1)
            return title
        if isinstance(node, ExternalLink):
            url = str(node.url).strip()
            if node.title is None:
                return f" {url} "
            title = self._nodes(node.title.nodes, placeholders, depth + 1)
            return f"[{title}]({url})"
        if isinstance(node, HTMLEntity):
            return str(node.normalize())
        return ""

    def _template(self, node: Template, placeholders: dict[str, Placeholder], depth: int) -> str:
        name = _norm_name(node)
        if _is_code_row(name):
            return self._placeholder(placeholders, partial(self._code_row, node))
        if name in _INLINE_CODE_TEMPLATES and node.has("1"):
            return f"`{node.get('1').value.strip_code().strip()}`"
        # A container ({{Redemption Code Container|1=...rows...}}) holds rows in parameters.
        parts = []
        for param in node.params:
            if any(isinstance(t, Template) for t in param.value.filter_templates(recursive=False)):
                parts.append(self._nodes(param.value.nodes, placeholders, depth + 1))
        return "\n".join(parts)

    def _tag(self, node: Tag, placeholders: dict[str, Placeholder], depth: int) -> str:
        tag = str(node.tag).strip().lower()
        markup = node.wiki_markup
        if tag in _HIDDEN_TAGS:
            return ""
        if tag == "table":
            return self._table(node, placeholders, depth)
        if tag == "br":
            return " <br> "
        if tag in ("li", "dt", "dd") and markup:
            return "\n- "
        if tag == "hr":
            return "\n\n"
        inner = self._nodes(node.contents.nodes, placeholders, depth + 1) if node.contents else ""
        if tag in ("s", "del", "strike"):
            return f"~~{inner}~~"
        if tag in ("code", "kbd", "tt", "samp"):
            return f"`{inner.strip()}`"
        if tag in ("b", "strong"):
            return f"**{inner}**"
        if tag in ("div", "p", "ul", "ol", "blockquote", "center"):
            return f"\n{inner}\n"
        return inner

    def _table(self, node: Tag, placeholders: dict[str, Placeholder], depth: int) -> str:
        rows: list[list[tuple[str, str]]] = []
        loose: list[tuple[str, str]] = []
        for child in node.contents.nodes if node.contents else []:
            if not isinstance(child, Tag):
                continue
            tag = str(child.tag).lower()
            if tag == "tr":
                cells = [
                    c
                    for c in child.contents.nodes
                    if isinstance(c, Tag) and _tag_name(c) in ("td", "th")
                ]
                rows.append([(_tag_name(c), self._cell(c, placeholders, depth)) for c in cells])
            elif tag in ("td", "th"):
                loose.append((tag, self._cell(child, placeholders, depth)))
        if loose:
            rows.insert(0, loose)
        rows = [r for r in rows if r]
        if not rows:
            return ""
        width = max(len(r) for r in rows)
        if all(kind == "th" for kind, _ in rows[0]) and len(rows[0]) > 1:
            header = [text for _, text in rows[0]]
            rows = rows[1:]
        else:
            header = [""] * width
        header += [""] * (width - len(header))
        lines = ["", "| " + " | ".join(header) + " |", "|" + "---|" * width]
        for row in rows:
            lines.append("| " + " | ".join(text for _, text in row) + " |")
        return "\n".join(lines) + "\n\n"

    def _cell(self, cell: Tag, placeholders: dict[str, Placeholder], depth: int) -> str:
        text = self._nodes(cell.contents.nodes, placeholders, depth + 1) if cell.contents else ""
        return " ".join(text.replace("|", "\\|").split())

    def _code_row(self, node: Template, trail: HeadingTrail) -> list[Occurrence]:
        params = {str(p.name).strip().lower(): p for p in node.params}
        if _param_text(params.get("notacode")).lower() in _TRUE:
            return []
        code_param = params.get("1") or params.get("code") or params.get("codes")
        if code_param is None:
            return []
        raw = _BR.sub(";", str(code_param.value))
        codes_text = mwparserfromhell.parse(raw).strip_code()
        tokens = [t for t in _SPLIT.split(codes_text) if t and self.game.matches(t)]
        status = CodeStatus.UNKNOWN
        for key in ("status", "expired", "active", "valid", "state"):
            value = _param_text(params.get(key)).lower()
            if not value:
                continue
            if key in ("expired",):
                status = CodeStatus.EXPIRED if value in _TRUE else CodeStatus.ACTIVE
            elif key in ("active", "valid") and value in _TRUE:
                status = CodeStatus.ACTIVE
            else:
                status = row_status(value)
            if status is not CodeStatus.UNKNOWN:
                break
        rewards_param = params.get("3") or params.get("rewards") or params.get("reward")
        rewards = " ".join(_param_text(rewards_param).split())
        expires = None
        for key in _EXPIRY_PARAMS:
            expires = parse_date(_param_text(params.get(key)))
            if expires is not None:
                break
        section = trail.section
        group = f"wiki:{id(trail)}"
        return [
            Occurrence(
                token,
                Evidence.CODE_TEMPLATE,
                status=status,
                section_status=section.status,
                scope=section.scope,
                group=group,
                rewards=rewards,
                sections=section.path,
                status_cue="wiki-template" if status is not CodeStatus.UNKNOWN else "",
                expires=expires,
            )
            for token in tokens
        ]


def _tag_name(node: Any) -> str:
    return str(node.tag).strip().lower() if isinstance(node, Tag) else ""


# Constructs mwparserfromhell retries from every opening when they never close; on a hostile
# page ("{{a|" or "<b>" ten thousand times) that takes minutes. defuse() breaks the openings
# that have no closing (and templates nested absurdly deep) before parsing, in one linear pass.
_WIKI_TOKEN = re.compile(
    r"<!--|-->|\{\{|\}\}|\[\[|\]\]|^\{\||^\|\}|\[(?=(?:https?:)?//)|\n"
    r"|<(/?)([a-zA-Z][a-zA-Z0-9]{0,30})\b[^<>]{0,500}?(/?)>",
    re.MULTILINE,
)
_PAIRS = {"}}": "{{", "]]": "[[", "|}": "{|"}
_VOID_TAGS = frozenset({"br", "hr", "wbr", "img", "meta", "link", "col", "area", "source"})
MAX_TEMPLATE_DEPTH = 20


def defuse(text: str) -> str:
    """The wikitext with unclosed (or too deeply nested) templates, links, tables and tags
    turned into plain text, so parsing stays linear."""
    broken: list[int] = []
    open_at: dict[str, list[int]] = {}
    links: list[int] = []
    comments: list[int] = []
    for match in _WIKI_TOKEN.finditer(text):
        piece = match.group()
        pos = match.start()
        if piece == "<!--":
            comments.append(pos)
        elif piece == "-->":
            comments.clear()
        elif piece in ("{{", "[[", "{|"):
            stack = open_at.setdefault(piece, [])
            if piece == "{{" and len(stack) >= MAX_TEMPLATE_DEPTH:
                broken.append(pos)
            else:
                stack.append(pos)
        elif piece in _PAIRS:
            stack = open_at.get(_PAIRS[piece], [])
            if stack:
                stack.pop()
        elif piece == "\n":
            # An external link closes on its own line or not at all.
            broken.extend(links)
            links.clear()
        elif piece == "[":
            links.append(pos)
        elif match.group(2):
            name = match.group(2).lower()
            if name in _VOID_TAGS or match.group(3):
                continue
            stack = open_at.setdefault(f"<{name}", [])
            if not match.group(1):
                stack.append(pos)
            elif stack:
                stack.pop()
            else:
                broken.append(pos)
    for pos in links:
        if "]" not in text[pos : pos + 2000]:
            broken.append(pos)
    for stack in open_at.values():
        broken.extend(stack)
    broken.extend(comments)
    if not broken:
        return text
    out = []
    last = 0
    for pos in sorted(set(broken)):
        out.append(text[last:pos])
        # "<" becomes an entity; a word joiner splits "{{", "[[" and "[http" out of markup.
        out.append("&lt;" if text[pos] == "<" else text[pos] + "\u2060")
        last = pos + 1
    out.append(text[last:])
    return "".join(out)


def _param_text(param: Any) -> str:
    if param is None:
        return ""
    return str(param.value.strip_code()).strip()


def _mark(status: CodeStatus, trail: HeadingTrail) -> list[Occurrence]:
    trail.mark(status)
    return []
