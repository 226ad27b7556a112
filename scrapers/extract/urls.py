"""Links in pages: finding URLs in text and reading the code out of redeem links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from scrapers.extract.games import GameScope, Scope
from scrapers.extract.model import Evidence

URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'`\]{}|\\^]+", re.IGNORECASE)

_CODE_PARAMS = frozenset(
    {
        "code",
        "cdkey",
        "giftcode",
        "redeemcode",
        "redemptioncode",
        "promocode",
        "couponcode",
        "coupon",
        "exchangecode",
        "serial",
    }
)
# A link with a code parameter is a redeem link only if the page it opens is about redeeming;
# "?code=" alone is also OAuth, tracking and search.
_REDEEM_PLACE = re.compile(r"gift|redeem|redemption|exchange|promo|coupon|cdkey", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class RedeemLink:
    code: str
    scope: Scope

    @property
    def evidence(self) -> int:
        """A link to the game's own redeem site says more than a link to an unknown one."""
        return Evidence.REDEEM_LINK | (Evidence.REDEEM_HOST if self.scope is Scope.OURS else 0)


def redeem_link(url: str, scope: GameScope) -> RedeemLink | None:
    """The code a redeem link carries (`…/gift?code=X`), or None for any other link."""
    if len(url) > 2000:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    query = parts.query
    fragment = parts.fragment
    # Single-page apps keep the query in the fragment: /#/gift?code=X
    if "?" in fragment:
        fragment, _, extra = fragment.partition("?")
        query = f"{query}&{extra}" if query else extra
    host = parts.netloc.lower().split("@")[-1].split(":")[0]
    known = scope.of_host(host) if host else None
    place = f"{parts.netloc}{parts.path}{fragment}"
    # A known game's redeem site needs no path to say so.
    if known is None and not _REDEEM_PLACE.search(place):
        return None
    for name, value in parse_qsl(query, keep_blank_values=False):
        key = re.sub(r"[^a-z]", "", name.lower())
        if key in _CODE_PARAMS and value.strip():
            return RedeemLink(unquote(value).strip(), known or Scope.NEUTRAL)
    return None


def mask_urls(text: str) -> tuple[str, list[str]]:
    """The text with URLs blanked out (same length), and the URLs found."""
    urls: list[str] = []

    def blank(match: re.Match[str]) -> str:
        urls.append(match.group(0).rstrip(".,;:!?)"))
        return " " * len(match.group(0))

    return URL.sub(blank, text), urls
