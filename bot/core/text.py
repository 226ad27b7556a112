"""Web text made fit to keep and show: one way to cut it, one way to check a link, one way to
keep links out of text."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

ELLIPSIS = "…"
MAX_URL_LENGTH = 2000
# Whitespace, control characters, characters XML cannot carry, quotes and angle brackets never
# belong in a link codecast writes into a page, a feed or a message.
_NOT_IN_URL = re.compile("[\\s\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff\"'<>\\\\]")


# What a chat app turns into a link when it shows text: an address with a scheme, one that
# starts with "www.", or a host name under a common top-level domain ("free-gems.com/x"). A
# link starts where no word, dot, hyphen or "@" touches it, so a run of labels is tried once;
# it ends before a bracket or a quote (the ones it was written in).
_URL_CHAR = r"[^\s()<>\[\]{}\"']"
_LINK = re.compile(
    r"(?<![\w@.-])(?:"
    r"[a-z][a-z0-9+.-]{1,15}://" + _URL_CHAR + "*"
    r"|www\." + _URL_CHAR + "+"
    r"|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:com|net|org|info|biz|io|gg|co|me|tv|ly|app|dev|xyz|link|site|online|top|shop|store"
    r"|ru|cn|jp|kr|de|fr|uk|us|eu|tw|hk|vn|id|br|es|it|pl|to|cc|be|ws|so|sh|ai|fm|tk)"
    r"(?![\w-])(?:[/?#:]" + _URL_CHAR + "*)?"
    r")",
    re.IGNORECASE,
)
# The brackets a link was in, left empty.
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]|<\s*>")


def without_links(text: str) -> str:
    """`text` with every link taken out: what a source says a code gives is shown as text, and
    Telegram or Discord would make a link of a URL in it."""
    if "." not in text and ":" not in text:
        return text
    cut = _LINK.sub(" ", text)
    if cut == text:
        return text
    return one_line(_EMPTY_BRACKETS.sub(" ", cut))


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
