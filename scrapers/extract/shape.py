"""What a string looks like: finding code-shaped tokens in text and judging their shape."""

from __future__ import annotations

import itertools
import re
from enum import Enum

from bot.core.domain import MAX_CODE_LENGTH, Game
from scrapers.extract.games import GameScope
from scrapers.extract.vocabulary import BRANDS, camel_parts, is_word
from scrapers.rewards import parse_items

# Runs of letters and digits, joined by the characters that glue identifiers, file names and
# slugs together. A glued run ("GACHA_TYPE_UP", "style.css", "code-item") is one token: it
# either matches the game's pattern whole or is not a code; it is never split.
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-_.'’][A-Za-z0-9]+)*")

# Characters that, touching a token, make it part of something else: a handle (@x), a hashtag
# or colour (#x), a path or URL (/x, x/), a CSS selector (.x), a parameter (x=, =x), a
# percent-escape (%2F), a function call (x().
_BAD_BEFORE = frozenset("@#$%&/\\=.~^")
_NUMBERED = re.compile(r"\d{1,3}\.(?=[A-Za-z0-9])")
_BAD_AFTER = frozenset("@/=(%~^$")
# A reward amount glued to the end of a code where a table lost its cell separators:
# "QWQXDDLOLOMO100 Stellar Jades, 5 Traveler's Guides".
_GLUED_AMOUNT = re.compile(r"[A-Za-z]([1-9]\d{0,5})$")
# How much of the line after such a token is read to see whether it lists rewards.
_GLUE_REACH = 160


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (
        0x2E80 <= code <= 0x9FFF  # CJK radicals, kana, ideographs
        or 0xAC00 <= code <= 0xD7AF  # Hangul
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
    )


def _glued(ch: str) -> bool:
    """A letter or digit touching a token makes it part of a longer word (é, ß, ...)."""
    return ch.isalnum() and not _is_cjk(ch)


def find_tokens(text: str, game: Game) -> list[tuple[int, int]]:
    """Spans of `text` that are whole tokens and match the game's pattern."""
    spans: list[tuple[int, int]] = []
    n = len(text)
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        numbered = _NUMBERED.match(text, start, end)
        listed = numbered is not None and _opens_line(text, start)
        if numbered is not None and listed:
            start = numbered.end()  # "1.GENSHINGIFT" opening a line: a list number, a code
        if end - start > MAX_CODE_LENGTH:
            continue
        before = text[start - 1] if start else " "
        after = text[end] if end < n else " "
        # Only a token opening its line: the lost separators were those of table rows.
        if after == " " and end - start > 6 and _opens_line(text, start):
            amount = _amount_glued(text, start, end)
            if amount is not None:
                end = amount
                after = text[end]  # a digit: the split is the lost separator
        elif _glued(after):
            continue
        if _glued(before):
            continue
        # "ends." then a token is fine; ".class" or "x.y" is not (a list number is).
        if (
            not listed
            and before in _BAD_BEFORE
            and (before != "." or (start >= 2 and not text[start - 2].isspace()))
        ):
            continue
        if after in _BAD_AFTER:
            continue
        if after == "\\" and text[end + 1 : end + 2] not in ('"', "'", "n", "r", "t"):
            continue
        if after == "." and end + 1 < n and text[end + 1].isalnum():
            continue
        if game.matches(text[start:end]):
            spans.append((start, end))
    return spans


def _amount_glued(text: str, start: int, end: int) -> int | None:
    """Where a reward amount glued to a token begins, when the rest of the line reads as that
    amount's reward and then more rewards ("AHAHA100 Stellar Jades, 50,000 Credits")."""
    glued = _GLUED_AMOUNT.search(text, start, end)
    if glued is None:
        return None
    rest = text[glued.start(1) : end + _GLUE_REACH]
    newline = rest.find("\n")
    items = parse_items(rest if newline < 0 else rest[:newline])
    first = glued.group(1)
    if (
        len(items) >= 2
        and all(item.amount is not None and item.name[:1].isalpha() for item in items)
        and items[0].amount == int(first)
    ):
        return glued.start(1)
    return None


def _opens_line(text: str, pos: int) -> bool:
    """Whether only a little indentation stands between `pos` and the start of its line (a
    bounded look back: hostile pages have lines megabytes long)."""
    back = text[max(0, pos - 8) : pos]
    newline = back.rfind("\n")
    if newline < 0 and pos > 8:
        return False
    return not back[newline + 1 :].strip()


class Shape(Enum):
    """The kinds of strings that match a code pattern, best first."""

    RANDOM = "random"  # DT4BZD5RT5U9: letters and digits interleaved, as generated codes are
    TAGGED = "tagged"  # STARRAILGIFT, HSRGALAXY23: capitals opening with the game's own name
    ALNUM = "alnum"  # FIREFLY0619, V75GIFT: words with digits
    MIXED_ALNUM = "mixed-alnum"  # IfaCacucu0507, Genshin52VY
    LOWER_ALNUM = "lower-alnum"  # genshin52x8399
    CAPS = "caps"  # GENSHINGIFT: capitals, not an ordinary word
    CAMEL = "camel"  # BlazeToNatlan
    CAMEL_WORDS = "camel-words"  # ThanksCaptain: every part an ordinary word
    HEXLIKE = "hexlike"  # 00FF7A: a colour or short hash in capitals
    CAPS_WORD = "caps-word"  # IMPORTANT: an ordinary word in capitals
    SCRAMBLED = "scrambled"  # dQw4w9WgXcQ: case flips like a video or database id
    TITLE = "title"  # Welcome: a word in prose
    LOWER = "lower"  # string
    BRAND = "brand"  # HoYoLAB, YouTube, a game's name
    REJECT = "reject"  # never a code: numbers, dates, placeholders, hashes, ids


SHAPE_POINTS: dict[Shape, int] = {
    Shape.RANDOM: 4,
    Shape.TAGGED: 3,
    Shape.ALNUM: 2,
    Shape.MIXED_ALNUM: 2,
    Shape.LOWER_ALNUM: 1,
    Shape.CAPS: 1,
    Shape.CAMEL: 1,
    Shape.CAMEL_WORDS: 0,
    Shape.HEXLIKE: -2,
    Shape.CAPS_WORD: -3,
    Shape.SCRAMBLED: -4,
    Shape.TITLE: -6,
    Shape.LOWER: -6,
    Shape.BRAND: -6,
    Shape.REJECT: -100,
}

# Shapes good enough to make a list of them look like a list of codes.
STRONG_SHAPES = frozenset(
    {Shape.RANDOM, Shape.TAGGED, Shape.ALNUM, Shape.MIXED_ALNUM, Shape.LOWER_ALNUM}
)

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
_REJECT_PATTERNS = (
    re.compile(r"\d{7,}"),  # UIDs, timestamps, post ids, dates (20260808...)
    re.compile(rf"^(?:{_MONTH}\d{{1,4}}|\d{{1,4}}{_MONTH}\d{{0,4}})$", re.I),  # Sep2024, 14sept
    re.compile(r"^(?:q[1-4]\d{2,4}|\d{2,4}q[1-4]|h[12]\d{4}|fy\d{2,4})$", re.I),  # quarters
    re.compile(r"^(?:[x×]\d+|\d+[x×])$", re.I),  # reward multipliers: x10000
    re.compile(
        r"^\d+(?:st|nd|rd|th|px|em|rem|pt|fps|hz|khz|mhz|ghz|kb|mb|gb|tb|ms|am|pm|mm|cm|km|kg"
        r"|k|m|p|min|mins|sec|secs|hrs|days)$",
        re.I,
    ),
    re.compile(r"^(?:bv1[0-9a-z]{9}|av\d+|sm\d+)$", re.I),  # Bilibili and Niconico video ids
    re.compile(r"^v?\d+(?:p\d+)+$", re.I),  # version-ish: 4p5p1
    re.compile(r"^(?:ver|version|v|patch|build|update)\d{1,4}[a-z]?$", re.I),
    re.compile(r"^(?:u|uid|id|no|nr|num)\d+$", re.I),
    re.compile(r"(.)\1{4,}", re.I),  # XXXXXX, 000000
    # Placeholders in documentation: OLDCODE123, YOURCODE, EXAMPLECODE1, CODE1234
    re.compile(
        r"^(?:old|new|your|my|some|sample|example|test|dummy|fake|promo|gift|redeem|the|a|any"
        r"|valid|invalid|expired|active|another|demo|secret)?codes?\d*$",
        re.I,
    ),
    re.compile(
        r"^(?:code|example|sample|test|demo|dummy|fake|placeholder|string)\w*?(?:123|1234|12345|xxx)$",
        re.I,
    ),
    re.compile(r"^(?:abcdef|abc123|abcd1234|qwerty|asdfgh|aaa111|xyz123)", re.I),
)
_REJECT = re.compile("|".join(f"(?:{p.pattern})" for p in _REJECT_PATTERNS), re.IGNORECASE)
# A game's name counted up ("GENSHIN123"): how examples are written, not codes.
_COUNTING = re.compile(r"(?:123|1234|12345|123456)$")
_LOWER_HEX = re.compile(r"^[0-9a-f]+$")
_UPPER_HEX = re.compile(r"^[0-9A-F]+$")
_PLACEHOLDER_WORDS = frozenset(
    {
        "string",
        "number",
        "integer",
        "boolean",
        "object",
        "undefined",
        "example",
        "sample",
        "placeholder",
        "yourcode",
        "promocode",
        "giftcode",
        "redeemcode",
        "lorem",
        "ipsum",
    }
)


def _transitions(text: str) -> int:
    kinds = ["d" if ch.isdigit() else "a" for ch in text]
    return sum(1 for a, b in itertools.pairwise(kinds) if a != b)


def _scrambled(text: str) -> bool:
    parts = camel_parts(text)
    singles = sum(1 for p in parts if len(p) == 1 and p.isalpha())
    return singles >= 2 or len(parts) / len(text) > 0.4


# What follows a game's name in its site and tool names, not in its codes.
_NOT_A_CODE_AFTER_NAME = frozenset(
    {"CODE", "CODES", "WIKI", "GUIDE", "GUIDES", "NEWS", "BOT", "API", "APP", "TOOL", "TOOLS"}
)


def _tagged(text: str, scope: GameScope) -> bool:
    """Capitals that open with the game's own name and go on for a word: STARRAILGIFT."""
    upper = text.upper()
    for prefix in scope.code_prefixes:
        rest = upper[len(prefix) :]
        if upper.startswith(prefix) and len(rest) >= 3 and rest not in _NOT_A_CODE_AFTER_NAME:
            return True
    return False


def classify(text: str, game: Game, scope: GameScope) -> Shape:
    """The shape of a string that already matches the game's pattern."""
    low = text.lower()
    if not any(ch.isalpha() for ch in text):
        return Shape.REJECT
    if low in _PLACEHOLDER_WORDS or _REJECT.search(text):
        return Shape.REJECT
    if _LOWER_HEX.match(text) and (any(ch.isdigit() for ch in text) or len(text) in (6, 8)):
        return Shape.REJECT  # colours and hashes: 0066cc, f8faff, dab394b1
    if low in scope.stopwords or low in BRANDS or scope.is_game_name(text):
        return Shape.BRAND
    counted = _COUNTING.search(text)
    if counted and scope.is_game_name(text[: counted.start()]):
        return Shape.REJECT  # GENSHIN123, STARRAIL1234: a placeholder in documentation
    has_digit = any(ch.isdigit() for ch in text)
    has_upper = any(ch.isupper() for ch in text)
    has_lower = any(ch.islower() for ch in text)
    if not has_lower and _tagged(text, scope):
        return Shape.TAGGED
    if has_digit:
        if _UPPER_HEX.match(text) and len(text) in (6, 8):
            return Shape.HEXLIKE
        if has_upper and has_lower:
            return Shape.SCRAMBLED if _scrambled(text) else Shape.MIXED_ALNUM
        if has_lower:
            return Shape.LOWER_ALNUM
        if len(text) >= 8 and _transitions(text) >= 2:
            return Shape.RANDOM
        return Shape.ALNUM
    if not has_lower:
        return Shape.CAPS_WORD if is_word(text) else Shape.CAPS
    if not has_upper:
        return Shape.LOWER
    if text[0].isupper() and text[1:].islower():
        return Shape.TITLE
    if text[0].islower():
        return Shape.SCRAMBLED  # codeTipText, refreshCode: a programmer's name, not a code
    if _scrambled(text):
        return Shape.SCRAMBLED
    parts = camel_parts(text)
    if any(p.lower() in BRANDS for p in parts) and len(parts) <= 2:
        return Shape.BRAND
    if all(is_word(p) for p in parts if len(p) > 2):
        return Shape.CAMEL_WORDS
    return Shape.CAMEL
