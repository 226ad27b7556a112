"""The generic extractor's features, each on a small page of its own (constructed examples)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.catalog import load_catalog
from bot.core.domain import CodeStatus, Game
from scrapers.page import extract_codes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "extract"
CATALOG = load_catalog()
GENSHIN = CATALOG.game("genshin")
HSR = CATALOG.game("hsr")
ZZZ = CATALOG.game("zzz")
WUWA = CATALOG.game("wuwa")

A = CodeStatus.ACTIVE
E = CodeStatus.EXPIRED
U = CodeStatus.UNKNOWN


def codes(
    body: str | bytes, game: Game = GENSHIN, filename: str = "page.html"
) -> dict[str, CodeStatus]:
    data = body.encode() if isinstance(body, str) else body
    return {c.code: c.status for c in extract_codes(data, game, filename=filename)}


def fixture(name: str, game: Game) -> dict[str, CodeStatus]:
    path = FIXTURES / name
    return codes(path.read_bytes(), game, filename=name)


# --- the constructed fixture pages ------------------------------------------------------


def test_editorial_page_reads_lists_and_ignores_furniture() -> None:
    found = fixture("editorial_list.html", GENSHIN)
    assert found == {
        "QW3RTY8ZK2LM": A,
        "LanternRiteGlow": A,
        "PX7N2KD9VB4Q": A,
        "GIFTOFWINDS": A,
        "ZX8C4VBN2MQW": E,
        "MOONLITFEAST": E,
        "HN5J7K2L9P3R": E,
    }


def test_reddit_style_post_reads_links_backticks_prose_and_expired_label() -> None:
    found = fixture("reddit_post.md", HSR)
    for code in ("HSR7KQ2WZ9PX", "TQ8MB3NL6VYC", "ZR4DX9CF2JHS", "PQ6RS8TU2VWX"):
        assert code in found
    # "the permanent codes X and Y", "The older codes: X, Y and Z".
    for code in ("STARRAILGIFT", "TrainPalFriends", "RAILWAY2030", "FROSTBLOOM", "PomPomParty"):
        assert code in found
    assert found["AB3CD5EF7GH9"] is E  # ~~strike-through~~ under "Expired:"
    assert found["KL2MN4PQ6RS8"] is E
    # Another game's code named in prose, and another game's redeem link.
    assert "GENSHINFREEBIE" not in found
    assert "ZZZSAMPLE42" not in found
    assert len(found) == 11


def test_multi_game_page_keeps_only_the_requested_games_section() -> None:
    assert fixture("multi_game.html", GENSHIN) == {
        "GI4KX7PL2QZM": A,
        "WINDSONG2031": E,
        "OLDBREEZE": E,
        "GIBONUS77QX": U,
    }
    assert fixture("multi_game.html", HSR) == {"SR9BN3VC5XKL": A}
    assert fixture("multi_game.html", ZZZ) == {"ZZZ77HOLLOW": U}
    assert fixture("multi_game.html", WUWA) == {"ECHOES2031": U}


WIKI_EXPECTED = {
    "WK3MZ8QPL4XT": A,
    "FLUTE72NX5RA": A,
    "FLUTE72NX5RB": A,
    "SpringFestival": A,
    "HG6TBR2KMW9C": E,
    "MARCHWIND": E,
    # "Other Codes" on a page that keeps expired codes under their own heading.
    "TABLEK2X7NW9": A,
    "STRUCK5Q8WZ3": E,
    "LISTED7Y4RT2": A,
}


def test_wikitext_code_rows_sections_tables_and_notacode() -> None:
    assert fixture("fandom_promo.wikitext", GENSHIN) == WIKI_EXPECTED


def test_mediawiki_api_json_is_read_through_its_wikitext() -> None:
    assert fixture("mediawiki_api.json", GENSHIN) == WIKI_EXPECTED


def test_hoyolab_livestream_json_reads_exchange_codes_and_code_status() -> None:
    assert fixture("hoyolab_livestream.json", GENSHIN) == {
        "LV9MK2PX4QRT": A,
        "LV9NB7CW3ZHY": A,
        "LV9DJ5TF8SGE": E,
    }


def test_aggregator_json_keys_name_games_and_status() -> None:
    assert fixture("aggregator.json", GENSHIN) == {"AGG5QX8RM2NW": A, "AGGOLD7KD3PV": E}
    assert fixture("aggregator.json", HSR) == {"AGGSR4TB9WXC": A}
    assert fixture("aggregator.json", WUWA) == {}


def test_plain_text_news_reads_codes_named_as_such() -> None:
    assert fixture("news.txt", WUWA) == {"TIDALREQUIEM42": U, "NOCTURNE2031": E, "WAVEBREAKER": E}


def test_guide_in_capitals_with_ids_and_hashes_has_no_codes() -> None:
    assert fixture("prose_negative.html", ZZZ) == {}


# --- single features -------------------------------------------------------------------


def test_strike_through_marks_a_code_expired() -> None:
    page = """<h2>Codes</h2><ul>
    <li><strong>NEWK4Q8PL2ZX</strong> - 60 Primogems</li>
    <li><s><strong>OLDK4Q8PL2ZY</strong></s> - 60 Primogems</li>
    <li><del>DELK4Q8PL2ZW</del> - 30 Primogems</li>
    <li><span style="text-decoration: line-through">STYK4Q8PL2ZV</span> - Mora</li>
    </ul>"""
    assert codes(page) == {
        "NEWK4Q8PL2ZX": U,
        "OLDK4Q8PL2ZY": E,
        "DELK4Q8PL2ZW": E,
        "STYK4Q8PL2ZV": E,
    }


def test_expired_heading_and_expired_word_next_to_a_code() -> None:
    page = """<h2>Working codes</h2><ul><li><b>LIVE7Q2WX9KM</b> - 100 Primogems</li>
    <li><b>LATE3N8VB5QC</b> (expired) - 50 Primogems</li></ul>
    <h2>Inactive codes</h2><ul><li><b>GONE4T6YU8IO</b> - 60 Primogems</li></ul>"""
    assert codes(page) == {"LIVE7Q2WX9KM": A, "LATE3N8VB5QC": E, "GONE4T6YU8IO": E}


def test_bold_label_paragraph_works_as_a_heading() -> None:
    page = """<p><strong>Expired codes</strong></p>
    <ul><li>PAST9K3L7M2N</li><li>PAST2Z8X4C6V</li></ul>"""
    assert codes(page) == {"PAST9K3L7M2N": E, "PAST2Z8X4C6V": E}


def test_redeem_url_code_parameter_is_a_code_and_other_links_are_not() -> None:
    page = """<p>Claim it <a href="https://genshin.hoyoverse.com/en/gift?code=LinkCode2031">here</a>.
    Tracking: <a href="https://example.com/track?code=TRACK77X9Q2Z&ref=RX9Q2Z7K">promo</a>,
    login <a href="https://auth.example.com/oauth/callback?code=OAUTH7X2K9QZ">sign in</a>,
    and <a href="https://cdn.example.com/img/B7K2Q9X4ZP.png">image</a>.</p>"""
    assert codes(page) == {"LinkCode2031": U}


def test_redeem_link_for_another_games_site_is_a_decoy() -> None:
    page = '<ul><li><a href="https://hsr.hoyoverse.com/gift?code=RAILK7Q2X9ZP">RAILK7Q2X9ZP</a></li></ul>'
    assert codes(page, GENSHIN) == {}
    assert codes(page, HSR) == {"RAILK7Q2X9ZP": U}


def test_copy_button_value_is_a_code() -> None:
    page = """<div class="code-card"><span>Code</span>
    <button class="copy-btn" data-clipboard-text="COPYK2X7Q9ZM">Copy</button>
    <input type="hidden" name="csrf" value="HIDDEN7K2X9Q"></div>"""
    assert codes(page) == {"COPYK2X7Q9ZM": U}


def test_handles_hashtags_dates_ids_and_colours_are_not_codes() -> None:
    page = """<h2>Redeem codes</h2><p>Follow @GenshinCodes2031 and #GenshinCodes2031 for news.
    Codes posted 2031-10-14 at 10:00, UID 812345678, timestamp 1944431234, colour #1A2B3C,
    post 20311014A096SJ00, version 7.2, video BV1xK4y1C7Tm, CSS .code-item and #code-box,
    enum GACHA_TYPE_CHARACTER_UP, placeholder OLDCODE123, and the example "string".</p>"""
    assert codes(page) == {}


def test_markdown_table_with_code_and_status_columns() -> None:
    page = """## Codes

| Code | Rewards | Status |
|------|---------|--------|
| `TBLA7K2Q9XZM` | 60 Primogems | Active |
| TBLB3N8V5QCW | 30 Primogems | Expired |
| **TableBonus** | Mora x10,000 | |
"""
    found = codes(page, filename="codes.md")
    assert found == {"TBLA7K2Q9XZM": A, "TBLB3N8V5QCW": E, "TableBonus": U}


def test_wikitext_table_row_template_with_several_codes_in_one_cell() -> None:
    page = """==Active Codes==
{{Redemption Code Row|RowOneCode<br>ROWTWO7K2Q9X|ref=<ref>livestream</ref>
|Global|{{Item List|Stellar Jade*100}}}}
==Expired Codes==
{{Redemption Code Row|ROWOLD3N8V5Q|Global|Credit*5000}}
"""
    found = codes(page, HSR, filename="Redemption_Code.wikitext")
    assert found == {"RowOneCode": A, "ROWTWO7K2Q9X": A, "ROWOLD3N8V5Q": E}


def test_mixed_case_is_kept_and_duplicates_merge_case_insensitively() -> None:
    page = '[{"code": "MixedCase42x"}, {"code": "MIXEDCASE42X"}, {"code": "Another7Code"}]'
    result = extract_codes(page.encode(), GENSHIN, filename="codes.json")
    assert [c.code for c in result] == ["MixedCase42x", "Another7Code"]


def test_json_status_flags_and_other_games_records() -> None:
    data = {
        "codes": [
            {"code": "FLAGA7K2Q9XZ", "is_fail": "0"},
            {"code": "FLAGB3N8V5QC", "is_fail": 1},
            {"code": "FLAGC4T6YU8I", "status": "expired"},
            {"code": "FLAGD2Z8X4C6", "expired": False},
            {"code": "FLAGE9K3L7M2", "game": "hkrpg"},
            {"code": "FLAGF5R7T9Y1"},
        ]
    }
    found = codes(json.dumps(data), GENSHIN, filename="codes.json")
    assert found == {
        "FLAGA7K2Q9XZ": A,
        "FLAGB3N8V5QC": E,
        "FLAGC4T6YU8I": E,
        "FLAGD2Z8X4C6": A,
        "FLAGF5R7T9Y1": U,
    }


def test_javascript_data_file_with_comments_and_trailing_commas() -> None:
    page = """// generated
var giftList = [
  { id: 3, key: "JSDATA7K2Q9X", reward: "Astrite*50", expired: false, },
  { id: 4, key: 'JSDATA3N8V5Q', reward: "Astrite*30", expired: true, }, // old
];"""
    found = codes(page, WUWA, filename="gifts.js")
    assert found == {"JSDATA7K2Q9X": A, "JSDATA3N8V5Q": E}


def test_code_list_in_plain_lines_under_a_keyword() -> None:
    page = "New codes:\nLINEA7K2Q9XZ\nLINEB3N8V5QC\nLineBonusCode\n\nThanks for reading!\n"
    assert codes(page, filename="post.txt") == {
        "LINEA7K2Q9XZ": A,
        "LINEB3N8V5QC": A,
        "LineBonusCode": A,
    }


def test_ordinary_words_in_capitals_and_title_case_are_not_codes() -> None:
    page = """<h2>Codes</h2><ul><li><b>IMPORTANT</b>: codes expire quickly.</li>
    <li><b>Primogems</b> are the premium currency.</li><li><b>REMEMBER</b> to log in daily.</li>
    <li><strong>Welcome</strong> to the redeem code guide.</li></ul>"""
    assert codes(page) == {}


@pytest.mark.parametrize(
    ("body", "filename"),
    [
        (b"", "empty.html"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image.png"),
        (b"\xff\xfe" + "<p>code: UTF16K2X7Q9</p>".encode("utf-16-le"), "utf16.html"),
    ],
)
def test_odd_bodies_return_a_list(body: bytes, filename: str) -> None:
    assert isinstance(extract_codes(body, GENSHIN, filename=filename), list)


def test_utf16_page_is_decoded() -> None:
    body = "<p>Redeem code: UTF16K2X7Q9</p>".encode("utf-16")
    assert codes(body) == {"UTF16K2X7Q9": U}


def test_inline_comma_list_of_expired_codes() -> None:
    page = """<h2>Expired codes</h2><p>Here are the expired codes:</p>
    <p>KSTF8ZRE7Y9F, RZC4R5KMPZWT, OLDWIND, FREEPRIMOS, GenshinSummer2031</p>"""
    assert codes(page) == {
        "KSTF8ZRE7Y9F": E,
        "RZC4R5KMPZWT": E,
        "OLDWIND": E,
        "FREEPRIMOS": E,
        "GenshinSummer2031": E,
    }


def test_capitals_in_bold_prose_about_codes_are_not_codes() -> None:
    page = """<h2>Codes</h2><p>The <b>NATLAN</b> region arrives in version 5.0.</p>
    <p>The <b>NATLAN</b> codes are here.</p>"""
    assert codes(page) == {}


def test_class_names_mark_codes_and_expired_cards() -> None:
    page = """<div class="codes"><h5>Active codes</h5>
    <div class="box"><p class="code">CLSA7K2Q9XZM</p><p class="rewards">Stellar Jade x60</p></div>
    <div class="box"><p class="code">HSRFANFEST</p><p class="rewards">Credits</p></div>
    <div class="box expired"><p class="code">CLSB3N8V5QCW</p></div></div>"""
    assert codes(page, HSR) == {"CLSA7K2Q9XZM": A, "HSRFANFEST": A, "CLSB3N8V5QCW": E}


def test_lines_broken_by_br_are_read_one_by_one() -> None:
    page = """<p>Redemption Code 1: BRLINE7K2QXZ<br>Redemption Code 2: BRLINE3N8V5Q<br>
    Redemption Code 3: TidalSong</p><p>Rewards: Astrite x100</p>"""
    assert codes(page, WUWA) == {"BRLINE7K2QXZ": U, "BRLINE3N8V5Q": U, "TidalSong": U}


def test_prose_saying_a_sections_codes_expired_marks_them_expired() -> None:
    page = """<h2>Livestream codes</h2>
    <p>These codes have since expired and can no longer be redeemed.</p>
    <h3>Global</h3><ul><li><b>LIVEOLD7K2QX</b> - 100 Primogems</li></ul>
    <h2>Launch code</h2><ul><li><b>LAUNCH3N8V5Q</b> - 60 Primogems</li></ul>
    <p>It expired on September 14, 2031.</p>
    <h2>Current codes</h2><ul><li><b>CURNOW4T6YU8</b> - 60 Primogems</li></ul>
    <p>Some of these codes have expired for some; once they have expired, redeem others.</p>
    <h2>Web event code</h2><ul><li><b>WEBEVT2Z8X4C</b> - 30 Primogems</li></ul>
    <p>Redeem it quickly, before it has expired.</p>"""
    assert codes(page) == {
        "LIVEOLD7K2QX": E,
        "LAUNCH3N8V5Q": E,
        "CURNOW4T6YU8": A,
        "WEBEVT2Z8X4C": A,
    }


def test_reward_lists_and_labels_in_capitals_are_not_codes() -> None:
    page = """<h2>Codes</h2><p>Rewards of the event:</p>
    <ul><li><b>ASTERITE</b> x300</li><li><b>NEBULITE</b> x2</li><li><b>STIGMATA</b> x1</li></ul>
    <ul><li><b>DISCLAIMERS</b>: codes may expire soon</li>
    <li><b>GIFTWIND</b>: 60 Primogems</li></ul>"""
    assert codes(page, CATALOG.game("hi3")) == {"GIFTWIND": U}


def test_forum_listing_json_reads_the_posts_markdown_and_escaped_html() -> None:
    assert fixture("forum_listing.json", HSR) == {
        "RDT7K2Q9XZMA": U,
        "RDT3N8V5QCWB": U,
        "RailFriends": U,
        "RDTOLD4T6YU8": E,
    }


def test_wrapped_prose_lines_starting_with_capitals_are_not_a_code_list() -> None:
    page = (
        "Patch notes and codes for this week: the\n"
        "HOLLOWDEEP mode is new in this version and\n"
        "ABYSSDIVE returns with more rewards and codes.\n"
    )
    assert codes(page, ZZZ, filename="notes.txt") == {}


# --- codes as the keys of their records --------------------------------------------------


def test_a_map_from_codes_to_records_under_game_keys_gives_our_games_codes() -> None:
    page = {
        "genshin": {
            "GENSHINGIFT": {"rewards": ["Primogem x50"], "status": "OK", "expires": None},
            "QW3RTY8ZK2LM": {"rewards": ["Mora x10000"], "status": "OK", "expires": None},
        },
        "nap": {
            "ZENLESSGIFT": {"rewards": ["Polychrome x50"], "status": "OK", "expires": None},
            "ZZZ2YEARGIFT": {"rewards": ["Polychrome x300"], "status": "Expired"},
        },
    }
    body = json.dumps(page)
    assert codes(body, ZZZ, "codes.json") == {"ZENLESSGIFT": A, "ZZZ2YEARGIFT": E}
    assert codes(body, GENSHIN, "codes.json") == {"GENSHINGIFT": A, "QW3RTY8ZK2LM": A}


def test_the_game_field_of_a_keyed_record_decides_whose_code_the_key_is() -> None:
    page = {
        "codes": {
            "HSR7KQ2WZ9PX": {"first_seen": 1789367651, "game": "崩坏：星穹铁道"},
            "GS7KQ2WZ9PXA": {"first_seen": 1789367651, "game": "原神"},
            "STARRAILGIFT": {"first_seen": 1789367651, "game": "Honkai: Star Rail"},
        }
    }
    assert set(codes(json.dumps(page), HSR, "seen.json")) == {"HSR7KQ2WZ9PX", "STARRAILGIFT"}


def test_a_map_of_ids_to_settings_is_not_read_as_codes() -> None:
    page = {
        "servers": {
            "EUROPE01": {"host": "eu.example.org", "port": 443},
            "AMERICA01": {"host": "us.example.org", "port": 443},
        },
        "users": {"PLAYERONE": {"level": 60}, "PLAYERTWO": {"level": 58}},
    }
    assert codes(json.dumps(page), GENSHIN, "config.json") == {}


# --- codes written as headings -------------------------------------------------------------


def test_markdown_headings_that_are_codes_are_read_as_a_list() -> None:
    page = """# Zenless Zone Zero

## Codes we know of

### [`ZENLESSGIFT`](https://zenless.hoyoverse.com/redemption?code=ZENLESSGIFT)

50 Polychromes \\
*Added Jul 4, 2024*

### `ZZZTVCM`

30 Polychromes

### [`KANURBT5MQ8D`](https://codes.example.org/copy/?code=KANURBT5MQ8D)

40 Polychromes
"""
    assert codes(page, ZZZ, "codes.md") == {"ZENLESSGIFT": U, "ZZZTVCM": U, "KANURBT5MQ8D": U}


def test_ordinary_headings_stay_section_titles() -> None:
    page = """# Release NOTES

## `CHANGELOG` of version 2

### Expired codes

- ~~GENSHINGIFT~~
- ~~QW3RTY8ZK2LM~~
"""
    assert codes(page, GENSHIN, "notes.md") == {"GENSHINGIFT": E, "QW3RTY8ZK2LM": E}


def test_button_text_glued_to_scraped_codes_is_taken_off() -> None:
    # A scraper kept each row's text, the "Quick Redeem" button included.
    page = [
        "HSR7KQ2WZ9PXQuick Redeem",
        "TrainPalFriendsQuick Redeem",
        "TQ8MB3NL6VYC",
        "STARRAILGIFTQuick Redeem",
    ]
    assert set(codes(json.dumps(page), HSR, "cache.json")) == {
        "HSR7KQ2WZ9PX",
        "TrainPalFriends",
        "TQ8MB3NL6VYC",
        "STARRAILGIFT",
    }


def test_a_game_name_counted_up_is_an_example_not_a_code() -> None:
    page = """## Example output

- GENSHIN123 = 100 Primogems, Mora x50
- STARRAIL1234 = 60 Stellar Jade
"""
    assert codes(page, GENSHIN, "README.md") == {}
    assert codes(page, HSR, "README.md") == {}


def test_a_wiki_code_template_holding_the_games_own_name_is_a_code() -> None:
    page = """==Active Codes==
{{Code Row|YuanShen|CN|Primogem*50;Hero's Wit*3|2020-11-10|indef}}
{{Code Row|GENSHINGIFT|G|Primogem*50|2020-11-10|indef}}
"""
    assert set(codes(page, GENSHIN, "page.wiki")) == {"YuanShen", "GENSHINGIFT"}


def test_copy_components_name_the_code_they_copy() -> None:
    page = """<h2>Active Honkai: Star Rail Codes</h2>
<div><span class="text-sm">ALETTERFORYOU</span><CopyCode text="ALETTERFORYOU" /></div>
<div><span class="text-sm">HSR7KQ2WZ9PX</span><CopyCode text="HSR7KQ2WZ9PX" /></div>
<clipboard-copy value="CREATIONNYMPH">Copy</clipboard-copy>
<CodeBlock text="NOTACODEHERE" />
"""
    assert codes(page, HSR, "page.html") == {
        "ALETTERFORYOU": A,
        "HSR7KQ2WZ9PX": A,
        "CREATIONNYMPH": A,
    }


@pytest.mark.parametrize(
    ("active", "expired"),
    [("CÓDIGOS ACTIVOS", "Códigos inactivos"), ("Códigos ativos", "Códigos expirados")],
)
def test_spanish_and_portuguese_headings_give_the_status(active: str, expired: str) -> None:
    page = f"## {active}\n\n- STARRAILGIFT\n- HSR7KQ2WZ9PX\n\n## {expired}\n\n- TQ8MB3NL6VYC\n"
    assert codes(page, HSR, "page.md") == {"STARRAILGIFT": A, "HSR7KQ2WZ9PX": A, "TQ8MB3NL6VYC": E}


def test_programmers_names_in_backticks_are_not_codes() -> None:
    page = """## Redemption codes API

| field | meaning |
| --- | --- |
| `codeTipText` | the redemption code's tip text |
| `refreshCode` | the redemption code, e.g. `PHOENIX1021` |
"""
    assert codes(page, ZZZ, "notes.md") == {"PHOENIX1021": U}


def test_a_game_in_brackets_after_a_code_says_whose_code_it_is() -> None:
    page = """Codes
STARRAILGIFT (Honkai Star Rail)
THEDAHLIA (HSR)
ZZZANGELS (Zenless Zone Zero)
ZHAOISFREE (ZZZ)
"""
    assert set(codes(page, ZZZ, "codes.txt")) == {"ZZZANGELS", "ZHAOISFREE"}
    assert set(codes(page, HSR, "codes.txt")) == {"STARRAILGIFT", "THEDAHLIA"}


# --- feeds ---------------------------------------------------------------------------------

RSS = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0"><channel>
<title>Game codes</title>
<link>https://codes.example.org/</link>
<item><title>ZZZANGELS (Zenless Zone Zero)</title>
<description><![CDATA[50 Polychrome]]></description>
<link>https://codes.example.org/zzz?code=ZZZANGELS</link></item>
<item><title>ZHAOISFREE (Zenless Zone Zero)</title>
<description><![CDATA[50 Polychrome]]></description></item>
<item><title>ZZZ2026 (Zenless Zone Zero)</title>
<description><![CDATA[50 Polychrome]]></description></item>
<item><title>STARRAILGIFT (Honkai: Star Rail)</title>
<description><![CDATA[50 Stellar Jade]]></description></item>
<item><title>Zenless Zone Zero 2.5 livestream</title>
<description>&lt;p&gt;Redeem code &lt;strong&gt;ZZZ25VOIDHUNT&lt;/strong&gt;
for 300 Polychrome&lt;/p&gt;</description></item>
</channel></rss>
"""


def test_an_rss_feed_is_read_item_by_item() -> None:
    assert set(codes(RSS, ZZZ, "codes.xml")) == {
        "ZZZANGELS",
        "ZHAOISFREE",
        "ZZZ2026",
        "ZZZ25VOIDHUNT",
    }
    # Another game's code in the same feed is that game's.
    assert not set(codes(RSS, HSR, "feed")) & {"ZZZANGELS", "ZHAOISFREE", "ZZZ25VOIDHUNT"}


def test_an_atom_feed_is_read_item_by_item() -> None:
    atom = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Genshin codes</title>
<entry><title>New code: GENSHINGIFT</title>
<link href="https://genshin.hoyoverse.com/en/gift?code=GENSHINGIFT"/>
<content type="html">&lt;p&gt;Primogem x60&lt;/p&gt;</content></entry>
</feed>"""
    assert set(codes(atom, GENSHIN, "feed.atom")) == {"GENSHINGIFT"}


def test_a_broken_feed_is_read_as_far_as_it_goes_and_quickly() -> None:
    broken = "<rss><channel><title>x</title>" + "<item><title>" * 50_000
    assert codes(broken, ZZZ, "feed.xml") == {}
    cut = RSS[: RSS.index("<item><title>Zenless")] + "<item><title>ZZZ25VOIDHUNT"
    assert "ZZZANGELS" in codes(cut, ZZZ, "feed.xml")


@pytest.mark.parametrize(
    ("active", "expired"),
    [
        ("Актуальні коди", "Застарілі коди"),
        ("Активные коды", "Истёкшие коды"),
        ("Mã còn hiệu lực", "Mã hết hạn"),
        ("Kode aktif", "Kode kedaluwarsa"),
    ],
)
def test_status_headings_in_more_languages(active: str, expired: str) -> None:
    page = f"## {active}\n\n- GENSHINGIFT\n- QW3RTY8ZK2LM\n\n## {expired}\n\n- ZX8C4VBN2MQW\n"
    assert codes(page, GENSHIN, "page.md") == {
        "GENSHINGIFT": A,
        "QW3RTY8ZK2LM": A,
        "ZX8C4VBN2MQW": E,
    }


def test_css_bold_classes_count_as_bold() -> None:
    page = """<h2>Active codes</h2>
<div class="card"><span class="font-bold">HonkaixHonkai</span><p>100 Crystals</p></div>
"""
    assert codes(page, CATALOG.game("hi3"), "page.html") == {"HonkaixHonkai": A}


def test_a_script_module_of_posts_keeps_each_posts_game() -> None:
    module = """import { PostMeta } from "../types";

export const posts: PostMeta[] = [
  { title: "Free Fire codes", game: "Free Fire",
    codes: [{ code: "FFIC33NTEUKA", status: "active" }, { code: "FF4MTXQPFDZ9" }] },
  { title: "Genshin codes", game: "Genshin Impact",
    codes: [{ code: "QW3RTY8ZK2LM", status: "active" }] },
];
"""
    assert codes(module, GENSHIN, "posts.ts") == {"QW3RTY8ZK2LM": A}


def test_an_array_of_lower_case_element_ids_is_not_a_code_list() -> None:
    page = """<h2>Codes</h2><ul><li><b>TOSENADINA</b> - 100 crystals</li></ul>
<script>const imageIds = ['bgwave', 'bannerpic', 'news1', 'news2', 'content1'];</script>"""
    found = codes(page, CATALOG.game("hi3"), "page.html")
    assert not set(found) & {"news1", "news2", "content1", "bannerpic"}


def test_list_numbers_glued_to_codes_are_taken_off() -> None:
    page = "Các mã còn hiệu lực:\n1.GENSHINGIFT\n2.ZSPDKSC3V8V5\n3.UT7C2TD8C5ZD\n"
    assert codes(page, GENSHIN, "reply.txt") == {
        "GENSHINGIFT": A,
        "ZSPDKSC3V8V5": A,
        "UT7C2TD8C5ZD": A,
    }
    # Versions and dotted names stay whole, and are not codes.
    assert codes("Version 5.GENSHINGIFT\nv1.2.QW3RTY8ZK2LM\n", GENSHIN, "notes.txt") == {}
