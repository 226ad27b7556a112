"""Deciding what a body is: bytes to text, and HTML, wikitext, data or Markdown/plain text."""

from __future__ import annotations

import codecs
import json
import re
from enum import Enum
from urllib.parse import urlsplit

from scrapers.extract.feed import is_feed

# Only this much of a body is read; code pages are far smaller, and a cap keeps a hostile or
# broken source from costing more than a bounded amount of time.
MAX_INPUT_BYTES = 3_000_000


class Format(Enum):
    HTML = "html"
    WIKITEXT = "wikitext"
    DATA = "data"  # JSON, or JavaScript holding data literals
    MARKDOWN = "markdown"  # Markdown and plain text
    FEED = "feed"  # RSS, Atom


_HTML_EXT = frozenset({"html", "htm", "xhtml", "shtml", "php", "asp", "aspx", "jsp"})
_WIKI_EXT = frozenset({"wiki", "wikitext", "mediawiki", "mw"})
_DATA_EXT = frozenset({"json", "js", "mjs", "cjs", "ts", "jsonp", "json5"})
_MD_EXT = frozenset({"md", "markdown", "mdown", "rst"})
_HTML_TAG = re.compile(
    r"<(?:!doctype|html|head|body|div|p|li|ul|ol|table|tr|td|th|br|h[1-6]|span|a|section|article"
    r"|strong|b|code|meta|link|script)\b",
    re.IGNORECASE,
)
_WIKI_MARK = re.compile(r"\{\{|^=+[^=\n]+=+\s*$|\[\[|^\{\||^\|-|'''", re.MULTILINE)
# How data starts: `{"key":`, `{key:`, `[{`, `["`, `[1`; not wikitext's `{{` or `{|`.
_JSONISH_START = re.compile(
    r"""^(?:\{\s*(?:["'][^"'\n]{0,200}["']|[A-Za-z_$][\w$]*)\s*:|\{\s*\}|\[\s*(?:[\[{"'\d-]|true|false|null|\]))"""
)
_JS_DATA = re.compile(
    r"^\s*(?:var|let|const|window\.|self\.|export\s+(?:default|const|let|var)|module\.exports)"
)
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def looks_binary(body: bytes) -> bool:
    """True for images, archives and other non-text bodies."""
    head = body[:4096]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls > len(head) // 10


def decode(body: bytes, content_type: str | None = None) -> str:
    """Bytes to text: BOMs, then UTF-8, then a declared charset, then Windows-1252."""
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body.decode("utf-16", errors="replace")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # A body cut at the size cap can end inside a character.
        if exc.start >= len(body) - 4:
            return body[: exc.start].decode("utf-8-sig", errors="replace")
    for charset in _declared_charsets(body, content_type):
        try:
            return body.decode(charset, errors="replace")
        except (LookupError, UnicodeError, ValueError):
            # Not a codec of text at all ("hex"), or one that decodes no page ("idna",
            # "punycode", "undefined" raise on any bytes or refuse errors="replace").
            continue
    return body.decode("cp1252", errors="replace")


def _declared_charsets(body: bytes, content_type: str | None) -> list[str]:
    found = []
    if content_type:
        match = re.search(r"charset\s*=\s*\"?([A-Za-z0-9_.:-]+)", content_type, re.IGNORECASE)
        if match:
            found.append(match.group(1))
    meta = _CHARSET.search(body[:4096])
    if meta:
        found.append(meta.group(1).decode("ascii", errors="ignore"))
    return found


def _extension(filename: str | None) -> str:
    if not filename:
        return ""
    path = filename
    if "://" in filename:
        try:
            path = urlsplit(filename).path
        except ValueError:
            path = filename
    tail = path.rsplit("/", 1)[-1]
    return tail.rsplit(".", 1)[-1].lower() if "." in tail else ""


def sniff(text: str, filename: str | None = None, content_type: str | None = None) -> Format:
    """The format of a decoded body, from its content first and its name or type second."""
    ext = _extension(filename)
    ctype = (content_type or "").lower()
    head = text.lstrip()[:20_000]
    hint = filename or ""
    if head[:1] in ("{", "["):
        try:
            json.loads(text)
        except (ValueError, RecursionError):
            if _JSONISH_START.match(head) and (
                ext in _DATA_EXT or "json" in ctype or "javascript" in ctype or ext not in _MD_EXT
            ):
                return Format.DATA
        else:
            return Format.DATA
    if _JS_DATA.match(head) and ext not in _HTML_EXT | _MD_EXT:
        return Format.DATA
    if head[:1] == "<" and is_feed(head):
        return Format.FEED
    if ext in _WIKI_EXT or "action=raw" in hint or "x-wiki" in ctype:
        return Format.WIKITEXT
    if ext in _HTML_EXT or "html" in ctype or (head[:1] == "<" and _HTML_TAG.match(head)):
        return Format.HTML
    if ext in _DATA_EXT:
        return Format.DATA
    html_tags = len(_HTML_TAG.findall(head[:5000]))
    wiki_marks = len(_WIKI_MARK.findall(head))
    if ext not in _MD_EXT and html_tags >= 8 and html_tags > wiki_marks:
        return Format.HTML
    if ext not in _MD_EXT and wiki_marks >= 3:
        return Format.WIKITEXT
    return Format.MARKDOWN


def document_format(text: str) -> Format:
    """The format of a document found inside data (a MediaWiki API field, an HTML snippet)."""
    head = text[:20_000]
    html_tags = len(_HTML_TAG.findall(head))
    wiki_marks = len(_WIKI_MARK.findall(head))
    if html_tags >= 3 and html_tags >= wiki_marks:
        return Format.HTML
    if wiki_marks >= 1:
        return Format.WIKITEXT
    return Format.MARKDOWN
