"""How a reward reads on every surface (site, feeds, Telegram, Discord): one format, one limit.

Every function takes the reader's `Words` (English when none is given): item names come
from the glossary in the reader's language and amounts carry the locale's separators.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.domain import MAX_REWARDS_LENGTH, CodeView, RewardItem
from bot.core.glossary import reward_name
from bot.core.language import Words, english
from bot.core.text import clip, one_line, web_url, without_links

# More items than this for one code is a parsing accident, not a reward.
MAX_ITEMS = 12
MAX_ICON_URL_LENGTH = 500
TIMES = "\u00d7"


def unnamed_item(words: Words | None = None) -> str:
    """How an item a source gives only as an icon and an amount (HoYoLAB) is called."""
    return (words or english())._("Reward")


def amount_text(amount: int, words: Words | None = None) -> str:
    """An amount as players read it: "×10,000", "×10.000", "×10 000"."""
    return f"{TIMES}{(words or english()).number(amount)}"


def item_text(name: str, amount: int | None, words: Words | None = None) -> str:
    """One item: "Primogem ×60", a bare name, or "Reward ×60" when only the amount is known."""
    words = words or english()
    name = name.strip()
    if name:
        name = reward_name(words, name)
    if amount is None:
        return name
    return f"{name or unnamed_item(words)} {amount_text(amount, words)}"


def items_text(items: Iterable[RewardItem], words: Words | None = None) -> str:
    """The item list as one bounded line: "Primogem ×60, Mora ×10,000"."""
    words = words or english()
    separator = words.pgettext("list separator", ", ")
    return clip(
        separator.join(t for t in (item_text(i.name, i.amount, words) for i in items) if t),
        MAX_REWARDS_LENGTH,
    )


def named_items(code: CodeView) -> bool:
    """Whether the source named every item: then the list reads in any language."""
    return bool(code.items) and all(i.name.strip() for i in code.items)


def rewards_text(code: CodeView, words: Words | None = None) -> str:
    """What a code gives, as plain text: in English the source's own words, else its item
    list; in another language the item list when the source named every item (names and
    numbers then read in that language), else the source's words."""
    words = words or english()
    if words.language.catalog and named_items(code):
        return items_text(code.items, words)
    text = one_line(without_links(code.rewards))
    if text:
        return clip(text, MAX_REWARDS_LENGTH)
    return items_text(code.items, words)


def icon_url(url: str | None) -> str | None:
    """An icon link kept only when it is a plain http(s) URL of a sane length."""
    return web_url(url, MAX_ICON_URL_LENGTH)
