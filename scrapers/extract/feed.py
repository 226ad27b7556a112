"""RSS and Atom feeds: each item's title, links and content, laid out as one HTML page.

Feeds are often malformed (unescaped ampersands, HTML pasted into descriptions), so items
are cut out with bounded regular expressions rather than an XML parser that would give up on
the first error; what each item holds is then read by the HTML reader like any page.
"""

from __future__ import annotations

import html
import re

# Items read from one feed at most.
MAX_ITEMS = 2_000

_ROOT = re.compile(
    r"^\s*(?:<\?xml[^>]{0,200}\?>\s*)?(?:<!--.{0,2000}?-->\s*|<\?xml-stylesheet[^>]{0,500}\?>\s*)*"
    r"<(?:rss|feed|rdf:RDF)\b",
    re.IGNORECASE | re.DOTALL,
)
_ITEM_START = re.compile(r"<(?:item|entry)\b[^>]{0,500}>", re.IGNORECASE)
_ITEM_END = re.compile(r"</(?:item|entry)\s*>", re.IGNORECASE)
_CHANNEL_TITLE = re.compile(r"<title\b[^>]{0,200}>([^<]{0,2000})", re.IGNORECASE)
# The fields of an item that can hold codes, the first of each kind; its content is the
# first of these found.
_CONTENT_FIELDS = ("content:encoded", "content", "description", "summary")
_FIELDS = ("title", *_CONTENT_FIELDS)
# One item is read this far at most.
_MAX_ITEM_CHARS = 200_000
_LINK_TEXT = re.compile(r"<link\b[^>]{0,500}>([^<]{1,2000})</link\s*>", re.IGNORECASE)
_LINK_HREF = re.compile(
    r"<link\b[^>]{0,500}?\bhref\s*=\s*[\"']([^\"']{1,2000})[\"']", re.IGNORECASE
)
# A tag in a title is at most this long.
_MAX_TAG_CHARS = 500
_CDATA_OPEN = "<![CDATA["
_CDATA_CLOSE = "]]>"


def is_feed(head: str) -> bool:
    """Whether a document starts as an RSS, Atom or RDF feed."""
    return _ROOT.match(head[:5000]) is not None


def feed_to_html(text: str) -> str:
    """The feed as an HTML page: its title, a list of the item titles (with their links), and
    each item's content under its title."""
    starts = list(_ITEM_START.finditer(text))
    channel = _CHANNEL_TITLE.search(text[: starts[0].start()] if starts else text)
    parts = [f"<h1>{_plain(channel.group(1))}</h1>" if channel else ""]
    titles: list[str] = []
    bodies: list[str] = []
    for index, start in enumerate(starts[:MAX_ITEMS]):
        stop = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        item = text[start.end() : min(stop, start.end() + _MAX_ITEM_CHARS)]
        closing = _ITEM_END.search(item)
        if closing:
            item = item[: closing.start()]
        fields = _fields(item)
        title = _plain(fields.get("title", ""))
        links = _LINK_TEXT.findall(item) + _LINK_HREF.findall(item)
        anchors = "".join(
            f'<a href="{html.escape(_unwrap(link).strip(), quote=True)}"></a>'
            for link in links[:5]
        )
        titles.append(f"<li>{title}{anchors}</li>")
        content = next((fields[f] for f in _CONTENT_FIELDS if fields.get(f)), "")
        if content:
            bodies.append(f"<article><h2>{title}</h2>{_unwrap(content)}</article>")
    parts.append("<ul>" + "".join(titles) + "</ul>")
    parts.extend(bodies)
    return "<html><body>" + "\n".join(parts) + "</body></html>"


def _unwrap(value: str) -> str:
    """A field's text: CDATA opened, or entities decoded once (escaped HTML becomes HTML)."""
    if "<![CDATA[" in value:
        return _open_cdata(value)
    return html.unescape(value)


def _open_cdata(value: str) -> str:
    """Each "<![CDATA[text]]>" replaced by its text.

    Written out rather than as a pattern, which would read on from every unclosed opening to
    the end of the field; once an opening finds no end, no later one can.
    """
    out: list[str] = []
    pos = 0
    while (start := value.find(_CDATA_OPEN, pos)) >= 0:
        end = value.find(_CDATA_CLOSE, start + len(_CDATA_OPEN))
        if end < 0:
            break
        out.append(value[pos:start])
        out.append(value[start + len(_CDATA_OPEN) : end])
        pos = end + len(_CDATA_CLOSE)
    out.append(value[pos:])
    return "".join(out)


def _fields(item: str) -> dict[str, str]:
    """The first title, content and description of an item (a missing end tag: to the end)."""
    low = item.lower()
    found: dict[str, str] = {}
    for name in _FIELDS:
        opening = re.search(rf"<{re.escape(name)}\b[^>]{{0,500}}>", item, re.IGNORECASE)
        if opening is None:
            continue
        end = low.find(f"</{name}", opening.end())
        found[name] = item[opening.end() : end if end >= 0 else len(item)]
    return found


def _plain(value: str) -> str:
    """A title as text, escaped for the page it is put in."""
    return html.escape(" ".join(_without_tags(_unwrap(value)).split()))


def _without_tags(text: str) -> str:
    """Each "<" and the first ">" at most 500 characters after it replaced by a space.

    Written out rather than as a pattern, which would read up to 500 characters from every
    "<" of a run of them that never closes.
    """
    out: list[str] = []
    pos = 0  # what is copied so far
    search = 0
    close = -1
    while (start := text.find("<", search)) >= 0:
        if close <= start:
            close = text.find(">", start + 1)
            if close < 0:
                break
        if close - start - 1 > _MAX_TAG_CHARS:
            search = start + 1
            continue
        out.append(text[pos:start])
        out.append(" ")
        pos = search = close + 1
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)
