"""Reading HTML for the site scrapers: text with line breaks kept, headings, links to codes."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scrapers.base import SourceChanged
from scrapers.rewards import clean_text

HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Elements after which text continues on a new line when a person reads the page.
_BLOCK_TAGS = frozenset(
    {"br", "p", "div", "li", "tr", "td", "th", "ul", "ol", "table", "dd", "dt"} | HEADING_TAGS
)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)")
_EDIT_LINK = re.compile(r"\[\s*edit[^\]]*\]")
# Elements that never hold others, or whose end tag HTML lets pages leave out.
_NOT_NESTING = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
        "li",
        "p",
        "td",
        "th",
        "tr",
        "option",
        "optgroup",
        "dd",
        "dt",
        "tbody",
        "thead",
        "tfoot",
        "colgroup",
        "rt",
        "rp",
        "html",
        "head",
        "body",
    ]
)
# Real pages nest a dozen elements deep. The HTML tree builder slows down with the square of
# the depth, and reading a table's or an item's text costs its depth again, so a body nested
# hundreds deep is refused as garbage before it is parsed.
MAX_NESTING = 200


def html_tree(text: str, kind: str) -> LexborHTMLParser:
    """Parse a page, refusing pathological nesting (SourceChanged) that would stall parsing."""
    if nested_deeper(text, MAX_NESTING):
        raise SourceChanged(f"{kind}: markup nested more than {MAX_NESTING} deep")
    return LexborHTMLParser(text)


def nested_deeper(text: str, limit: int) -> bool:
    """Whether HTML elements in `text` nest more than `limit` deep (a cheap scan, no parse)."""
    depth = 0
    for match in _TAG.finditer(text):
        if match[2].lower() in _NOT_NESTING:
            continue
        if match[1]:
            depth = max(0, depth - 1)
        else:
            depth += 1
            if depth > limit:
                return True
    return False


def block_text(node: LexborNode) -> str:
    """The text of `node` with a newline wherever a line break or block element is."""
    parts: list[str] = []
    for child in node.traverse(include_text=True):
        if child.tag == "-text":
            parts.append(child.text_content or "")
        elif child.tag in _BLOCK_TAGS:
            parts.append("\n")
        elif child.tag in ("script", "style"):
            continue
    # Each line is stripped and its whitespace collapsed by clean_text; blank ones are dropped.
    text = "".join(parts)
    return "\n".join(clean_text(line) for line in text.split("\n") if line.strip())


def inline_text(node: LexborNode) -> str:
    """The text of `node` on one line, whitespace collapsed."""
    return clean_text(node.text(deep=True, separator="", strip=False) or "")


def heading_level(node: LexborNode) -> int | None:
    return int(node.tag[1]) if node.tag in HEADING_TAGS else None


def heading_text(node: LexborNode) -> str:
    """A heading's words, without MediaWiki's "[edit]" links."""
    headline = node.css_first("span.mw-headline")
    if headline is not None:
        return inline_text(headline)
    text = inline_text(node)
    # No "[edit" after the last "]" can close, so only the text up to it is searched: each
    # unclosed "[edit" would otherwise be read to the end of the heading.
    end = text.rfind("]") + 1
    return (_EDIT_LINK.sub("", text[:end]) + text[end:]).strip()


def code_from_link(href: str | None) -> str | None:
    """The `code` query parameter of a redeem link (".../gift?code=ABC"), if there is one."""
    if not href or "code=" not in href:
        return None
    try:
        query = urlsplit(href.strip()).query
    except ValueError:
        return None
    values = parse_qs(query).get("code")
    return values[0].strip() if values else None


def img_src(node: LexborNode) -> str | None:
    """An image's real address: lazy-loading pages put a placeholder in src."""
    for attribute in ("data-src", "src"):
        value = node.attributes.get(attribute)
        if value and not value.startswith("data:"):
            return value
    return None
