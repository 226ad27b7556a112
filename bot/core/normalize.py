"""One source's codes made safe to store: valid for the game, global, deduplicated, bounded.

Nothing here does I/O; the pipeline feeds it plain data and writes what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from bot.core.domain import (
    MAX_REWARD_NAME_LENGTH,
    MAX_REWARDS_LENGTH,
    CodeStatus,
    Game,
    RewardItem,
    ScrapedCode,
)
from bot.core.rewards import MAX_ITEMS, icon_url
from bot.core.text import clip, one_line, without_links

# Servers whose codes cannot be redeemed on the global servers that codecast announces for.
REGIONAL_SERVERS = frozenset({"cn", "china", "mainland"})


def normalize(codes: Iterable[ScrapedCode], game: Game, now: datetime) -> list[ScrapedCode]:
    """One source's codes made safe to store: valid for the game, global, deduplicated.

    Within one source a code listed twice keeps its first spelling; if either listing says
    expired, it is expired. A passed expiry date is an explicit expiry.
    """
    by_key: dict[str, ScrapedCode] = {}
    for scraped in codes:
        code = scraped.code.strip()
        if not game.matches(code):
            continue
        if scraped.server and scraped.server.strip().lower() in REGIONAL_SERVERS:
            continue
        status = scraped.status
        if scraped.expires_at is not None and scraped.expires_at <= now:
            status = CodeStatus.EXPIRED
        cleaned = replace(
            scraped,
            code=code,
            status=status,
            rewards=clip(one_line(without_links(scraped.rewards)), MAX_REWARDS_LENGTH),
            items=tuple(
                RewardItem(
                    name=clip(one_line(without_links(item.name)), MAX_REWARD_NAME_LENGTH),
                    amount=item.amount,
                    icon_url=icon_url(item.icon_url),
                )
                for item in scraped.items[:MAX_ITEMS]
            ),
        )
        key = cleaned.key
        seen = by_key.get(key)
        if seen is None:
            by_key[key] = cleaned
        elif cleaned.status is CodeStatus.EXPIRED and seen.status is not CodeStatus.EXPIRED:
            by_key[key] = replace(seen, status=CodeStatus.EXPIRED)
    return list(by_key.values())
