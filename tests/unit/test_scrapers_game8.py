"""Game8 scraper: a constructed guide, the three real saved guides (2024), hand-made pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.domain import CodeStatus, ScrapedCode
from scrapers import game8
from scrapers.base import SourceChanged
from tests.recorded import LOCAL_FIXTURES, SHARED_FIXTURES, recorded
from tests.unit.scraper_fixtures import by_code, codes_with, game, source

CONSTRUCTED = LOCAL_FIXTURES / "editorial" / "game8_genshin_codes.html"
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
        CONSTRUCTED,
        "genshin",
        first="FIXG8A1B2C3D",
        active=names(
            "FIXG8A1B2C3D FixtureMixedG8 FIXG8E4F5G6H FIXG8NOLINK1 GENSHINGIFT FIXG8COPY001 "
            "FIXG8LIVE001 FIXG8CNONLY1"
        ),
        expired_count=7,
        expired_sample=names("FIXG8LIVE002 FIXG8OLD0003 GENSHINIMPACTRIVALS31 FIXG8OLDLIVE"),
    ),
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


# The recorded pages' cases need ../shared; the constructed one runs everywhere.
CASES = [
    pytest.param(g, id=g.path.name, marks=() if g.path == CONSTRUCTED else recorded)
    for g in GOLDEN
]


def parse_file(path: Path, game_id: str) -> list[ScrapedCode]:
    return game8.parse(path.read_bytes(), game(game_id), source("game8", game_id))


def parse_html(html: str, game_id: str = "genshin") -> list[ScrapedCode]:
    return game8.parse(html.encode(), game(game_id), source("game8", game_id))


@pytest.mark.parametrize("golden", CASES)
def test_golden_codes_and_statuses(golden: Golden) -> None:
    codes = parse_file(golden.path, golden.game)
    assert codes[0].code == golden.first
    assert codes_with(codes, "active") == golden.active
    assert len(codes_with(codes, "expired")) == golden.expired_count
    assert golden.expired_sample <= codes_with(codes, "expired")
    assert codes_with(codes, "unknown") == set()


@pytest.mark.parametrize("golden", CASES)
def test_every_code_matches_the_game_and_appears_once(golden: Golden) -> None:
    codes = parse_file(golden.path, golden.game)
    assert all(game(golden.game).matches(code.code) for code in codes)
    assert len({code.key for code in codes}) == len(codes)


@recorded
def test_the_first_active_code_of_each_page_is_the_latest_code() -> None:
    # As the fixtures README states for the saved pages.
    assert sorted(codes_with(parse_file(ZZZ, "zzz"), "active"))[1] == "ZENLESSGIFT"
    firsts = [
        next(c.code for c in parse_file(path, game_id) if c.status is CodeStatus.ACTIVE)
        for path, game_id in ((GENSHIN, "genshin"), (HSR, "hsr"), (ZZZ, "zzz"))
    ]
    assert firsts == ["DT4BZD5RT5U9", "BKWHQ9B3G7T1M", "ZENLESSGIFT"]


@recorded
def test_livestream_codes_marked_expired_are_expired_and_keep_their_server() -> None:
    codes = by_code(parse_file(GENSHIN, "genshin"))
    assert codes["2SMTYV59TLFD"].status is CodeStatus.EXPIRED
    assert codes["2SMTYV59TLFD"].server == "global"
    assert codes["XX3PD82ZYDGN"].status is CodeStatus.EXPIRED
    assert codes["XX3PD82ZYDGN"].server == "cn"


@recorded
def test_livestream_codes_without_a_marker_stay_active() -> None:
    code = by_code(parse_file(HSR, "hsr"))["DB3FKWZ4NUG7"]
    assert code.status is CodeStatus.ACTIVE
    assert code.server == "global"  # listed under "EN Livestream Codes"


@recorded
def test_a_section_that_says_its_code_expired_expires_it_with_the_date() -> None:
    code = by_code(parse_file(ZZZ, "zzz"))["TOURDEINFERNO"]
    assert code.status is CodeStatus.EXPIRED
    # "It expired on September 14, 2024 at 11:59 AM (UTC+8)."
    assert code.expires_at == datetime(2024, 9, 14, 3, 59, tzinfo=UTC)


@recorded
def test_rewards_are_read_from_the_list_item() -> None:
    codes = by_code(parse_file(GENSHIN, "genshin"))
    assert codes["DT4BZD5RT5U9"].rewards == "Primogem \u00d760, Adventurer's Experience \u00d75"
    hsr = by_code(parse_file(HSR, "hsr"))
    assert hsr["BKWHQ9B3G7T1M"].rewards == (
        "Traveler's Guide \u00d73, Immortal's Delight \u00d73, Credit \u00d720,000"
    )
    assert hsr["YUNLISNACK"].rewards == "Traveler's Guide \u00d73, Berrypheasant Skewers \u00d76"


@recorded
def test_two_codes_in_one_item_share_its_rewards() -> None:
    codes = by_code(parse_file(ZZZ, "zzz"))
    assert (
        codes["ZZZTVCM"].rewards
        == codes["ZZZ2024"].rewards
        == "Polychrome \u00d750, Denny \u00d76,000"
    )


@recorded
def test_a_code_wrapped_onto_two_lines_in_one_cell_is_one_code() -> None:
    codes = by_code(parse_file(GENSHIN, "genshin"))
    assert "FANRONGCHANGSHENG" in codes
    assert "FANRONG" not in codes
    # 21 characters: longer than most codes, still one.
    assert "GENSHINIMPACTRIVALS23" in codes


@recorded
def test_region_notes_in_a_code_cell_are_not_codes() -> None:
    codes = by_code(parse_file(GENSHIN, "genshin"))
    assert "GENSHIN0928A" in codes
    assert not any("Asia" in code or "Only" in code for code in codes)


@recorded
def test_how_to_steps_and_guide_links_are_not_codes() -> None:
    found = {code.code.lower() for code in parse_file(HSR, "hsr")}
    assert not found & {"select", "official", "redemption", "characters", "version"}


# --- the constructed guide: the same cases without ../shared ------------------------------


def test_constructed_livestream_codes_keep_their_mark_server_and_deadline() -> None:
    codes = by_code(parse_file(CONSTRUCTED, "genshin"))
    live, marked, china = codes["FIXG8LIVE001"], codes["FIXG8LIVE002"], codes["FIXG8CNONLY1"]
    assert (live.status, live.server) == (CodeStatus.ACTIVE, "global")
    assert (marked.status, marked.server) == (CodeStatus.EXPIRED, "global")
    assert china.server == "cn"
    # "valid until November 30, 2031 at 11:59 PM (UTC+8)"
    assert live.expires_at == datetime(2031, 11, 30, 15, 59, tzinfo=UTC)


def test_constructed_section_that_says_it_expired_gives_the_date() -> None:
    code = by_code(parse_file(CONSTRUCTED, "genshin"))["FIXG8OLDLIVE"]
    assert code.status is CodeStatus.EXPIRED
    assert code.expires_at == datetime(2031, 10, 14, 3, 59, tzinfo=UTC)


def test_constructed_rewards_cells_links_and_copy_buttons() -> None:
    codes = by_code(parse_file(CONSTRUCTED, "genshin"))
    assert codes["FIXG8A1B2C3D"].rewards == "Primogem \u00d760, Adventurer's Experience \u00d75"
    assert codes["FIXG8NOLINK1"].rewards == "Hero's Wit \u00d75"
    assert codes["FIXG8OLD0002"].rewards == codes["FIXG8OLD0003"].rewards
    assert "GENSHINIMPACTRIVALS31" in codes
    assert "GENSHINIMPACT" not in codes
    assert "FIXG8OLDASIA" in codes
    assert not any("Asia" in code or "Only" in code for code in codes)
    assert codes["FIXG8COPY001"].status is CodeStatus.ACTIVE


def test_constructed_how_to_steps_and_sidebar_are_not_codes() -> None:
    found = {code.code.lower() for code in parse_file(CONSTRUCTED, "genshin")}
    assert not found & {"select", "official", "redemption", "settings", "1dehya", "dehya"}


def test_constructed_page_cut_off_or_unwrapped() -> None:
    html = CONSTRUCTED.read_text(encoding="utf-8")
    with pytest.raises(SourceChanged):
        parse_html(html[: html.index("FIXG8A1B2C3D") - 200])
    unwrapped = parse_html(html.replace("archive-style-wrapper", "renamed-wrapper"))
    assert unwrapped[0].code == "FIXG8A1B2C3D"


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
    """The same article with its lists, tables, redeem links and copy buttons made plain."""
    html = re.sub(r"<(/?)(?:ol|ul|li|table|tr|td|th|tbody)\b", r"<\1div", html)
    html = re.sub(r"data-clipboard-text=\S*", "", html)
    return re.sub(r"href=\S*code=\S*", "href=#", html)


@pytest.mark.parametrize("golden", CASES)
def test_a_page_whose_lists_and_tables_are_gone_is_source_changed(golden: Golden) -> None:
    html = without_code_markup(golden.path.read_text(encoding="utf-8"))
    with pytest.raises(SourceChanged, match="no code lists"):
        parse_html(html, golden.game)


@recorded
def test_a_page_cut_off_before_its_first_code_is_source_changed() -> None:
    html = GENSHIN.read_text(encoding="utf-8")
    cut = html[: html.index("DT4BZD5RT5U9") - 200]
    with pytest.raises(SourceChanged):
        parse_html(cut)


@recorded
def test_a_page_without_the_article_wrapper_is_read_from_the_body() -> None:
    html = GENSHIN.read_text(encoding="utf-8").replace("archive-style-wrapper", "renamed-wrapper")
    codes = parse_html(html)
    assert codes[0].code == "DT4BZD5RT5U9"
    assert len(codes) >= 108
