"""Where a code sits on a page says its status: "Active Codes" and "Expired Codes" sections."""

from __future__ import annotations

import re

from bot.core.domain import CodeStatus
from scrapers.extract.vocabulary import BRANDS

_EXPIRED_HEADING = re.compile(
    r"\b(?:expired|inactive|invalid|unavailable|ended|no\s+longer\s+(?:valid|working|active))\b",
    re.IGNORECASE,
)
_ACTIVE_HEADING = re.compile(
    r"\b(?:active|valid|available|current|working|latest|new)\b", re.IGNORECASE
)
# Editors mark the switch inside one table with a bare comment: <!--active--> / <!-- Expired -->.
# Pages are hostile input: a run of spaces is never searched once from each of its positions.
# Possessive runs of spaces: what follows each is a word, a colon or the end, never a space.
_MARKER = re.compile(
    r"\s*+(?P<word>active|expired|inactive|valid|invalid)(?:\s++codes?)?\s*+:?\s*+",
    re.IGNORECASE,
)
# " or " is tried from the first space of a run only (a line break before it is a separator of
# its own): from any later space of the run it would fail or succeed just the same.
_CODE_SEPARATORS = re.compile(r"[\n;/,|]|(?<![^\S\n])\s+or\s+", re.IGNORECASE)
_BRACKETS = (("(", ")"), ("[", "]"))


def heading_status(title: str) -> CodeStatus | None:
    """What a heading says about the codes under it; None when it says nothing."""
    if _EXPIRED_HEADING.search(title):
        return CodeStatus.EXPIRED
    if _ACTIVE_HEADING.search(title):
        return CodeStatus.ACTIVE
    return None


def marker_status(comment: str) -> CodeStatus | None:
    """A bare <!--active--> style comment; longer comments are editors' notes, not markers."""
    match = _MARKER.fullmatch(comment)
    if match is None:
        return None
    word = match["word"].lower()
    return CodeStatus.ACTIVE if word in ("active", "valid") else CodeStatus.EXPIRED


class Sections:
    """The heading path at the current point of a page, read top to bottom."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, CodeStatus | None]] = []
        self._marker: CodeStatus | None = None

    def heading(self, level: int, title: str) -> None:
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, heading_status(title)))
        self._marker = None

    def marker(self, comment: str) -> None:
        status = marker_status(comment)
        if status is not None:
            self._marker = status

    def status(self) -> CodeStatus:
        """The innermost explicit word wins: "Expired" under "Active Codes" is expired."""
        if self._marker is not None:
            return self._marker
        for _, status in reversed(self._stack):
            if status is not None:
                return status
        return CodeStatus.UNKNOWN


def looks_like_code(token: str) -> bool:
    """Tell "BlazeToNatlan" or "5SKXWYSCPEVR" from an ordinary word such as "Characters"."""
    if token.lower() in BRANDS:
        return False  # "Game8", "HoYoLAB": the site's or a company's name
    capitals = sum(1 for char in token if char.isupper())
    return any(char.isdigit() for char in token) or token.isupper() or capitals >= 2


def split_codes(text: str) -> list[str]:
    """The candidate codes of one cell: "A;B", "A / B", "A<br>B", "A (NA only)"."""
    pieces = []
    for piece in _CODE_SEPARATORS.split(text):
        piece = without_brackets(piece).strip().strip("'\"`*:.")
        if piece:
            pieces.append(piece.strip())
    return pieces


def without_brackets(text: str) -> str:
    """The text with every "(...)" and "[...]" taken out (the first closing ends each).

    Written out rather than as a pattern, which would read on from every unclosed "(" to the
    end of the text: a run of them cost the square of its length. Here each character is
    looked at a bounded number of times, and an opening that finds no closing ends the search
    for that kind of bracket (no later one can close either).
    """
    closing_of = dict(_BRACKETS)
    next_open = {opening: text.find(opening) for opening in closing_of}
    out: list[str] = []
    pos = 0
    while True:
        for opening, at in list(next_open.items()):
            if 0 <= at < pos:
                at = next_open[opening] = text.find(opening, pos)
            if at < 0:
                del next_open[opening]
        if not next_open:
            break
        opening = min(next_open, key=next_open.__getitem__)
        start = next_open[opening]
        end = text.find(closing_of[opening], start + 1)
        if end < 0:
            del next_open[opening]
            continue
        out.append(text[pos:start])
        pos = end + 1
    out.append(text[pos:])
    return "".join(out)
