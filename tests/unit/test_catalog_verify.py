"""The catalog's `[games.<id>.verify]` tables: the redeem endpoint per game, checked on load."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.catalog import CatalogError, load_catalog, parse_catalog


def test_the_built_in_catalog_verifies_the_three_web_redeemable_games() -> None:
    games = load_catalog().games
    verifiable = {game_id for game_id, game in games.items() if game.verify is not None}
    assert verifiable == {"genshin", "hsr", "zzz"}
    genshin, hsr, zzz = (games[g].verify for g in ("genshin", "hsr", "zzz"))
    assert genshin is not None
    assert hsr is not None
    assert zzz is not None
    assert genshin.url.endswith("/common/apicdkey/api/webExchangeCdkey")
    assert (genshin.game_biz, genshin.method) == ("hk4e_global", "GET")
    assert (hsr.game_biz, hsr.method) == ("hkrpg_global", "POST")
    assert zzz.game_biz == "nap_global"
    assert games["zzz"].family == "ZZZ[0-9]{2}"
    assert games["genshin"].family is None


def catalog_with(verify: Any) -> dict[str, Any]:
    return {"games": {"g": {"name": "G", "pattern": "[A-Z0-9]{6,}", "verify": verify}}}


@pytest.mark.parametrize(
    ("verify", "says"),
    [
        ("https://x", "must be a table"),
        ({"game_biz": "b", "origin": "https://o"}, "verify.url is required"),
        ({"url": "https://u", "origin": "https://o"}, "verify.game_biz is required"),
        ({"url": "ftp://u", "game_biz": "b", "origin": "https://o"}, "http(s) URL"),
        (
            {"url": "https://u", "game_biz": "b", "origin": "https://o", "method": "PUT"},
            "GET or POST",
        ),
        ({"url": "https://u", "game_biz": "b", "origin": "https://o", "cookie": "x"}, "cookie"),
    ],
)
def test_a_bad_verify_table_is_a_clear_error(verify: Any, says: str) -> None:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(catalog_with(verify))
    assert says in str(caught.value)
    assert "games.g.verify" in str(caught.value)


def test_a_minimal_verify_table_takes_the_defaults() -> None:
    game = parse_catalog(
        catalog_with({"url": "http://127.0.0.1:1/x", "game_biz": "b", "origin": "https://o/"})
    ).game("g")
    assert game.verify is not None
    assert (game.verify.method, game.verify.lang, game.verify.lang_key) == ("GET", "en", "en-us")
    assert game.verify.origin == "https://o"


def test_a_family_that_is_not_a_regex_is_a_clear_error() -> None:
    raw = {"games": {"g": {"name": "G", "pattern": "[A-Z0-9]{6,}", "family": "("}}}
    with pytest.raises(CatalogError, match=r"games\.g\.family is not a regex"):
        parse_catalog(raw)
