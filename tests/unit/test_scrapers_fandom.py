"""Fandom scraper: wikitext rows, wikitables and rendered tables, on real and constructed pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.domain import CodeStatus, RewardItem, ScrapedCode
from scrapers import fandom
from scrapers.base import SourceChanged
from tests.recorded import LOCAL_FIXTURES, SHARED_FIXTURES, recorded
from tests.unit.scraper_fixtures import by_code, game, source, statuses

REAL_PARSE_TEXT = SHARED_FIXTURES / "fandom" / "genshin_promotional_code_parse_text.html"
PARSE_TEXT = LOCAL_FIXTURES / "fandom" / "genshin_promotional_code_parse_text.html"
GENSHIN_QUERY = LOCAL_FIXTURES / "fandom" / "genshin_promotional_code_query.json"
HSR_SLOTS = LOCAL_FIXTURES / "fandom" / "hsr_redemption_code_query_slots.json"
ZZZ_PARSE = LOCAL_FIXTURES / "fandom" / "zzz_redemption_code_parse_wikitext.json"
WUWA_V2 = LOCAL_FIXTURES / "fandom" / "wuwa_redemption_code_query_v2.json"

A, E = "active", "expired"

GOLDEN: list[tuple[Path, str, dict[str, str]]] = [
    # Real: the fixtures README lists these five, all under "Active Codes".
    (
        REAL_PARSE_TEXT,
        "genshin",
        {
            "2BJ64QRZ7RT8": A,
            "UIVIBUQM6Q8A": A,
            "UIVI13C8X156": A,
            "LEGEDILJKSGM": A,
            "YuanShen": A,
        },
    ),
    (
        PARSE_TEXT,
        "genshin",
        {
            "FIXFDA1B2C3D": A,
            "FIXFDE4F5G6H": A,
            "FIXFDJ7K8L9M": A,
            "FixtureFandomMixed": A,
            "YuanShen": A,
            "FIXFDOLD0001": E,
            "FIXFDOLD0002": E,
        },
    ),
    (
        GENSHIN_QUERY,
        "genshin",
        {
            "FIXGSA1B2C3D": A,
            "FIXGSE4F5G6H": A,
            "FIXGSJ7K8L9M": A,
            "FixtureMixedCase": A,
            "FIXGSN0P1Q2R": A,
            "FIXGSFOOT123": A,
            "YuanShen": A,
            "FIXGSBADDATE": A,
            "FIXGSOLD0001": E,
            "FIXGSOLD0002": E,
        },
    ),
    (
        HSR_SLOTS,
        "hsr",
        {
            "FIXHSRA1B2C": A,
            "FIXHSRD3E4F": A,
            "FIXHSRCN001": A,
            "STARRAILGIFT": A,
            "FIXHSROLD01": E,
            "FIXHSROLD02": E,
        },
    ),
    (
        ZZZ_PARSE,
        "zzz",
        {
            "FIXZZZA1B2C": A,
            "ZENLESSGIFT": A,
            "ZZZ01FIXTURE": A,
            "ZZZ02FIXTURE": A,
            "FIXZZZOLD01": E,
            "FIXZZZOLD02": E,
        },
    ),
    (
        WUWA_V2,
        "wuwa",
        {
            "FIXWUWA0001": A,
            "FIXWUWA0002": A,
            "FIXWUWAOLD1": E,
            "FIXWUWAOLD2": E,
            "FIXWUWAOLD3": E,
        },
    ),
]


# The recorded page's cases need ../shared; the constructed ones run everywhere.
CASES = [
    pytest.param(*case, id=case[0].name, marks=recorded if case[0] == REAL_PARSE_TEXT else ())
    for case in GOLDEN
]
RENDERED = [PARSE_TEXT, pytest.param(REAL_PARSE_TEXT, id="recorded", marks=recorded)]


def parse_file(path: Path, game_id: str) -> list[ScrapedCode]:
    return fandom.parse(path.read_bytes(), game(game_id), source("fandom", game_id))


def parse_text(text: str, game_id: str = "genshin") -> list[ScrapedCode]:
    return fandom.parse(text.encode(), game(game_id), source("fandom", game_id))


def wikitext_of(path: Path) -> str:
    kind, content = fandom.unwrap(path.read_text(encoding="utf-8"))
    assert kind == "wikitext"
    return content


@pytest.mark.parametrize(("path", "game_id", "expected"), CASES)
def test_golden_codes_and_statuses(path: Path, game_id: str, expected: dict[str, str]) -> None:
    assert statuses(parse_file(path, game_id)) == expected


@pytest.mark.parametrize(("path", "game_id", "expected"), CASES)
def test_every_expiry_is_an_aware_utc_datetime(
    path: Path, game_id: str, expected: dict[str, str]
) -> None:
    for code in parse_file(path, game_id):
        assert code.expires_at is None or code.expires_at.utcoffset() == UTC.utcoffset(None)


# --- rendered pages: the real one and a constructed one ------------------------------------


def test_constructed_rendered_page_reads_servers_item_boxes_and_durations() -> None:
    codes = by_code(parse_file(PARSE_TEXT, "genshin"))
    assert codes["YuanShen"].server == "cn"
    assert {c.server for name, c in codes.items() if name != "YuanShen"} == {"global"}
    assert codes["FIXFDE4F5G6H"].rewards == codes["FIXFDJ7K8L9M"].rewards
    first = codes["FIXFDA1B2C3D"]
    assert first.rewards == "Primogem \u00d760, Adventurer's Experience \u00d75"
    assert [(item.name, item.amount) for item in first.items] == [
        ("Primogem", 60),
        ("Adventurer's Experience", 5),
    ]
    assert all(item.icon_url and item.icon_url.startswith("https://") for item in first.items)
    assert codes["FIXFDE4F5G6H"].expires_at == datetime(2031, 11, 30, 23, 59, 59, tzinfo=UTC)
    assert first.expires_at is None  # "Valid: (indefinite)"
    assert codes["FixtureFandomMixed"].expires_at is None  # "Valid until: unknown"


@recorded
def test_rendered_page_marks_the_china_only_code_cn_and_the_rest_global() -> None:
    codes = by_code(parse_file(REAL_PARSE_TEXT, "genshin"))
    assert codes["YuanShen"].server == "cn"
    assert {c.server for name, c in codes.items() if name != "YuanShen"} == {"global"}


@recorded
def test_rendered_page_reads_two_codes_from_one_cell_with_the_same_rewards() -> None:
    codes = by_code(parse_file(REAL_PARSE_TEXT, "genshin"))
    assert codes["UIVIBUQM6Q8A"].rewards == codes["UIVI13C8X156"].rewards
    assert codes["UIVIBUQM6Q8A"].rewards.startswith("Mora \u00d710,000, Adventurer's Experience")


@recorded
def test_rendered_page_reads_item_boxes_with_names_amounts_and_icons() -> None:
    code = by_code(parse_file(REAL_PARSE_TEXT, "genshin"))["2BJ64QRZ7RT8"]
    assert code.rewards == "Primogem \u00d760, Adventurer's Experience \u00d75"
    assert [(item.name, item.amount) for item in code.items] == [
        ("Primogem", 60),
        ("Adventurer's Experience", 5),
    ]
    assert all(item.icon_url and item.icon_url.startswith("https://") for item in code.items)


@recorded
def test_rendered_valid_until_is_the_expiry_and_the_discovery_date_is_not() -> None:
    codes = by_code(parse_file(REAL_PARSE_TEXT, "genshin"))
    assert codes["LEGEDILJKSGM"].expires_at == datetime(2026, 9, 2, 23, 59, 59, tzinfo=UTC)
    assert codes["2BJ64QRZ7RT8"].expires_at is None
    assert codes["YuanShen"].expires_at is None  # "Valid: (indefinite)"


@pytest.mark.parametrize("page", RENDERED)
@pytest.mark.parametrize("version", [1, 2])
def test_parse_text_json_envelope_reads_like_the_bare_html(version: int, page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    text: object = {"*": html} if version == 1 else html
    body = json.dumps({"parse": {"title": "Promotional Code", "pageid": 10893, "text": text}})
    assert parse_text(body) == parse_file(page, "genshin")


@pytest.mark.parametrize("page", RENDERED)
def test_a_rendered_page_that_mentions_template_braces_is_still_read_as_html(page: Path) -> None:
    html = page.read_text(encoding="utf-8").replace(
        "<p>Codes can be claimed", "<p>Editors use {{Code Row}}. Codes can be claimed"
    )
    assert "{{Code Row}}" in html
    assert parse_text(html) == parse_file(page, "genshin")


# --- constructed wikitext -----------------------------------------------------------------


def test_row_rewards_become_text_and_items() -> None:
    code = by_code(parse_file(GENSHIN_QUERY, "genshin"))["FIXGSA1B2C3D"]
    assert code.rewards == "Primogem \u00d760, Adventurer's Experience \u00d75"
    assert code.items == (RewardItem("Primogem", 60), RewardItem("Adventurer's Experience", 5))


def test_several_codes_in_one_row_each_get_the_row() -> None:
    codes = by_code(parse_file(GENSHIN_QUERY, "genshin"))
    assert codes["FIXGSE4F5G6H"].rewards == codes["FIXGSJ7K8L9M"].rewards
    assert codes["FIXGSE4F5G6H"].items[0] == RewardItem("Mora", 10_000)


def test_refs_and_footnotes_are_not_part_of_the_code() -> None:
    codes = by_code(parse_file(GENSHIN_QUERY, "genshin"))
    assert "FIXGSN0P1Q2R" in codes
    assert "FIXGSFOOT123" in codes


def test_notacode_rows_commented_examples_and_prose_are_skipped() -> None:
    codes = by_code(parse_file(GENSHIN_QUERY, "genshin"))
    assert "PRIMEGAMING1" not in codes
    assert "EXAMPLE1CODE" not in codes
    assert "GENSHINPROMO" not in codes


def test_china_only_row_is_kept_and_marked_cn() -> None:
    assert by_code(parse_file(GENSHIN_QUERY, "genshin"))["YuanShen"].server == "cn"
    assert by_code(parse_file(HSR_SLOTS, "hsr"))["FIXHSRCN001"].server == "cn"


def test_regional_server_columns_count_as_global() -> None:
    codes = by_code(parse_file(GENSHIN_QUERY, "genshin"))
    assert codes["FIXGSN0P1Q2R"].server == "global"  # "America"
    assert by_code(parse_file(HSR_SLOTS, "hsr"))["FIXHSRA1B2C"].server == "global"  # "A"


def test_expiry_dates_times_and_words() -> None:
    codes = by_code(parse_file(GENSHIN_QUERY, "genshin"))
    assert codes["FixtureMixedCase"].expires_at == datetime(2026, 9, 2, 3, 59, 59, tzinfo=UTC)
    assert codes["FIXGSN0P1Q2R"].expires_at == datetime(2026, 9, 2, 23, 59, 59, tzinfo=UTC)
    assert codes["FIXGSE4F5G6H"].expires_at is None  # "unknown"
    assert codes["YuanShen"].expires_at is None  # "indef"
    assert codes["FIXGSBADDATE"].expires_at is None  # unreadable words
    assert codes["FIXGSOLD0002"].status is CodeStatus.EXPIRED  # "exp" instead of a date


def test_expiry_with_a_utc_offset_is_converted_to_utc() -> None:
    code = by_code(parse_file(ZZZ_PARSE, "zzz"))["FIXZZZOLD01"]
    assert code.expires_at == datetime(2026, 6, 14, 3, 59, tzinfo=UTC)


def test_a_code_listed_twice_keeps_its_first_spelling_and_status() -> None:
    codes = parse_file(GENSHIN_QUERY, "genshin")
    keys = [code.key for code in codes]
    assert keys.count("FIXGSA1B2C3D") == 1
    first = by_code(codes)["FIXGSA1B2C3D"]
    assert first.status is CodeStatus.ACTIVE
    assert "fixgsa1b2c3d" not in by_code(codes)


def test_mixed_case_codes_keep_their_case() -> None:
    assert "FixtureMixedCase" in by_code(parse_file(GENSHIN_QUERY, "genshin"))


def test_comment_markers_switch_between_active_and_expired() -> None:
    codes = by_code(parse_file(HSR_SLOTS, "hsr"))
    assert codes["STARRAILGIFT"].status is CodeStatus.ACTIVE
    assert codes["FIXHSROLD01"].status is CodeStatus.EXPIRED
    assert "BAD CODE" not in codes


def test_wikitable_discovery_date_is_not_an_expiry() -> None:
    codes = by_code(parse_file(WUWA_V2, "wuwa"))
    assert codes["FIXWUWA0001"].expires_at == datetime(2026, 9, 1, 23, 59, 59, tzinfo=UTC)
    assert codes["FIXWUWA0002"].expires_at is None
    assert codes["FIXWUWA0001"].rewards == "Astrite \u00d750, Shell Credit \u00d710,000"


@pytest.mark.parametrize("path", [GENSHIN_QUERY, HSR_SLOTS, ZZZ_PARSE, WUWA_V2])
def test_raw_wikitext_reads_like_the_api_json(path: Path) -> None:
    game_id = {GENSHIN_QUERY: "genshin", HSR_SLOTS: "hsr", ZZZ_PARSE: "zzz", WUWA_V2: "wuwa"}[path]
    assert parse_text(wikitext_of(path), game_id) == parse_file(path, game_id)


def test_rows_under_a_heading_that_says_nothing_have_unknown_status() -> None:
    text = "==Codes==\n{{Code Row|NEUTRAL12345|G|Primogem*60|2026-01-01|unknown}}\n"
    assert statuses(parse_text(text)) == {"NEUTRAL12345": "unknown"}


def test_a_page_with_the_row_templates_but_no_rows_has_no_codes() -> None:
    text = "==Active Codes==\n{{Code Row/Header}}\n{{Code Row/Footer}}\n"
    assert parse_text(text) == []


def test_codes_not_matching_the_game_pattern_are_dropped() -> None:
    long_code = "A" * 25
    text = f"==Active Codes==\n{{{{Code Row|{long_code}|G|x*1}}}}\n{{{{Code Row|AB12|G|x*1}}}}\n"
    assert parse_text(text) == []


def test_reward_text_from_the_page_is_bounded() -> None:
    rewards = ";".join(f"Item number {n} with a long name*{n}" for n in range(200))
    text = f"==Active Codes==\n{{{{Code Row|LONGREWARD1|G|{rewards}|2026-01-01|unknown}}}}\n"
    (code,) = parse_text(text)
    assert len(code.rewards) <= 300
    assert len(code.items) <= 20


# --- a changed page ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("==Active Codes==\n{{Promo Row|RENAMED12345|G|Primogem*60}}\n", "no code-row templates"),
        ("#REDIRECT [[Promotional Codes]]", "no code-row templates"),
        (
            json.dumps({"query": {"pages": {"-1": {"title": "Promotional Code", "missing": ""}}}}),
            "does not exist",
        ),
        (
            json.dumps({"error": {"code": "missingtitle", "info": "The page doesn't exist."}}),
            "API error missingtitle",
        ),
        (json.dumps({"parse": {"title": "Promotional Code"}}), "without wikitext or text"),
        (json.dumps({"query": {"pages": {"1": {"title": "X"}}}}), "without revisions"),
        (json.dumps({"batchcomplete": ""}), "neither a query nor a parse"),
        (json.dumps([1, 2, 3]), "not an object"),
        (json.dumps({"parse": {"wikitext": {"*": 42}}}), "holds no text"),
    ],
)
def test_a_changed_page_or_response_is_source_changed(body: str, message: str) -> None:
    with pytest.raises(SourceChanged, match=message):
        parse_text(body)


@pytest.mark.parametrize("page", RENDERED)
def test_a_rendered_table_without_a_code_column_is_source_changed(page: Path) -> None:
    html = page.read_text(encoding="utf-8").replace("<th>Code\n", "<th>Voucher\n")
    with pytest.raises(SourceChanged, match="no table with a Code column"):
        parse_text(html)


@pytest.mark.parametrize("page", RENDERED)
def test_a_rendered_page_that_moved_its_rows_out_of_tables_is_source_changed(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    for tag in ("table", "tbody", "tr", "td", "th"):
        html = html.replace(f"<{tag}", "<div").replace(f"</{tag}>", "</div>")
    with pytest.raises(SourceChanged):
        parse_text(html)
