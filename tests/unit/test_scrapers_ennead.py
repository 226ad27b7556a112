"""Ennead aggregator scraper: active and inactive lists, old and new reward fields."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.core.domain import ScrapedCode
from scrapers import ennead
from scrapers.base import SourceChanged
from tests.recorded import LOCAL_FIXTURES
from tests.unit.scraper_fixtures import by_code, game, source, statuses

FIXTURES = LOCAL_FIXTURES / "ennead"


def parse_json(data: Any) -> list[ScrapedCode]:
    return ennead.parse(json.dumps(data).encode(), game("hsr"), source("ennead", "hsr"))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "starrail_codes.json",
            {
                "FIXENHSR001": "active",
                "FixEnneadMixed": "active",
                "STARRAILGIFT": "active",
                "FIXENHSROLD1": "expired",
            },
        ),
        ("starrail_codes_legacy.json", {"FIXENLEG001": "active", "FIXENLEGOLD": "expired"}),
    ],
)
def test_golden_codes_and_statuses(name: str, expected: dict[str, str]) -> None:
    body = (FIXTURES / name).read_bytes()
    assert statuses(ennead.parse(body, game("hsr"), source("ennead", "hsr"))) == expected


def test_reward_lists_and_legacy_reward_strings_become_items() -> None:
    body = (FIXTURES / "starrail_codes_legacy.json").read_bytes()
    codes = by_code(ennead.parse(body, game("hsr"), source("ennead", "hsr")))
    assert codes["FIXENLEG001"].rewards == "Stellar Jade \u00d730, Credit \u00d75,000"
    assert codes["FIXENLEGOLD"].rewards == "Credit \u00d720,000"


def test_empty_lists_are_no_codes() -> None:
    assert parse_json({"active": [], "inactive": []}) == []


@pytest.mark.parametrize(
    "data",
    [{"codes": []}, {"active": {"code": "X"}}, {"active": [], "inactive": "none"}, [1, 2]],
)
def test_a_changed_response_is_source_changed(data: Any) -> None:
    with pytest.raises(SourceChanged):
        parse_json(data)
