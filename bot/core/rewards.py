"""How a reward reads on every surface (site, feeds, Telegram, Discord): one format, one limit."""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.domain import MAX_REWARDS_LENGTH, CodeView, RewardItem
from bot.core.text import clip, one_line, web_url

# More items than this for one code is a parsing accident, not a reward.
MAX_ITEMS = 12
MAX_ICON_URL_LENGTH = 500
TIMES = "\u00d7"
# How an item a source gives only as an icon and an amount (HoYoLAB) is called in text.
UNNAMED_ITEM = "Reward"


def amount_text(amount: int) -> str:
    """An amount as players read it: "×10,000"."""
    return f"{TIMES}{amount:,}"


def item_text(name: str, amount: int | None) -> str:
    """One item: "Primogem ×60", a bare name, or "Reward ×60" when only the amount is known."""
    name = name.strip()
    if amount is None:
        return name
    return f"{name or UNNAMED_ITEM} {amount_text(amount)}"


def items_text(items: Iterable[RewardItem]) -> str:
    """The item list as one bounded line: "Primogem ×60, Mora ×10,000"."""
    return clip(
        ", ".join(t for t in (item_text(i.name, i.amount) for i in items) if t), MAX_REWARDS_LENGTH
    )


def rewards_text(code: CodeView) -> str:
    """What a code gives, as plain text: the source's own words, else its item list."""
    words = one_line(code.rewards)
    if words:
        return clip(words, MAX_REWARDS_LENGTH)
    return items_text(code.items)


def icon_url(url: str | None) -> str | None:
    """An icon link kept only when it is a plain http(s) URL of a sane length."""
    return web_url(url, MAX_ICON_URL_LENGTH)
