"""How the extractor judges a string's shape, finds tokens, and reads forgiving data."""

from __future__ import annotations

import pytest

from bot.core.catalog import load_catalog
from bot.core.domain import CodeStatus
from scrapers.extract.context import heading_status, is_label, keyword_adjacent, row_status
from scrapers.extract.games import GameScope, Scope
from scrapers.extract.jsonish import JUNK, data_literals, loads
from scrapers.extract.shape import Shape, classify, find_tokens
from scrapers.extract.sniff import Format, sniff
from scrapers.extract.urls import redeem_link

CATALOG = load_catalog()
GENSHIN = CATALOG.game("genshin")
HSR = CATALOG.game("hsr")
SCOPE = GameScope(GENSHIN)


def tokens(text: str) -> list[str]:
    return [text[a:b] for a, b in find_tokens(text, GENSHIN)]


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ("DT4BZD5RT5U9", Shape.RANDOM),
        ("FIREFLY0619", Shape.ALNUM),
        ("IfaCacucu0507", Shape.MIXED_ALNUM),
        ("genshin52x8399", Shape.LOWER_ALNUM),
        ("PROMEIA", Shape.CAPS),
        ("BlazeToNatlan", Shape.CAMEL),
        ("IMPORTANT", Shape.CAPS_WORD),
        ("REWARDS", Shape.CAPS_WORD),
        ("Welcome", Shape.TITLE),
        ("string", Shape.REJECT),
        ("HoYoLAB", Shape.BRAND),
        ("GENSHIN", Shape.BRAND),
        ("STARRAIL", Shape.BRAND),
        ("YouTube", Shape.BRAND),
        ("dQw4w9WgXcQ", Shape.SCRAMBLED),
        ("BV19Tum6LE8g", Shape.REJECT),
        ("1728661867", Shape.REJECT),
        ("20260808A096SJ00", Shape.REJECT),
        ("OLDCODE123", Shape.REJECT),
        ("YOURCODE", Shape.REJECT),
        ("0066cc", Shape.REJECT),
        ("f8faff", Shape.REJECT),
        ("00FF7A", Shape.HEXLIKE),
        ("x10000", Shape.REJECT),
        ("Sept2031", Shape.REJECT),
        ("XXXXXXXX", Shape.REJECT),
        ("version12", Shape.REJECT),
    ],
)
def test_shape_of_strings(text: str, shape: Shape) -> None:
    assert classify(text, GENSHIN, SCOPE) is shape


def test_tokens_are_whole_runs_never_parts_of_identifiers_paths_or_handles() -> None:
    text = (
        "GACHA_TYPE_UP style.css .code-item #GenshinGift @GenshinGift /gift/ABCDEF123 "
        "fetchCodes() %2FABC123XYZ key=ABC123XYZ9 Übersicht9 OK: REAL7K2Q9XZM."
    )
    assert tokens(text) == ["REAL7K2Q9XZM"]


def test_tokens_between_cjk_characters_and_escaped_quotes() -> None:
    assert tokens("最终兑换码为：F5F4D3B2A2……") == ["F5F4D3B2A2"]
    assert tokens('["OHOHONICOLE\\"","X"]') == ["OHOHONICOLE"]


def test_tokens_longer_than_any_code_are_skipped() -> None:
    assert tokens("A" * 50_000) == []


@pytest.mark.parametrize(
    ("heading", "status"),
    [
        ("Active Codes", CodeStatus.ACTIVE),
        ("List of Expired Redeem Codes", CodeStatus.EXPIRED),
        ("Inactive codes", CodeStatus.EXPIRED),
        ("New codes for September", CodeStatus.ACTIVE),
        ("Active and expired codes", CodeStatus.UNKNOWN),
        ("How to redeem codes", CodeStatus.UNKNOWN),
        ("Livestream codes", CodeStatus.UNKNOWN),
        ("已失效的兑换码", CodeStatus.EXPIRED),
    ],
)
def test_heading_status(heading: str, status: CodeStatus) -> None:
    assert heading_status(heading) is status


def test_row_status_reads_expired_but_not_expiry_dates() -> None:
    assert row_status("ABC (EXPIRED) - 100 Primogems") is CodeStatus.EXPIRED
    assert row_status("ABC - expires September 2, 2031") is CodeStatus.UNKNOWN
    assert row_status("Valid until: September 2, 2031") is CodeStatus.UNKNOWN
    assert row_status("ABC | Active") is CodeStatus.ACTIVE


def test_keyword_next_to_a_token() -> None:
    assert keyword_adjacent("Use the code ", " for 60 Primogems")
    assert keyword_adjacent("兑换码为：", "")
    assert keyword_adjacent("the ", " code is still available")
    assert not keyword_adjacent("The code works; also try ", " later")


def test_labels_are_short_lines_about_codes() -> None:
    assert is_label("Expired codes:", bold=False)
    assert is_label("Active codes", bold=True)
    assert not is_label("Active codes", bold=False)
    assert not is_label("Codes: ABC123XYZ9", bold=False)


def test_game_scope_of_headings_keys_and_hosts() -> None:
    assert SCOPE.of_text("Genshin Impact codes") is Scope.OURS
    assert SCOPE.of_text("Honkai: Star Rail codes") is Scope.OTHER
    assert SCOPE.of_text("Wuthering Waves") is Scope.OTHER
    assert SCOPE.of_text("Redeem codes") is None
    assert SCOPE.of_key("hk4e") is Scope.OURS
    assert SCOPE.of_key("sr") is Scope.OTHER
    assert SCOPE.of_key("codes") is None
    assert GameScope(HSR).of_key("sr") is Scope.OURS
    assert SCOPE.of_host("hsr.hoyoverse.com") is Scope.OTHER


def test_redeem_links_need_a_redeem_place_and_a_code_parameter() -> None:
    link = redeem_link("https://genshin.hoyoverse.com/en/gift?code=ABC123XYZ9", SCOPE)
    assert link is not None
    assert (link.code, link.scope) == ("ABC123XYZ9", Scope.OURS)
    assert redeem_link("https://example.com/login?code=ABC123XYZ9", SCOPE) is None
    spa = redeem_link("https://example.com/#/redeem?cdkey=QWE123RTY9", SCOPE)
    assert spa is not None
    assert spa.code == "QWE123RTY9"


def test_forgiving_data_reader() -> None:
    assert loads("{\"a\": [1, 2,], // note\n b: 'x'}") == {"a": [1, 2], "b": "x"}
    assert loads("[fn(1, 2), x.y, true, null]") == [JUNK, JUNK, True, None]
    values = data_literals('var list = [{"order": "A"}];\nwindow.__SEED__ = {"k": 1};')
    assert values == [[{"order": "A"}], {"k": 1}]
    assert data_literals("if (x) { y(); }") == []
    deep = loads("[" * 100_000)
    assert isinstance(deep, list)


@pytest.mark.parametrize(
    ("text", "filename", "fmt"),
    [
        ("<!doctype html><p>x</p>", None, Format.HTML),
        ('{"codes": []}', "codes.txt", Format.DATA),
        ("var x = [1];", "codes.txt", Format.DATA),
        ("{{Stub}}\n==Active Codes==\n{{Code Row|A}}", None, Format.WIKITEXT),
        ("# Codes\n\n- ABC", "README.md", Format.MARKDOWN),
        ("just some text", None, Format.MARKDOWN),
    ],
)
def test_sniffing_formats(text: str, filename: str | None, fmt: Format) -> None:
    assert sniff(text, filename) is fmt
