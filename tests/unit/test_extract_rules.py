"""The extractor's evidence rules, each on a small page written for the test.

Every page here is constructed from publicly known page formats (redeem links, copy buttons,
wiki code tables, guide lists); none is a copy of a real page, and the codes are made up.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.catalog import load_catalog
from bot.core.domain import CodeStatus, Game
from scrapers.page import extract_codes, find_codes

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
    no_path = '<p><a href="https://hsr.hoyoverse.com/?code=RAILK7Q2X9ZP">claim</a></p>'
    assert codes(no_path, HSR) == {"RAILK7Q2X9ZP": U}


# --- codes glued to their rewards ----------------------------------------------------------


def test_a_reward_amount_glued_to_a_code_is_taken_off_when_the_row_lists_rewards() -> None:
    # A news table whose cell separators were lost when the page became text.
    page = (
        "Three codes were revealed during the programme.\n\n"
        "CodeRewards\n"
        "HAHAHAHAHAHAHA100 Stellar Jades, 50,000 Credits\n"
        "LOLQWQXDLOLO100 Stellar Jades, 5 Traveler's Guides\n"
        "TRAINTOBEAHA60 Stellar Jades, 4 Refined Aether\n"
    )
    found = extract_codes(page.encode(), HSR, filename="news.txt")
    assert {c.code: c.status for c in found} == {
        "HAHAHAHAHAHAHA": U,
        "LOLQWQXDLOLO": U,
        "TRAINTOBEAHA": U,
    }
    assert found[0].rewards.startswith("100 Stellar Jades")


@pytest.mark.parametrize(
    ("line", "code"),
    [
        # The digits belong to the code: the row's amount is given after the reward.
        ("FIREFLY0619 Stellar Jade x60, Credit x5,000", "FIREFLY0619"),
        ("RAILPARTY2031 Stellar Jade x60", "RAILPARTY2031"),
        # One reward only: nothing says the number is its amount rather than part of the code.
        ("HSRBIRTHDAY100 Stellar Jades", "HSRBIRTHDAY100"),
    ],
)
def test_digits_stay_on_a_code_unless_the_row_makes_them_the_reward(line: str, code: str) -> None:
    page = f"## Active codes\n\n- {line}\n- TRAINK3N8V5QC - 30 Stellar Jade\n"
    assert code in codes(page, HSR, "codes.md")


# --- the game's own name opening a code -----------------------------------------------------


def test_capitals_opening_with_the_games_name_are_a_code_when_the_page_names_them() -> None:
    page = "<p>The permanent code STARRAILGIFT still works for new accounts.</p>"
    assert codes(page, HSR) == {"STARRAILGIFT": U}
    page = "<p>Codes are listed on STARRAILWIKI and on the STARRAILCODES page.</p>"
    assert codes(page, HSR) == {}


# --- labels that head what follows ---------------------------------------------------------


def test_a_label_at_the_end_of_a_paragraph_heads_the_list_after_it() -> None:
    page = (
        "Livestream codes last a day.\nCodes still active:\n"
        "- GENSHINGIFT: 50 Primogems\n- P3GXK56W3VG9: 60 Primogems\n"
    )
    assert codes(page, GENSHIN, "post.txt") == {"GENSHINGIFT": A, "P3GXK56W3VG9": A}


@pytest.mark.parametrize(
    ("heading", "status"), [("Active codes", A), ("Expired codes", E), ("Códigos activos", A)]
)
def test_a_line_alone_that_names_codes_and_a_status_is_a_heading(
    heading: str, status: CodeStatus
) -> None:
    page = f"Star Rail database\n\n{heading}\n\nSTARRAILGIFT\n\n50 Stellar Jades\n"
    assert codes(page, HSR, "home.txt") == {"STARRAILGIFT": status}
    html = f"<p>{heading}</p><ul><li>RAILK7Q2X9ZP - 50 Stellar Jade</li></ul>"
    assert codes(html, HSR) == {"RAILK7Q2X9ZP": status}


def test_a_sentence_alone_is_not_a_heading() -> None:
    page = "These codes are active.\n\nSTARRAILGIFT\n\n50 Stellar Jades\n"
    assert codes(page, HSR, "home.txt") == {"STARRAILGIFT": U}


def test_an_element_with_the_heading_role_is_a_heading() -> None:
    page = (
        '<div role="heading" aria-level="3">Expired codes</div>'
        "<ul><li><b>RAILK7Q2X9ZP</b> - 50 Stellar Jade</li></ul>"
    )
    assert codes(page, HSR) == {"RAILK7Q2X9ZP": E}


def test_a_label_naming_codes_before_a_colon_names_the_code_after_it() -> None:
    page = "<p>Reward Redemption Codes/Series Numbers:RAILK7Q2X9ZP<br>Stellar Jade *50</p>"
    assert codes(page, HSR) == {"RAILK7Q2X9ZP": U}


# --- status from what the page states -----------------------------------------------------

NOW = datetime(2031, 6, 15, 12, 0, tzinfo=UTC)


def statuses(body: str, game: Game = HSR, filename: str = "page.html") -> dict[str, CodeStatus]:
    found = extract_codes(body.encode(), game, filename=filename, now=NOW)
    return {c.code: c.status for c in found}


def test_expired_in_brackets_after_a_code_marks_that_code_only() -> None:
    prose = (
        "<p>Over the last months HoYoverse gave out many codes in livestreams and on social "
        "media; some last a day and some a month. The code RAILK7Q2X9ZP (expired) gave 100 "
        "Stellar Jade, and the code TRAINK3N8V5QC still gives 60 Stellar Jade to every "
        "Trailblazer who redeems it before the next version arrives.</p>"
    )
    assert statuses(prose) == {"RAILK7Q2X9ZP": E, "TRAINK3N8V5QC": U}


def test_an_expiry_date_in_the_row_decides_the_status_when_no_word_does() -> None:
    page = """<h2>Star Rail codes</h2>
    <table><tr><th>Code</th><th>Rewards</th><th>Duration</th></tr>
    <tr><td>RAILK7Q2X9ZP</td><td>Stellar Jade x60</td><td>Valid until: 2031-06-01</td></tr>
    <tr><td>TRAINK3N8V5QC</td><td>Stellar Jade x30</td><td>Valid until: 2031-07-01</td></tr>
    <tr><td>STARK4Q8PL2ZX</td><td>Credit x5,000</td><td>Discovered: 2031-05-01</td></tr>
    </table>"""
    assert statuses(page) == {"RAILK7Q2X9ZP": E, "TRAINK3N8V5QC": A, "STARK4Q8PL2ZX": U}
    found = {c.code: c for c in extract_codes(page.encode(), HSR, now=NOW)}
    assert found["RAILK7Q2X9ZP"].expires_at == datetime(2031, 6, 1, 23, 59, 59, tzinfo=UTC)


def test_words_in_the_page_outrank_an_expiry_date() -> None:
    page = """<h2>Expired codes</h2><ul>
    <li><b>RAILK7Q2X9ZP</b> - Stellar Jade x60 - expires July 1, 2031</li></ul>"""
    assert statuses(page) == {"RAILK7Q2X9ZP": E}


def test_a_wiki_templates_expiry_parameter_gives_the_status() -> None:
    page = """==All Codes==
{{Redemption Code Row|RAILK7Q2X9ZP|ref=|A|{{Item List|Stellar Jade*60}}|2031-05-01|2031-06-01}}
{{Redemption Code Row|TRAINK3N8V5QC|ref=|A|{{Item List|Stellar Jade*30}}|2031-05-01|unknown}}
{{Code Row|STARK4Q8PL2ZX|G|Credit*5000|2031-05-01|expiry=2031-07-01 03:59:59}}
"""
    assert statuses(page, HSR, "page.wikitext") == {
        "RAILK7Q2X9ZP": E,
        "TRAINK3N8V5QC": U,
        "STARK4Q8PL2ZX": A,
    }


# --- what the extractor reports ------------------------------------------------------------


def test_each_code_comes_with_its_evidence_and_what_gave_its_status() -> None:
    page = """<h2>Expired codes</h2><table><tr><th>Code</th><th>Rewards</th></tr>
    <tr><td><a href="https://hsr.hoyoverse.com/gift?code=RAILK7Q2X9ZP">RAILK7Q2X9ZP</a></td>
    <td>Stellar Jade x60</td></tr>
    <tr><td><s>TRAINK3N8V5QC</s></td><td>Stellar Jade x30</td></tr></table>"""
    found = {f.code.code: f for f in find_codes(page.encode(), HSR, now=NOW)}
    assert {"redeem-link", "code-table", "game-redeem-site"} <= set(found["RAILK7Q2X9ZP"].evidence)
    assert found["RAILK7Q2X9ZP"].status_from == "heading"
    assert found["TRAINK3N8V5QC"].status_from == "strike-through"
    assert found["TRAINK3N8V5QC"].code.rewards == "Stellar Jade x30"


def test_a_label_line_inside_a_paragraph_of_lines_heads_the_lines_after_it() -> None:
    page = (
        "<p><strong>Active codes:</strong><br>RAILK7Q2X9ZP - 60 Stellar Jade<br>"
        "TRAINK3N8V5QC - 30 Stellar Jade</p>"
        "<p>Thanks for reading.<br><b>Expired codes</b></p>"
        "<ul><li>STARK4Q8PL2ZX - 50 Stellar Jade</li></ul>"
    )
    assert codes(page) == {"RAILK7Q2X9ZP": A, "TRAINK3N8V5QC": A, "STARK4Q8PL2ZX": E}


@pytest.mark.parametrize(
    ("page", "filename"),
    [
        ('{"retcode": 0, "data": {"code": "RESET", "message": "ok"}}', "answer.json"),
        ('{"error": {"code": "QUOTA"}}', "answer.json"),
        ('{"items": [{"code": "SWORD", "name": "Sword"}]}', "items.json"),
        ('{"code": "DELETE", "message": "not allowed"}', "answer.json"),
        (
            "<table><tr><th>Code</th><th>Notes</th></tr>"
            "<tr><td>NOTES</td><td>see below</td></tr></table>",
            "page.html",
        ),
    ],
)
def test_a_word_in_capitals_alone_in_a_code_field_or_column_is_not_a_code(
    page: str, filename: str
) -> None:
    assert codes(page, HSR, filename) == {}


def test_a_short_word_among_other_codes_or_with_a_status_of_its_own_is_a_code() -> None:
    listed = '[{"code": "OMEGA"}, {"code": "RAILK7Q2X9ZP"}, {"code": "TRAINK3N8V5QC"}]'
    assert set(codes(listed, HSR, "codes.json")) == {"OMEGA", "RAILK7Q2X9ZP", "TRAINK3N8V5QC"}
    record = '{"code": "TRUTH", "status": "expired", "rewards": ["Crystals x200"]}'
    assert codes(record, CATALOG.game("hi3"), "codes.json") == {"TRUTH": E}


def test_a_page_titled_with_another_games_name_has_none_of_our_codes() -> None:
    # A code tracker's page for another game, in the same format as its pages for ours.
    page = (
        "# Raid: Shadow Legends\n\n## Codes Known to the Tracker\n\n"
        "### [`INTHEWEBK2`](https://tracker.example/copy/?code=INTHEWEBK2)\n\n"
        "### [`TOALLFROM7Q`](https://tracker.example/copy/?code=TOALLFROM7Q)\n"
    )
    assert codes(page, GENSHIN, "codes.md") == {}


def test_words_opening_with_the_games_name_are_codes_when_a_post_calls_them_codes() -> None:
    post = (
        "there are two codes working at the moment - GenshinStarfall and GenshinMoonlit\n\n"
        "the other ones only work for new accounts"
    )
    # "working": the post says they work.
    assert codes(post, GENSHIN, "thread.md") == {"GenshinStarfall": A, "GenshinMoonlit": A}
    tools = "Tools we like - GenshinWishExport for wishes, GenshinUID for bots."
    assert codes(tools, GENSHIN, "readme.md") == {}


def test_an_expiry_date_is_read_against_the_date_the_page_gives_itself() -> None:
    page = (
        '<html><head><meta property="article:modified_time" content="2031-05-20T10:00:00Z">'
        "</head><body><h2>Star Rail codes</h2><ul>"
        "<li><b>RAILK7Q2X9ZP</b> - 60 Stellar Jade - valid until 2031-06-01</li>"
        "<li><b>TRAINK3N8V5QC</b> - 30 Stellar Jade - valid until 2031-05-10</li>"
        "</ul></body></html>"
    )
    # Read long after the page was written: the page still said the first one worked.
    assert statuses(page) == {"RAILK7Q2X9ZP": A, "TRAINK3N8V5QC": E}


def test_a_heading_saying_codes_still_work_marks_them_active() -> None:
    page = (
        "<h3>Codes that still work</h3><ul><li><b>RAILK7Q2X9ZP</b> - 60 Stellar Jade</li></ul>"
        "<h3>Codes that no longer work</h3><ul><li><b>TRAINK3N8V5QC</b> - 30 Stellar Jade</li>"
        "</ul>"
    )
    assert codes(page) == {"RAILK7Q2X9ZP": A, "TRAINK3N8V5QC": E}
