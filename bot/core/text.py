"""Web text made fit to keep and show: one way to cut it, one way to check a link."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

ELLIPSIS = "…"
MAX_URL_LENGTH = 2000
# Whitespace, control characters, characters XML cannot carry, quotes and angle brackets never
# belong in a link codecast writes into a page, a feed or a message.
_NOT_IN_URL = re.compile("[\\s\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff\"'<>\\\\]")


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, an ellipsis marking the cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(ELLIPSIS))].rstrip() + ELLIPSIS


def one_line(text: str) -> str:
    """Runs of whitespace (tabs, line breaks, no-break spaces) as single spaces, trimmed."""
    return " ".join(text.split())


def web_url(url: str | None, limit: int = MAX_URL_LENGTH) -> str | None:
    """The URL itself when it is an absolute http(s) link with a host, of at most `limit`
    characters; else None (a data:, javascript: or relative link, or garbage)."""
    if not url:
        return None
    url = url.strip()
    if len(url) > limit or _NOT_IN_URL.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url
