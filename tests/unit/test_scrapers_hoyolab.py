"""HoYoLAB scraper: the livestream code envelope, and the headers its fetch sends."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.core.domain import CodeStatus, ScrapedCode
from scrapers import hoyolab
from scrapers.base import Fetcher, SourceChanged, SourceRejected, Validators
from tests.recorded import LOCAL_FIXTURES
from tests.unit.scraper_fixtures import by_code, game, source, statuses

FIXTURES = LOCAL_FIXTURES / "hoyolab"
LIVESTREAM = FIXTURES / "genshin_material_livestream.json"
BETWEEN = FIXTURES / "hsr_material_between_livestreams.json"
MIXED = FIXTURES / "zzz_material_mixed_status.json"
ERROR = FIXTURES / "error_retcode.json"
URL = "https://hoyolab.test/community/painter/wapi/circle/channel/guide/material?game_id=2"

GOLDEN: list[tuple[Path, str, dict[str, str]]] = [
    (
        LIVESTREAM,
        "genshin",
        {"FIXHL1A2B3C4D": "active", "FIXHL5E6F7G8H": "active", "FIXHL9J0K1L2M": "active"},
    ),
    (BETWEEN, "hsr", {}),
    (
        MIXED,
        "zzz",
        {"FIXHLZZZON01": "active", "FIXHLZZZOFF1": "unknown", "FIXHLZZZNEW1": "unknown"},
    ),
]


def parse_file(path: Path, game_id: str = "genshin") -> list[ScrapedCode]:
    return hoyolab.parse(path.read_bytes(), game(game_id), source("hoyolab", game_id))


def parse_json(data: Any) -> list[ScrapedCode]:
    return hoyolab.parse(json.dumps(data).encode(), game("genshin"), source("hoyolab", "genshin"))


@pytest.mark.parametrize(
    ("path", "game_id", "expected"), GOLDEN, ids=[path.name for path, _, _ in GOLDEN]
)
def test_golden_codes_and_statuses(path: Path, game_id: str, expected: dict[str, str]) -> None:
    assert statuses(parse_file(path, game_id)) == expected


def test_between_livestreams_there_are_no_codes_and_no_error() -> None:
    assert parse_file(BETWEEN, "hsr") == []
    assert parse_json({"retcode": 0, "message": "OK", "data": {"modules": []}}) == []


def test_rewards_carry_amounts_and_icons_but_no_invented_names() -> None:
    code = by_code(parse_file(LIVESTREAM))["FIXHL1A2B3C4D"]
    assert code.rewards == ""
    assert [(item.name, item.amount) for item in code.items] == [("", 100), ("", 10)]
    assert code.items[0].icon_url == "https://example.invalid/hoyolab-icons/primogem.png"


def test_offline_at_becomes_the_expiry_falling_back_to_the_group() -> None:
    codes = by_code(parse_file(MIXED, "zzz"))
    assert codes["FIXHLZZZON01"].expires_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert codes["FIXHLZZZNEW1"].expires_at == datetime(2026, 1, 2, tzinfo=UTC)
    assert by_code(parse_file(LIVESTREAM))["FIXHL9J0K1L2M"].expires_at == datetime(
        2026, 1, 1, tzinfo=UTC
    )


def test_only_on_means_active_and_other_states_are_unknown_not_expired() -> None:
    codes = by_code(parse_file(MIXED, "zzz"))
    assert codes["FIXHLZZZOFF1"].status is CodeStatus.UNKNOWN
    assert codes["FIXHLZZZNEW1"].status is CodeStatus.UNKNOWN


def test_duplicates_bad_codes_and_null_codes_are_dropped() -> None:
    codes = parse_file(MIXED, "zzz")
    assert [code.key for code in codes].count("FIXHLZZZON01") == 1
    assert by_code(codes)["FIXHLZZZON01"].items[0].amount == 300  # the first sighting wins
    assert "NOT A CODE" not in by_code(codes)


def test_official_codes_are_for_the_global_servers() -> None:
    assert {code.server for code in parse_file(LIVESTREAM)} == {"global"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"retcode": -502002, "message": "Invalid request", "data": None}, "retcode -502002"),
        ({"message": "OK", "data": {"modules": []}}, "no retcode envelope"),
        ({"retcode": 0, "message": "OK"}, "data is missing"),
        ({"retcode": 0, "message": "OK", "data": {"list": []}}, "modules is missing"),
        ({"retcode": 0, "message": "OK", "data": {"modules": {"a": 1}}}, "not a list"),
        (
            {"retcode": 0, "data": {"modules": [{"exchange_group": {"bonuses": "x"}}]}},
            "bonuses is not a list",
        ),
        ([{"exchange_code": "ABCDEF123"}], "no retcode envelope"),
    ],
)
def test_a_changed_or_refused_response_is_source_changed(data: Any, message: str) -> None:
    with pytest.raises(SourceChanged, match=message):
        parse_json(data)


def test_the_error_fixture_is_source_changed_in_parse() -> None:
    with pytest.raises(SourceChanged, match="Invalid request"):
        parse_file(ERROR)


def test_odd_values_inside_a_bonus_are_ignored_not_fatal() -> None:
    bonus = {
        "exchange_code": "ODDVALUES123",
        "code_status": "ON",
        "offline_at": "soon",
        "icon_bonuses": [
            {"bonus_num": "7", "icon_url": "javascript:alert(1)"},
            {"bonus_num": True, "icon_url": 5},
            "not an item",
        ],
    }
    data = {"retcode": 0, "data": {"modules": [{"exchange_group": {"bonuses": [bonus, 5]}}]}}
    (code,) = parse_json(data)
    assert code.expires_at is None
    assert [(item.amount, item.icon_url) for item in code.items] == [(7, None), (None, None)]


# --- fetch --------------------------------------------------------------------------------


def fetcher_for(handler: Callable[[httpx.Request], httpx.Response]) -> Fetcher:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return Fetcher(client, retries=0, backoff=0)


async def test_fetch_sends_the_web_client_headers() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=BETWEEN.read_bytes())

    fetched = await hoyolab.fetch(
        fetcher_for(handler), source("hoyolab", "genshin", URL), Validators()
    )
    assert fetched.body == BETWEEN.read_bytes()
    (request,) = seen
    assert request.headers["x-rpc-client_type"] == "4"
    assert request.headers["Referer"] == "https://www.hoyolab.com/"
    assert request.headers["Origin"] == "https://www.hoyolab.com"
    assert str(request.url) == URL


async def test_fetch_is_conditional_and_passes_not_modified_through() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["If-None-Match"] == '"v1"'
        assert request.headers["x-rpc-client_type"] == "4"
        return httpx.Response(304)

    fetched = await hoyolab.fetch(
        fetcher_for(handler), source("hoyolab", "genshin", URL), Validators(etag='"v1"')
    )
    assert fetched.not_modified


async def test_fetch_turns_an_error_envelope_into_a_refusal() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=ERROR.read_bytes())

    with pytest.raises(SourceRejected, match=r"retcode -502002: Invalid request"):
        await hoyolab.fetch(fetcher_for(handler), source("hoyolab", "genshin", URL), Validators())


async def test_fetch_leaves_garbage_for_parse_to_judge() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<html>maintenance</html>")

    fetched = await hoyolab.fetch(
        fetcher_for(handler), source("hoyolab", "genshin", URL), Validators()
    )
    assert fetched.body == b"<html>maintenance</html>"
