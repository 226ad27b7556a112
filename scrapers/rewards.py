"""Reward text as sources write it ("60 Primogems and 5 Hero's Wit") to RewardItems and back."""

from __future__ import annotations

import re

from bot.core.domain import MAX_REWARD_NAME_LENGTH, MAX_REWARDS_LENGTH, RewardItem
from bot.core.rewards import MAX_ITEMS, icon_url, items_text
from bot.core.text import clip

# Spaces, hyphens, en and em dashes and colons around a piece of reward text.
_TRIM = " -\u2013\u2014:"

_SPACE = re.compile(r"\s+")
# Between items: commas (not the thousands separator in "10,000"), semicolons, bullets,
# plus signs, line breaks and a final "and". The spaces before a separator stay with the item
# (parse_item strips them): a leading \s* would be retried from every space of a long run.
_ITEM_SPLIT = re.compile(
    r"(?:(?<!\d),|,(?!\d{3}(?!\d))|[;\n・•+|]|\band\b)\s*(?:\band\b\s*)?", re.IGNORECASE
)
_AMOUNT = r"(?P<amount>\d{1,3}(?:,\d{3})+|\d+)"
# "Primogem x60" (with a times sign or a letter x), "Primogem*60", "Credit x20,000"; a letter x
# only after a space, so that a name ending in x ("Phoenix 3") is not cut.
_NAME_THEN_AMOUNT = re.compile(rf"^(?P<name>.+?)(?:\s+[xX]\s*|\s*[\u00d7*]\s*|\s+){_AMOUNT}$")
# "60 Primogems", "100x Stellar Jades", "50,000 x Credits"
_AMOUNT_THEN_NAME = re.compile(rf"^{_AMOUNT}\s*[xX\u00d7*]?\s+(?P<name>\D.*)$")
# Guides spell small amounts out: "five Adventurer's Experience".
_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "fifty": 50,
}
_WORD_THEN_NAME = re.compile(r"^(?P<word>[A-Za-z]+)\s+(?P<name>\S.*)$")
# Decorations that are not part of an item: "(new!)", "[1]", "NEW".
_NOISE = re.compile(r"\((?:new|expired|updated)!?\)|\[\d+\]|\bNEW!?$", re.IGNORECASE)


def clean_text(text: str) -> str:
    """Collapse whitespace and strip; web text arrives with tabs, newlines and nbsp."""
    return _SPACE.sub(" ", text.replace("\u00a0", " ")).strip()


def bounded(text: str, limit: int) -> str:
    """Untrusted text on one line, cut to `limit` characters, marking the cut."""
    return clip(clean_text(text), limit)


def parse_amount(text: str) -> int | None:
    digits = text.replace(",", "")
    if not digits.isdigit() or len(digits) > 12:
        return None
    return int(digits)


def parse_item(text: str, icon: str | None = None) -> RewardItem | None:
    """One item: "Primogem x60", "60 Primogems", or a bare name."""
    text = clean_text(_NOISE.sub("", text)).strip(_TRIM + ".()")
    if not text:
        return None
    name: str = text
    amount: int | None = None
    for pattern in (_NAME_THEN_AMOUNT, _AMOUNT_THEN_NAME):
        match = pattern.match(text)
        if match:
            name = match["name"].strip(_TRIM)
            amount = parse_amount(match["amount"])
            break
    else:
        spelled = _WORD_THEN_NAME.match(text)
        if spelled and spelled["word"].lower() in _NUMBER_WORDS:
            name, amount = spelled["name"], _NUMBER_WORDS[spelled["word"].lower()]
    if not name:
        return None
    return RewardItem(
        name=bounded(name, MAX_REWARD_NAME_LENGTH), amount=amount, icon_url=icon_url(icon)
    )


def parse_items(text: str) -> tuple[RewardItem, ...]:
    """Split a reward line into items; every piece that is not empty becomes one item."""
    items: list[RewardItem] = []
    for piece in _ITEM_SPLIT.split(text):
        item = parse_item(piece)
        if item is not None:
            items.append(item)
        if len(items) >= MAX_ITEMS:
            break
    return tuple(items)


def rewards_from_text(text: str) -> tuple[str, tuple[RewardItem, ...]]:
    """Rewards text and items from free text.

    When every piece reads as an item with an amount, the text is rewritten in one style so
    that the same code reads the same whichever source announced it; otherwise the source's
    own words are kept, since a half-understood rewrite would lose information.
    """
    if not text.strip():
        return "", ()
    items = parse_items(text)  # before whitespace is collapsed: line breaks separate items
    if items and all(item.amount is not None for item in items):
        return items_text(items), items
    return bounded(_NOISE.sub("", text), MAX_REWARDS_LENGTH), items
