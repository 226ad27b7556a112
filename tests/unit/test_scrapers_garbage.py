"""Every scraper meets garbage the same way: SourceChanged, never another exception.

The generic `page` extractor is left to its own tests: it reads any text by design.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.domain import Game, ScrapedCode, SourceConfig
from scrapers import ennead, fandom, game8, hoyolab, pockettactics
from scrapers.base import SourceChanged
from scrapers.codelist import MAX_BODY_BYTES
from tests.recorded import LOCAL_FIXTURES
from tests.unit.scraper_fixtures import game, source

Parse = Callable[[bytes, Game, SourceConfig], list[ScrapedCode]]

# kind -> (parse, game, a well-formed fixture of that kind)
KINDS: dict[str, tuple[Parse, str, Path]] = {
    "fandom-json": (
        fandom.parse,
        "genshin",
        LOCAL_FIXTURES / "fandom" / "genshin_promotional_code_query.json",
    ),
    "fandom-html": (
        fandom.parse,
        "genshin",
        LOCAL_FIXTURES / "fandom" / "genshin_promotional_code_parse_text.html",
    ),
    "hoyolab": (
        hoyolab.parse,
        "genshin",
        LOCAL_FIXTURES / "hoyolab" / "genshin_material_livestream.json",
    ),
    "game8": (
        game8.parse,
        "genshin",
        LOCAL_FIXTURES / "editorial" / "game8_genshin_codes.html",
    ),
    "pockettactics": (
        pockettactics.parse,
        "genshin",
        LOCAL_FIXTURES / "pockettactics" / "genshin_codes.html",
    ),
    "ennead": (ennead.parse, "hsr", LOCAL_FIXTURES / "ennead" / "starrail_codes.json"),
}
NAMES = sorted(KINDS)


def run(kind: str, body: bytes) -> list[ScrapedCode]:
    """Parse `body` as `kind`; any outcome but codes of the game or SourceChanged fails."""
    parse, game_id, _ = KINDS[kind]
    the_game = game(game_id)
    try:
        codes = parse(body, the_game, source(kind.split("-")[0], game_id))
    except SourceChanged:
        return []
    for code in codes:
        assert the_game.matches(code.code), code.code
        assert code.code.upper() not in the_game.stopwords
        assert len(code.rewards) <= 300
    assert len({code.key for code in codes}) == len(codes)
    return codes


def fixture(kind: str) -> bytes:
    return KINDS[kind][2].read_bytes()


def garbage_bodies(kind: str) -> dict[str, bytes]:
    noise = random.Random(kind).randbytes(50_000)
    body = fixture(kind)
    return {
        "empty": b"",
        "blank": b" \n\t ",
        "random bytes": noise,
        "png": b"\x89PNG\r\n\x1a\n" + noise,
        "not utf-8": b"\xff\xfe\xfa" * 1000,
        "utf-16 copy": body.decode("utf-8").encode("utf-16"),
        "deep json": b"[" * 100_000,
        "deep html": b"<div>" * 100_000,
        "nul bytes": b"\x00" * 10_000,
        "huge": b"x" * (MAX_BODY_BYTES + 1),
        "other kind": b'{"retcode": 0, "data": {"list": []}}'
        if kind != "hoyolab"
        else b"<html><body><p>Maintenance</p></body></html>",
    }


@pytest.mark.parametrize("kind", NAMES)
@pytest.mark.parametrize(
    "case",
    [
        "empty",
        "blank",
        "random bytes",
        "png",
        "not utf-8",
        "utf-16 copy",
        "deep json",
        "deep html",
        "nul bytes",
        "huge",
        "other kind",
    ],
)
def test_garbage_is_source_changed(kind: str, case: str) -> None:
    parse, game_id, _ = KINDS[kind]
    with pytest.raises(SourceChanged):
        parse(garbage_bodies(kind)[case], game(game_id), source(kind.split("-")[0], game_id))


@pytest.mark.parametrize("kind", ["fandom-json", "hoyolab", "ennead"])
def test_truncated_json_is_source_changed(kind: str) -> None:
    body = fixture(kind)
    parse, game_id, _ = KINDS[kind]
    for cut in (1, len(body) // 3, len(body) // 2, len(body) - 3):
        with pytest.raises(SourceChanged):
            parse(body[:cut], game(game_id), source(kind.split("-")[0], game_id))


@pytest.mark.parametrize("kind", NAMES)
def test_the_well_formed_fixture_yields_codes(kind: str) -> None:
    assert run(kind, fixture(kind))


# --- properties -----------------------------------------------------------------------------

PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

MARKUP_TOKENS = [
    "<ul>",
    "</ul>",
    "<li>",
    "</li>",
    "<strong>",
    "</strong>",
    "<table>",
    "<tr>",
    "<td>",
    "<th>",
    "Code",
    "</td>",
    "<h2>",
    "</h2>",
    "Expired",
    "Active Codes",
    "(EXPIRED)",
    " - ",
    "<br>",
    "<div class='entry-content'>",
    "<div class='archive-style-wrapper'>",
    "</div>",
    "<p>",
    "<a href='https://genshin.hoyoverse.com/en/gift?code=",
    "'>",
    "</a>",
    "<code>",
    "</code>",
    "{{Code Row|",
    "{{Redemption Code Row|",
    "|",
    "}}",
    "==Active Codes==",
    "==Expired Codes==",
    "<!--expired-->",
    "{|",
    "|}",
    "!",
    "||",
    "|-",
    "<ref>",
    "</ref>",
    "*60;",
    "\n",
    " ",
    "GENSHINGIFT",
    "ABCDEF123456",
    "abc",
    "x" * 40,
    "2026-09-02",
    "exp",
    "\u00d7",
    "\u00a0",
    '{"retcode": 0, "data": {"modules": [',
    '{"exchange_group": {"bonuses": [',
    '{"exchange_code": "',
    '", "code_status": "ON", "offline_at": 99999999999}',
    "]}}",
    "]}}",
    '{"active": [{"code": "',
    '"}], "inactive": []}',
    '{"parse": {"wikitext": {"*": "',
    '"}}}',
]
markup = st.lists(st.sampled_from(MARKUP_TOKENS), max_size=60).map("".join)


@pytest.mark.parametrize("kind", NAMES)
@PROPERTY
@given(body=st.binary(max_size=2048))
def test_any_bytes_give_codes_of_the_game_or_source_changed(kind: str, body: bytes) -> None:
    run(kind, body)


@pytest.mark.parametrize("kind", NAMES)
@PROPERTY
@given(text=markup)
def test_any_markup_soup_gives_codes_of_the_game_or_source_changed(kind: str, text: str) -> None:
    run(kind, text.encode("utf-8"))


@pytest.mark.parametrize("kind", NAMES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_cut_or_damaged_fixtures_give_codes_of_the_game_or_source_changed(
    kind: str, data: st.DataObject
) -> None:
    body = bytearray(fixture(kind))
    cut = data.draw(st.integers(0, len(body)), label="cut")
    for _ in range(data.draw(st.integers(0, 5), label="flips")):
        at = data.draw(st.integers(0, max(0, len(body) - 1)), label="at")
        if body:
            body[at] = data.draw(st.integers(0, 255), label="byte")
    run(kind, bytes(body[:cut]))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@PROPERTY
@given(
    bonus=st.dictionaries(
        st.sampled_from(["exchange_code", "code_status", "offline_at", "icon_bonuses"]),
        json_values,
    )
)
def test_any_hoyolab_bonus_gives_codes_of_the_game_or_source_changed(
    bonus: dict[str, object],
) -> None:
    envelope = {"retcode": 0, "data": {"modules": [{"exchange_group": {"bonuses": [bonus]}}]}}
    run("hoyolab", json.dumps(envelope).encode())


@PROPERTY
@given(data=json_values)
def test_any_json_gives_codes_of_the_game_or_source_changed(data: object) -> None:
    body = json.dumps(data).encode()
    for kind in ("fandom-json", "hoyolab", "ennead"):
        run(kind, body)
