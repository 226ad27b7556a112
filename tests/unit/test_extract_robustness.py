"""The generic extractor never fails: hostile, huge, binary and deeply nested input."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.catalog import load_catalog
from bot.core.domain import MAX_CODE_LENGTH, Game, ScrapedCode, SourceConfig
from scrapers import page
from scrapers.base import SourceChanged
from scrapers.extract import MAX_INPUT_BYTES
from scrapers.page import extract_codes

CATALOG = load_catalog()
GAMES = [CATALOG.game(g) for g in ("genshin", "hsr", "zzz", "hi3", "wuwa")]
SHORT_CODES = Game(id="short", name="Short Codes", pattern="[A-Z0-9]{4}-[A-Z0-9]{4}")
FILENAMES = [None, "page.html", "codes.json", "README.md", "Code.wikitext", "list.txt", "x.js"]

# Page-like text: markup, separators and code-looking words mixed at random.
_PIECES = [
    "<li>",
    "</li>",
    "<b>",
    "</b>",
    "<table><tr><td>",
    "</td></tr></table>",
    "<h2>Expired codes</h2>",
    "{{Code Row|",
    "}}",
    "==Active==",
    "| Code |",
    "|---|",
    "\n- ",
    "**",
    "`",
    "~~",
    '{"code": "',
    '"}',
    "[",
    "]",
    ",",
    " code: ",
    "https://genshin.hoyoverse.com/gift?code=",
    "&",
    "\n",
    " ",
    "GENSHINGIFT",
    "ABC123XYZ9",
    "Welcome",
    "@x",
    "#tag",
    "2031-10-14",
    "x1000",
    "<s>",
    "</s>",
]


def _check(result: list[ScrapedCode], game: Game) -> None:
    assert isinstance(result, list)
    for code in result:
        text = code.code
        assert game.matches(text), text
        assert len(text) <= MAX_CODE_LENGTH


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.binary(max_size=3000),
    game=st.sampled_from([*GAMES, SHORT_CODES]),
    filename=st.sampled_from(FILENAMES),
)
def test_never_fails_on_arbitrary_bytes(body: bytes, game: Game, filename: str | None) -> None:
    _check(extract_codes(body, game, filename=filename), game)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(max_size=3000),
    game=st.sampled_from([*GAMES, SHORT_CODES]),
    filename=st.sampled_from(FILENAMES),
)
def test_never_fails_on_arbitrary_text(text: str, game: Game, filename: str | None) -> None:
    _check(extract_codes(text.encode(), game, filename=filename), game)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(st.sampled_from(_PIECES), max_size=200),
    game=st.sampled_from(GAMES),
    filename=st.sampled_from(FILENAMES),
)
def test_never_fails_on_page_like_text(
    pieces: list[str], game: Game, filename: str | None
) -> None:
    body = "".join(pieces).encode()
    _check(extract_codes(body, game, filename=filename), game)


@pytest.mark.parametrize(
    ("body", "filename"),
    [
        (b"<div>" * 200_000, "deep.html"),
        (b"<ul><li>" * 50_000, "deep.html"),
        (b"[" * 500_000, "deep.json"),
        (b"{{a|" * 50_000, "deep.wikitext"),
        (b"`" * 200_000, "ticks.md"),
        (b"A" * 50_000 + b" code: " + b"B" * 50_000, "long.txt"),
        (("<p>" + "Z" * 50_000 + "</p>").encode(), "long.html"),
        (b'{"code": "' + b"Q" * 50_000 + b'"}', "long.json"),
        ("\u202e\u0000\ufffd<b>\udcff".encode("utf-8", "surrogatepass"), "odd.html"),
    ],
)
def test_hostile_inputs_return_a_list(body: bytes, filename: str) -> None:
    _check(extract_codes(body, GAMES[0], filename=filename), GAMES[0])


def test_five_megabyte_page_returns() -> None:
    rnd = random.Random(7)
    words = ["lorem", "ipsum", "dolor", "sit", "amet", "codes", "Primogems", "2031", "v7.2"]
    prose = " ".join(rnd.choice(words) for _ in range(4000))
    row = "<tr><td>BIG{:04d}K2Q9X</td><td>Mora x{}</td></tr>"
    parts = ["<html><body><h2>Codes</h2><table><tr><th>Code</th><th>Rewards</th></tr>"]
    size = 0
    index = 0
    while size < 5_000_000:
        piece = f"<p>{prose}</p>" + row.format(index, index)
        parts.append(piece)
        size += len(piece)
        index += 1
    page_bytes = "".join(parts).encode()
    assert len(page_bytes) > MAX_INPUT_BYTES
    found = extract_codes(page_bytes, GAMES[0], filename="huge.html")
    _check(found, GAMES[0])
    # Only the first MAX_INPUT_BYTES are read: early rows are found, late ones are not.
    assert "BIG0000K2Q9X" in {c.code for c in found}
    assert f"BIG{index - 1:04d}K2Q9X" not in {c.code for c in found}


def test_parse_reads_the_source_url_as_a_hint_and_rejects_binary() -> None:
    source = SourceConfig(
        id="user-page", kind="page", game="genshin", url="https://example.com/codes.json"
    )
    body = b'{"codes": [{"code": "HINT7K2Q9XZM"}]}'
    assert [c.code for c in page.parse(body, GAMES[0], source)] == ["HINT7K2Q9XZM"]
    with pytest.raises(SourceChanged):
        page.parse(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x00", GAMES[0], source)
    assert page.parse(b"", GAMES[0], source) == []


@pytest.mark.parametrize("charset", ["idna", "punycode", "undefined", "hex", "no-such-codec"])
def test_a_declared_charset_that_decodes_no_page_falls_back_and_the_codes_are_read(
    charset: str,
) -> None:
    # Not UTF-8 (the é is Latin-1), so the declared charset is tried, and must not sink it.
    body = (
        f'<html><head><meta charset="{charset}"></head><body><h2>Active codes</h2>'
        "<ul><li><b>GENSHINGIFT</b> - 60 Primogems (d\xe9j\xe0)</li></ul></body></html>"
    ).encode("latin-1")
    assert [c.code for c in extract_codes(body, CATALOG.game("genshin"))] == ["GENSHINGIFT"]
