"""Game8 scraper: the three real saved guides (September 2024) and small hand-made pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.domain import CodeStatus, ScrapedCode
from scrapers import game8
from scrapers.base import SourceChanged
from tests.unit.scraper_fixtures import SHARED_FIXTURES, by_code, codes_with, game, source

EDITORIAL = SHARED_FIXTURES / "editorial"
GENSHIN = EDITORIAL / "game8_genshin_codes_v5.0.html"
HSR = EDITORIAL / "game8_hsr_codes_v2.5.html"
ZZZ = EDITORIAL / "game8_zzz_codes_v1.2.html"


def names(text: str) -> frozenset[str]:
    return frozenset(text.split())


@dataclass(frozen=True)
class Golden:
    path: Path
    game: str
    first: str
    active: frozenset[str]
    expired_count: int
    expired_sample: frozenset[str]


GOLDEN = [
    Golden(
        GENSHIN,
        "genshin",
        first="DT4BZD5RT5U9",
        active=names(
            "DT4BZD5RT5U9 BlazeToNatlan HHFP3517D3UN KEQES9R79R49 EFCI18V69I74 5SKXWYSCPEVR "
            "5A2WEGTVPXFV TTKEXYBCNWFH GENSHINGIFT"
        ),
        expired_count=100,
        expired_sample=names(
            "2SMTYV59TLFD XX3PD82ZYDGN NAJEWZTD7XD5 GENSHINSUMMERNIGHT FANRONGCHANGSHENG "
            "GenshinZHB30 GENSHIN0928A GENSHINMHY0O GENSHINIMPACTRIVALS23"
        ),
    ),
    Golden(
        HSR,
        "hsr",
        first="BKWHQ9B3G7T1M",
        active=names(
            "BKWHQ9B3G7T1M HJSZQ4C8H2F6W NOHOTFOODPLEASE FeixiaoFiles CM25RWG44W62 "
            "XRPTL1P7K5H8W AA2G7664C2RX STARRAILGIFT DB3FKWZ4NUG7 NB2W2XZ46VJT "
            "2BKWKEHL6DJX"
        ),
        expired_count=77,
        expired_sample=names("YUNLISNACK 3S3XKXZ5NU27 HSR1YEAR 0206PENACONY"),
    ),
    Golden(
        ZZZ,
        "zzz",
        first="TOURDEINFERNO",
        active=frozenset({"ZENLESSGIFT", "BANDP43VWC7H"}),
        expired_count=13,
        expired_sample=names(
            "TOURDEINFERNO ZZZFREE100 ZZZTVCM ZZZ2024 XTNDQAS44985 USNC9SB4499R NS6U9TTLM6AV "
            "NB6D9SB4MPSZ 4BPDRBT459RH ZZZHOYOLAB KANURBT5MQ8D ZENLESSLAUNCH CATCHABOO"
        ),
    ),
]


def parse_file(path: Path, game_id: str) -> list[ScrapedCode]:
    return game8.parse(path.read_bytes(), game(game_id), source("game8", game_id))


def parse_html(html: str, game_id: str = "genshin") -> list[ScrapedCode]:
    return game8.parse(html.encode(), game(game_id), source("game8", game_id))


@pytest.mark.parametrize("golden", GOLDEN, ids=[g.path.name for g in GOLDEN])
def test_golden_codes_and_statuses(golden: Golden) -> None:
    codes = parse_file(golden.path, golden.game)
    assert codes[0].code == golden.first
    assert codes_with(codes, "active") == golden.active
    assert len(codes_with(codes, "expired")) == golden.expired_count
    assert golden.expired_sample <= codes_with(codes, "expired")
    assert codes_with(codes, "unknown") == set()


@pytest.mark.parametrize("golden", GOLDEN, ids=[g.path.name for g in GOLDEN])
def test_every_code_matches_the_game_and_appears_once(golden: Golden) -> None:
    codes = parse_file(golden.path, golden.game)
    assert all(game(golden.game).matches(code.code) for code in codes)
    assert len({code.key for code in codes}) == len(codes)


def test_the_first_active_code_of_each_page_is_the_latest_code() -> None:
    # As the fixtures README states for the saved pages.
    assert sorted(codes_with(parse_file(ZZZ, "zzz"), "active"))[1] == "ZENLESSGIFT"
    firsts = [
        next(c.code for c in parse_file(path, game_id) if c.status is CodeStatus.ACTIVE)
        for path, game_id in ((GENSHIN, "genshin"), (HSR, "hsr"), (ZZZ, "zzz"))
    ]
    assert firsts == ["DT4BZD5RT5U9", "BKWHQ9B3G7T1M", "ZENLESSGIFT"]


def test_livestream_codes_marked_expired_are_expired_and_keep_their_server() -> None:
    codes = by_code(parse_file(GENSHIN, "genshin"))
    assert codes["2SMTYV59TLFD"].status is CodeStatus.EXPIRED
    assert codes["2SMTYV59TLFD"].server == "global"
    assert codes["XX3PD82ZYDGN"].status is CodeStatus.EXPIRED
    assert codes["XX3PD82ZYDGN"].server == "cn"


def test_livestream_codes_without_a_marker_stay_active() -> None:
    code = by_code(parse_file(HSR, "hsr"))["DB3FKWZ4NUG7"]
    assert code.status is CodeStatus.ACTIVE
    assert code.server == "global"  # listed under "EN Livestream Codes"


def test_a_section_that_says_its_code_expired_expires_it_with_the_date() -> None:
    code = by_code(parse_file(ZZZ, "zzz"))["TOURDEINFERNO"]
    assert code.status is CodeStatus.EXPIRED
    # "It expired on September 14, 2024 at 11:59 AM (UTC+8)."
    assert code.expires_at == datetime(2024, 9, 14, 3, 59, tzinfo=UTC)


def test_rewards_are_read_from_the_list_item() -> None:
    codes = by_code(parse_file(GENSHIN, "genshin"))
    assert codes["DT4BZD5RT5U9"].rewards == "Primogem \u00d760, Adventurer's Experience \u00d75"
    hsr = by_code(parse_file(HSR, "hsr"))
    assert hsr["BKWHQ9B3G7T1M"].rewards == (
        "Traveler's Guide \u00d73, Immortal's Delight \u00d73, Credit \u00d720,000"
    )
    assert hsr["YUNLISNACK"].rewards == "Traveler's Guide \u00d73, Berrypheasant Skewers \u00d76"


def test_two_codes_in_one_item_share_its_rewards() -> None:
    codes = by_code(parse_file(ZZZ, "zzz"))
    assert (
        codes["ZZZTVCM"].rewards
        == codes["ZZZ2024"].rewards
        == "Polychrome \u00d750, Denny \u00d76,000"
    )


def test_a_code_wrapped_onto_two_lines_in_one_cell_is_one_code() -> None:
    codes = by_code(parse_file(GENSHIN, "genshin"))
    assert "FANRONGCHANGSHENG" in codes
    assert "FANRONG" not in codes
    # 21 characters: longer than most codes, still one.
    assert "GENSHINIMPACTRIVALS23" in codes


def test_region_notes_in_a_code_cell_are_not_codes() -> None:
    codes = by_code(parse_file(GENSHIN, "genshin"))
    assert "GENSHIN0928A" in codes
    assert not any("Asia" in code or "Only" in code for code in codes)


def test_how_to_steps_and_guide_links_are_not_codes() -> None:
    found = {code.code.lower() for code in parse_file(HSR, "hsr")}
    assert not found & {"select", "official", "redemption", "characters", "version"}


# --- hand-made pages ----------------------------------------------------------------------

PAGE = """<html><body><div class="archive-style-wrapper">
<h2 class='a-header--2'>Active Codes</h2>
{body}
</div></body></html>"""


def test_a_copy_button_value_is_a_code() -> None:
    html = PAGE.format(
        body="<ul><li class='a-listItem'>Redeem below</li></ul>"
        "<button class='js-copy-button' data-clipboard-text='COPYME12345'>Copy</button>"
        "<input class='copy-code' value='COPYINPUT99' readonly>"
    )
    assert {c.code: c.status for c in parse_html(html)} == {
        "COPYME12345": CodeStatus.ACTIVE,
        "COPYINPUT99": CodeStatus.ACTIVE,
    }


def test_a_redeem_link_outside_any_list_is_a_code() -> None:
    html = PAGE.format(
        body="<p>Use <a href='https://genshin.hoyoverse.com/en/gift?code=LINKONLY1234'>"
        "this code</a> today.</p>"
    )
    assert [c.code for c in parse_html(html)] == ["LINKONLY1234"]


def test_a_list_item_that_opens_with_a_code_but_has_no_link_is_read() -> None:
    html = PAGE.format(
        body="<ul><li class='a-listItem'><b>WUWAGIFT2024</b> - 50 Astrite</li>"
        "<li class='a-listItem'>Characters - see the tier list</li></ul>"
    )
    (code,) = parse_html(html, "wuwa")
    assert (code.code, code.rewards) == ("WUWAGIFT2024", "Astrite \u00d750")


def test_an_expired_heading_further_down_expires_only_its_own_list() -> None:
    html = PAGE.format(
        body="<ul><li class='a-listItem'>NEWCODE12345 - 60 Primogem</li></ul>"
        "<h3>List of Expired Codes</h3><p>These codes have expired.</p>"
        "<ul><li class='a-listItem'>OLDCODE12345 - 60 Primogem</li></ul>"
    )
    assert {c.code: str(c.status) for c in parse_html(html)} == {
        "NEWCODE12345": "active",
        "OLDCODE12345": "expired",
    }


# --- a changed page ----------------------------------------------------------------------


def without_code_markup(html: str) -> str:
    """The same article with its lists, tables and redeem links turned into plain blocks."""
    html = re.sub(r"<(/?)(?:ol|ul|li|table|tr|td|th|tbody)\b", r"<\1div", html)
    return re.sub(r"href=\S*code=\S*", "href=#", html)


@pytest.mark.parametrize("golden", GOLDEN, ids=[g.path.name for g in GOLDEN])
def test_a_page_whose_lists_and_tables_are_gone_is_source_changed(golden: Golden) -> None:
    html = without_code_markup(golden.path.read_text(encoding="utf-8"))
    with pytest.raises(SourceChanged, match="no code lists"):
        parse_html(html, golden.game)


def test_a_page_cut_off_before_its_first_code_is_source_changed() -> None:
    html = GENSHIN.read_text(encoding="utf-8")
    cut = html[: html.index("DT4BZD5RT5U9") - 200]
    with pytest.raises(SourceChanged):
        parse_html(cut)


def test_a_page_without_the_article_wrapper_is_read_from_the_body() -> None:
    html = GENSHIN.read_text(encoding="utf-8").replace("archive-style-wrapper", "renamed-wrapper")
    codes = parse_html(html)
    assert codes[0].code == "DT4BZD5RT5U9"
    assert len(codes) >= 108
