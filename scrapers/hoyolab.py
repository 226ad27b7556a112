"""HoYoLAB's livestream code endpoint: the official codes, present only around livestreams.

The envelope is `{"retcode": 0, "message": "OK", "data": {"modules": [...]}}`; a module may
carry `exchange_group.bonuses[]`, each with `exchange_code`, `code_status` ("ON" when usable),
`offline_at` (unix seconds) and `icon_bonuses[] {bonus_num, icon_url}`. The API names no
reward, only its icon, so items carry the amount and the icon and an empty name, and the
rewards text stays empty rather than showing bare numbers.
"""

from __future__ import annotations

import json
from typing import Any

from bot.core.domain import CodeStatus, Game, RewardItem, ScrapedCode, SourceConfig
from bot.core.rewards import MAX_ITEMS, icon_url
from scrapers.base import (
    Fetched,
    Fetcher,
    SourceChanged,
    SourceRejected,
    Validators,
    decode_text,
)
from scrapers.codelist import CodeList, check_size, shielded
from scrapers.dates import from_unix

# The endpoint answers only requests that say they come from the HoYoLAB web client.
HEADERS = {
    "x-rpc-client_type": "4",
    "x-rpc-language": "en-us",
    "Referer": "https://www.hoyolab.com/",
    "Origin": "https://www.hoyolab.com",
    "Accept": "application/json",
}


async def fetch(fetcher: Fetcher, source: SourceConfig, validators: Validators) -> Fetched:
    """GET with the web client's headers; an error envelope is a refusal, not a layout change."""
    fetched = await fetcher.get(source.url, validators=validators, headers=dict(HEADERS))
    if fetched.body is not None:
        refusal = _refusal(fetched.body)
        if refusal is not None:
            raise SourceRejected(refusal)
    return fetched


@shielded("hoyolab")
def parse(body: bytes, game: Game, source: SourceConfig) -> list[ScrapedCode]:
    check_size("hoyolab", body)
    try:
        envelope = json.loads(decode_text(body))
    except ValueError as exc:
        raise SourceChanged("hoyolab: the response is not JSON") from exc
    modules = _modules(envelope)
    codes = CodeList(game)
    for module in modules:
        if not isinstance(module, dict):
            continue
        group = module.get("exchange_group")
        if not isinstance(group, dict):
            continue  # other modules (banners, posts) and the empty group between livestreams
        bonuses = group.get("bonuses") or []
        if not isinstance(bonuses, list):
            raise SourceChanged("hoyolab: exchange_group.bonuses is not a list")
        for bonus in bonuses:
            if isinstance(bonus, dict):
                _add_bonus(codes, bonus, group)
    return codes.result()


def _modules(envelope: Any) -> list[Any]:
    if not isinstance(envelope, dict) or "retcode" not in envelope:
        raise SourceChanged("hoyolab: no retcode envelope")
    retcode = envelope.get("retcode")
    if retcode != 0:
        message = str(envelope.get("message", ""))[:200]
        raise SourceChanged(f"hoyolab: retcode {str(retcode)[:20]}: {message}")
    data = envelope.get("data")
    if not isinstance(data, dict):
        raise SourceChanged("hoyolab: data is missing")
    modules = data.get("modules")
    if modules is None:
        raise SourceChanged("hoyolab: data.modules is missing")
    if not isinstance(modules, list):
        raise SourceChanged("hoyolab: data.modules is not a list")
    return modules


def _add_bonus(codes: CodeList, bonus: dict[str, Any], group: dict[str, Any]) -> None:
    code = bonus.get("exchange_code")
    if not isinstance(code, str):
        return
    # "ON" is the only value known to mean usable; livestream codes are published before they
    # work, so any other value says nothing certain about expiry.
    status = CodeStatus.ACTIVE if bonus.get("code_status") == "ON" else CodeStatus.UNKNOWN
    items = _items(bonus.get("icon_bonuses"))
    codes.add(
        code,
        status=status,
        items=items,
        expires_at=from_unix(bonus.get("offline_at")) or from_unix(group.get("offline_at")),
        server="global",
    )


def _items(icon_bonuses: Any) -> tuple[RewardItem, ...]:
    if not isinstance(icon_bonuses, list):
        return ()
    items: list[RewardItem] = []
    for entry in icon_bonuses[:MAX_ITEMS]:
        if not isinstance(entry, dict):
            continue
        amount = entry.get("bonus_num")
        if isinstance(amount, str) and amount.isdigit():
            amount = int(amount)
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            amount = None
        icon = entry.get("icon_url")
        link = icon_url(icon) if isinstance(icon, str) else None
        items.append(RewardItem(name="", amount=amount, icon_url=link))
    return tuple(items)


def _refusal(body: bytes) -> str | None:
    """The API's own refusal ("retcode" not 0) as a message; None for anything else."""
    try:
        envelope = json.loads(decode_text(body))
    except (ValueError, RecursionError):
        return None
    if not isinstance(envelope, dict):
        return None
    retcode = envelope.get("retcode")
    if isinstance(retcode, int) and not isinstance(retcode, bool) and retcode != 0:
        return f"HoYoLAB retcode {retcode}: {str(envelope.get('message', ''))[:200]}"
    return None
