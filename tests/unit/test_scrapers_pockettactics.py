"""Pocket Tactics scraper: the article's first list, the expired section, and layout changes."""

from __future__ import annotations

import pytest

from bot.core.domain import CodeStatus, RewardItem, ScrapedCode
from scrapers import pockettactics
from scrapers.base import SourceChanged
from tests.recorded import LOCAL_FIXTURES
from tests.unit.scraper_fixtures import by_code, game, source, statuses

PAGE = LOCAL_FIXTURES / "pockettactics" / "genshin_codes.html"

EXPECTED = {
    "FIXPTGS0001": "active",
    "FixturePTMixed": "active",
    "FIXPTGS0002": "active",
    "GENSHINGIFT": "active",
    "FIXPTOLD001": "expired",
    "FIXPTOLD002": "expired",
    "FIXPTOLD003": "expired",
    "FIXPTOLD004": "expired",
    "FIXPTOLD005": "expired",
}


def parse_html(html: str) -> list[ScrapedCode]:
    return pockettactics.parse(html.encode(), game("genshin"), source("pockettactics", "genshin"))


def test_golden_codes_and_statuses() -> None:
    codes = pockettactics.parse(
        PAGE.read_bytes(), game("genshin"), source("pockettactics", "genshin")
    )
    assert statuses(codes) == EXPECTED
    assert codes[0].code == "FIXPTGS0001"


def test_rewards_after_the_dash_are_read_with_spelled_out_amounts() -> None:
    codes = by_code(parse_html(PAGE.read_text(encoding="utf-8")))
    assert (
        codes["FIXPTGS0001"].rewards == "Primogems \u00d760, Adventurer\u2019s Experience \u00d75"
    )
    assert codes["FixturePTMixed"].items == (
        RewardItem("Primogems", 100),
        RewardItem("Mora", 30000),
    )


def test_bold_words_in_how_to_steps_and_lists_outside_the_article_are_not_codes() -> None:
    codes = by_code(parse_html(PAGE.read_text(encoding="utf-8")))
    assert not {"Settings", "Paimon", "Redeem", "NAVMENU2024", "SIDEBAR12345"} & set(codes)


def test_a_repeat_in_another_case_keeps_the_first_spelling() -> None:
    codes = parse_html(PAGE.read_text(encoding="utf-8"))
    assert [c.key for c in codes].count("FIXPTGS0001") == 1
    assert "fixptgs0001" not in by_code(codes)


def test_codes_under_a_livestream_heading_later_in_the_article_are_read() -> None:
    html = (
        "<div class='entry-content'><ul><li><strong>FIRSTLIST123</strong> - 60 Primogems</li></ul>"
        "<h2>Livestream codes</h2>"
        "<ul><li><strong>LIVESTREAM99</strong> \u2013 100 Primogems</li></ul></div>"
    )
    assert statuses(parse_html(html)) == {"FIRSTLIST123": "active", "LIVESTREAM99": "active"}


def test_a_first_list_under_an_expired_heading_is_expired() -> None:
    html = (
        "<div class='entry-content'><h2>Expired codes</h2>"
        "<ul><li>OLDCODE12345</li><li><strong>OLDCODE67890</strong></li></ul></div>"
    )
    codes = parse_html(html)
    assert {c.status for c in codes} == {CodeStatus.EXPIRED}
    assert len(codes) == 2


@pytest.mark.parametrize(
    ("html", "message"),
    [
        (
            "<div class='post-body'><ul><li><strong>MOVED12345</strong> - x</li></ul></div>",
            "no div.entry-content",
        ),
        ("<div class='entry-content'><p>No codes today.</p></div>", "no list in the article"),
        (
            "<div class='entry-content'><ul><li>MOVEDCODE123 is the code</li></ul></div>",
            "first list holds no codes",
        ),
        (
            "<div class='entry-content'><table><tr><td><strong>TABLECODE12</strong></td></tr>"
            "</table></div>",
            "no list in the article",
        ),
    ],
)
def test_a_changed_layout_is_source_changed(html: str, message: str) -> None:
    with pytest.raises(SourceChanged, match=message):
        parse_html(html)


def test_the_real_layout_renamed_is_source_changed() -> None:
    html = PAGE.read_text(encoding="utf-8").replace("entry-content", "article-body")
    with pytest.raises(SourceChanged):
        parse_html(html)
