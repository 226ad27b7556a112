"""The Ennead aggregator's JSON: `{"active": [{"code", "rewards": [...]}], "inactive": [...]}`.

Older answers name the rewards `reward`, as a list or a single string.
"""

from __future__ import annotations

import json
from typing import Any

from bot.core.domain import CodeStatus, Game, ScrapedCode, SourceConfig
from scrapers.base import SourceChanged, decode_text, fetch_url
from scrapers.codelist import CodeList, check_size, shielded
from scrapers.rewards import rewards_from_text

_LISTS = (("active", CodeStatus.ACTIVE), ("inactive", CodeStatus.EXPIRED))


# A plain conditional GET; the registry hands the daemon this very function (scrapers/__init__).
fetch = fetch_url


@shielded("ennead")
def parse(body: bytes, game: Game, source: SourceConfig) -> list[ScrapedCode]:
    check_size("ennead", body)
    try:
        data = json.loads(decode_text(body))
    except ValueError as exc:
        raise SourceChanged("ennead: the response is not JSON") from exc
    if not isinstance(data, dict) or not any(isinstance(data.get(k), list) for k, _ in _LISTS):
        raise SourceChanged("ennead: no active or inactive list")
    codes = CodeList(game)
    for key, status in _LISTS:
        entries = data.get(key) or []
        if not isinstance(entries, list):
            raise SourceChanged(f"ennead: {key} is not a list")
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("code"), str):
                rewards, items = rewards_from_text(_reward_lines(entry))
                codes.add(entry["code"], status=status, rewards=rewards, items=items)
    return codes.result()


def _reward_lines(entry: dict[str, Any]) -> str:
    value = entry.get("rewards", entry.get("reward"))
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(str(item) for item in value[:50] if isinstance(item, str | int))
    return ""
