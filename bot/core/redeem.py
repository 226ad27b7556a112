"""A pasted code or redeem link, read: which code it is and which games it can belong to.

One reading for every place a person hands codecast a code (Discord's /redeem, /submit on
both platforms, `codecast submit`): the text is either a code, or a gift link carrying the
code in its query (`…/gift?code=X`, also after a `#` as single-page sites put it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qs, urlsplit

from bot.core.domain import MAX_CODE_LENGTH, Game, code_key

# The query parameters gift pages carry the code in.
CODE_PARAMETERS = ("code", "cdkey")
# Anything but letters, digits, `-` and `_` has no place in a code shown back to a person.
_NOT_CODE = re.compile(r"[^0-9A-Za-z_-]")


class Unreadable(StrEnum):
    """Why a text is not a code codecast can use."""

    LINK_WITHOUT_CODE = "link-without-code"
    NOT_THE_GAMES_PATTERN = "not-the-games-pattern"
    NO_GAME = "no-game"


class NotACode(ValueError):
    """The text is neither a code of a known game nor a gift link with a code in it.

    `reason` says why; `code` (cut to characters a code may have) and `game` say what was
    tried, for the platforms to word the answer in their own markup.
    """

    def __init__(self, reason: Unreadable, code: str = "", game: Game | None = None) -> None:
        self.reason = reason
        self.code = shown_code(code)
        self.game = game
        super().__init__(self.plain())

    def plain(self) -> str:
        if self.reason is Unreadable.LINK_WITHOUT_CODE:
            return "That link has no ?code= in it."
        if self.reason is Unreadable.NOT_THE_GAMES_PATTERN and self.game is not None:
            return f"{self.code} does not look like a {self.game.name} code."
        return "That does not look like a code of any game I know."


def shown_code(code: str) -> str:
    """A code as it may be repeated back: only the characters a code has, at most 32."""
    return _NOT_CODE.sub("", code)[:MAX_CODE_LENGTH]


@dataclass(frozen=True)
class RedeemTarget:
    game: Game
    code: str
    url: str | None


def code_from_text(text: str) -> tuple[str, str | None]:
    """The code in a pasted code or gift link, and the link's host when it was a link."""
    text = text.strip().strip("<>")
    parts = urlsplit(text)
    if parts.scheme in ("http", "https") and parts.netloc:
        query = parts.query
        # Single-page gift sites keep the query after the fragment: /#/gift?code=X
        if "?" in parts.fragment:
            extra = parts.fragment.partition("?")[2]
            query = f"{query}&{extra}" if query else extra
        values = {k.lower(): v for k, v in parse_qs(query).items()}
        found = next((values[name] for name in CODE_PARAMETERS if name in values), [])
        if not found or not found[0].strip():
            raise NotACode(Unreadable.LINK_WITHOUT_CODE)
        return found[0].strip(), parts.hostname
    return text, None


def redeem_targets(
    text: str, games: Sequence[Game], *, game_id: str | None = None
) -> list[RedeemTarget]:
    """Where a code can be redeemed: one target per game the code (or link) can belong to."""
    code, host = code_from_text(text)
    candidates = [g for g in games if game_id is None or g.id == game_id]
    if host is not None and game_id is None:
        same_host = [
            g for g in candidates if g.redeem_url and urlsplit(g.redeem_url).hostname == host
        ]
        candidates = same_host or candidates
    matching = [g for g in candidates if g.matches(code) and code_key(code) not in g.stopwords]
    if not matching:
        if game_id is not None and candidates:
            raise NotACode(Unreadable.NOT_THE_GAMES_PATTERN, code, candidates[0])
        raise NotACode(Unreadable.NO_GAME, code)
    return [RedeemTarget(g, code, g.redeem_link(code)) for g in matching]
