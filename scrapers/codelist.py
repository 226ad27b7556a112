"""The codes one page yields: pattern filter, case-insensitive dedupe, bounds, error shielding."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import ParamSpec, TypeVar

from bot.core.domain import (
    MAX_REWARDS_LENGTH,
    CodeStatus,
    Game,
    RewardItem,
    ScrapedCode,
    code_key,
)
from bot.core.rewards import MAX_ITEMS
from scrapers.base import SourceChanged
from scrapers.rewards import bounded

# A page listing more codes than this is not a code page; the rest is dropped.
MAX_CODES_PER_PAGE = 2000
# Bodies beyond this are refused before parsing; the fetcher caps far lower by default.
MAX_BODY_BYTES = 20_000_000

_P = ParamSpec("_P")
_R = TypeVar("_R")

_SERVER_CN = re.compile(r"\b(?:cn|china|chinese|mainland)\b", re.IGNORECASE)
_SERVER_GLOBAL = re.compile(
    r"\b(?:g|a|all|global|os|overseas|america|americas|na|europe|eu|asia|sea|tw|hk|"
    r"tw/hk/macao|international|worldwide)\b",
    re.IGNORECASE,
)


class CodeList:
    """Collects the codes of one page in page order.

    Codes that do not match the game's pattern, or are one of its stopwords, are dropped.
    A code seen twice (compared case-insensitively) keeps its first spelling and status;
    later sightings only fill in what the first one lacked.
    """

    def __init__(self, game: Game) -> None:
        self.game = game
        self._codes: dict[str, ScrapedCode] = {}

    def __len__(self) -> int:
        return len(self._codes)

    def add(
        self,
        code: str,
        *,
        status: CodeStatus = CodeStatus.UNKNOWN,
        rewards: str = "",
        items: Iterable[RewardItem] = (),
        expires_at: datetime | None = None,
        server: str | None = None,
    ) -> bool:
        """Add one code; returns False when it is not a code of this game."""
        code = code.strip()
        if not self.accepts(code):
            return False
        key = code_key(code)
        found = ScrapedCode(
            code=code,
            status=status,
            rewards=bounded(rewards, MAX_REWARDS_LENGTH),
            items=tuple(items)[:MAX_ITEMS],
            expires_at=expires_at,
            server=server,
        )
        earlier = self._codes.get(key)
        if earlier is None:
            if len(self._codes) < MAX_CODES_PER_PAGE:
                self._codes[key] = found
            return True
        self._codes[key] = ScrapedCode(
            code=earlier.code,
            status=earlier.status if earlier.status is not CodeStatus.UNKNOWN else found.status,
            rewards=earlier.rewards or found.rewards,
            items=earlier.items or found.items,
            expires_at=earlier.expires_at or found.expires_at,
            server=earlier.server or found.server,
        )
        return True

    def accepts(self, code: str) -> bool:
        return self.game.matches(code) and code.upper() not in self.game.stopwords

    def result(self) -> list[ScrapedCode]:
        return list(self._codes.values())


def server_of(text: str) -> str | None:
    """A server column ("G", "CN", "America, Europe, Asia, TW/HK/Macao") to "global" or "cn".

    Regional servers of the global release count as global: they all redeem on the global site.
    """
    text = text.strip()
    if not text:
        return None
    if _SERVER_CN.search(text):
        return "cn"
    if _SERVER_GLOBAL.search(text):
        return "global"
    return None


def shielded(kind: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Make a parser raise nothing but SourceChanged, whatever the bytes.

    Parsers are written for well-formed pages; the web sends truncated pages, binary garbage
    and pathological nesting. Every failure below is the page not having the known shape.
    """

    def decorate(parse: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(parse)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return parse(*args, **kwargs)
            except SourceChanged:
                raise
            except Exception as exc:
                raise SourceChanged(f"{kind}: unreadable page ({type(exc).__name__})") from exc

        return wrapper

    return decorate


def check_size(kind: str, body: bytes) -> None:
    if not body or not body.strip():
        raise SourceChanged(f"{kind}: empty response")
    if len(body) > MAX_BODY_BYTES:
        raise SourceChanged(f"{kind}: {len(body)} bytes is not a code page")
