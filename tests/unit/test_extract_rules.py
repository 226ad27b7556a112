"""The extractor's evidence rules, each on a small page written for the test.

Every page here is constructed from publicly known page formats (redeem links, copy buttons,
wiki code tables, guide lists); none is a copy of a real page, and the codes are made up.
"""

from __future__ import annotations

import pytest

from bot.core.catalog import load_catalog
from bot.core.domain import CodeStatus, Game
from scrapers.page import extract_codes

CATALOG = load_catalog()
GENSHIN = CATALOG.game("genshin")
HSR = CATALOG.game("hsr")
ZZZ = CATALOG.game("zzz")
WUWA = CATALOG.game("wuwa")

A = CodeStatus.ACTIVE
E = CodeStatus.EXPIRED
U = CodeStatus.UNKNOWN


def codes(body: str, game: Game = HSR, filename: str = "page.html") -> dict[str, CodeStatus]:
    return {c.code: c.status for c in extract_codes(body.encode(), game, filename=filename)}


# --- five-character codes --------------------------------------------------------------


@pytest.mark.parametrize(
    "page",
    [
        '<p>Redeem <a href="https://hsr.hoyoverse.com/gift?code=QX5KD">here</a>.</p>',
        '<div><button class="copy" data-clipboard-text="QX5KD">Copy</button></div>',
        "<table><tr><th>Code</th><th>Rewards</th></tr>"
        "<tr><td>QX5KD</td><td>Stellar Jade x100</td></tr></table>",
        "{{Redemption Code Row|QX5KD|ref=|A|{{Item List|Stellar Jade*100}}|2031-01-01|unknown}}",
        '{"codes": [{"code": "QX5KD", "rewards": ["Stellar Jade x100"]}]}',
    ],
    ids=["redeem-link", "copy-button", "code-column", "wiki-template", "code-field"],
)
def test_a_five_character_code_counts_where_the_structure_declares_it(page: str) -> None:
    if page.startswith("{{"):
        filename = "page.wikitext"
    elif page.startswith("{"):
        filename = "codes.json"
    else:
        filename = "page.html"
    assert codes(page, HSR, filename) == {"QX5KD": U}


@pytest.mark.parametrize(
    "page",
    [
        "<h2>Active codes</h2><ul><li><b>QX5KD</b> - 100 Stellar Jade</li>"
        "<li><b>RAILK7Q2X9ZP</b> - 50 Stellar Jade</li></ul>",
        "<p>The new code QX5KD gives 100 Stellar Jade.</p>",
        "## Codes\n\nQX5KD - 100 Stellar Jade\nRAILK7Q2X9ZP - 50 Stellar Jade\n",
    ],
    ids=["bold-list-item", "prose", "text-lines"],
)
def test_a_five_character_string_in_prose_or_typography_is_not_a_code(page: str) -> None:
    filename = "page.md" if page.startswith("#") else "page.html"
    assert "QX5KD" not in codes(page, HSR, filename)


def test_a_five_character_code_span_counts_only_among_other_codes() -> None:
    listed = "## Codes\n\n- `QX5KD`\n- `RAILK7Q2X9ZP`\n- `STARK4Q8PL2ZX`\n"
    assert set(codes(listed, HSR, "codes.md")) == {"QX5KD", "RAILK7Q2X9ZP", "STARK4Q8PL2ZX"}
    alone = "## Setup\n\nRun `build` and then `QX5KD` in the shell.\n"
    assert codes(alone, HSR, "readme.md") == {}


# --- words that are interface text -------------------------------------------------------


def test_button_words_in_a_code_column_are_not_codes() -> None:
    row = (
        '<tr><td><input class="clip" value="{code}" readonly><button class="copy">Copy</button>'
        '<div class="copy-message">Copied</div><a href="https://hsr.hoyoverse.com/gift?code={code}">'
        "Redeem {code} Here</a></td><td>Stellar Jade x60</td></tr>"
    )
    page = (
        "<h2>Active codes</h2><table><tr><th>Redeem Codes</th><th>Reward</th></tr>"
        + row.format(code="RAILK7Q2X9ZP")
        + row.format(code="TRAINK3N8V5QC")
        + "</table>"
    )
    assert codes(page) == {"RAILK7Q2X9ZP": A, "TRAINK3N8V5QC": A}


# --- redeem links ------------------------------------------------------------------------


def test_a_link_to_the_games_own_redeem_site_is_a_code_whatever_it_looks_like() -> None:
    own = '<p>Claim <a href="https://hsr.hoyoverse.com/gift?code=Aventurine">this</a>.</p>'
    assert codes(own, HSR) == {"Aventurine": U}
    unknown_site = '<p>Claim <a href="https://example.com/redeem?code=Aventurine">this</a>.</p>'
    assert codes(unknown_site, HSR) == {}
    placeholder = '<p><a href="https://hsr.hoyoverse.com/gift?code=YOURCODE">form</a></p>'
    assert codes(placeholder, HSR) == {}
