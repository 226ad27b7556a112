"""What the scrapers share: reward lines, dates, sections and the per-page code list."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.domain import CodeStatus, RewardItem
from bot.core.rewards import MAX_ITEMS
from scrapers.base import SourceChanged
from scrapers.codelist import MAX_CODES_PER_PAGE, CodeList, server_of, shielded
from scrapers.dates import from_unix, parse_date
from scrapers.rewards import parse_item, rewards_from_text
from scrapers.sections import Sections, looks_like_code, marker_status, split_codes
from tests.unit.scraper_fixtures import game

TIMES = "\u00d7"

# --- rewards ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "item"),
    [
        ("Primogem \u00d760", RewardItem("Primogem", 60)),
        ("Primogem x60", RewardItem("Primogem", 60)),
        ("Primogem x 60", RewardItem("Primogem", 60)),
        ("Primogem*60", RewardItem("Primogem", 60)),
        ("Credit x20,000", RewardItem("Credit", 20_000)),
        ("60 Primogems", RewardItem("Primogems", 60)),
        ("100x Stellar Jades", RewardItem("Stellar Jades", 100)),
        ("50,000\u00d7 Credits", RewardItem("Credits", 50_000)),
        ("five Hero's Wit", RewardItem("Hero's Wit", 5)),
        ("Phoenix 3", RewardItem("Phoenix", 3)),
        ("Namecard", RewardItem("Namecard", None)),
        ("Primogem x60 (new!)", RewardItem("Primogem", 60)),
    ],
)
def test_one_reward_item_in_its_many_spellings(text: str, item: RewardItem) -> None:
    assert parse_item(text) == item


def test_a_reward_line_is_split_but_thousands_separators_are_not() -> None:
    text, items = rewards_from_text(
        "100 Primogem, 30000 Mora, 3 Hero's Wit, and 5 Adventurer's Exp"
    )
    assert [(i.name, i.amount) for i in items] == [
        ("Primogem", 100),
        ("Mora", 30_000),
        ("Hero's Wit", 3),
        ("Adventurer's Exp", 5),
    ]
    expected = [
        f"Primogem {TIMES}100",
        f"Mora {TIMES}30,000",
        f"Hero's Wit {TIMES}3",
        f"Adventurer's Exp {TIMES}5",
    ]
    assert text == ", ".join(expected)
    _, tight = rewards_from_text("Polychrome x300,Denny x30,000")
    assert tight == (RewardItem("Polychrome", 300), RewardItem("Denny", 30_000))


def test_line_breaks_and_bullets_separate_items() -> None:
    _, items = rewards_from_text("\u30fbPrimogem x60\n\u30fbMora x10,000")
    assert items == (RewardItem("Primogem", 60), RewardItem("Mora", 10_000))


def test_a_line_not_fully_understood_keeps_the_source_words() -> None:
    text, items = rewards_from_text("Exclusive namecard and 60 Primogems")
    assert text == "Exclusive namecard and 60 Primogems"
    assert RewardItem("Primogems", 60) in items


def test_reward_text_and_names_are_bounded() -> None:
    text, items = rewards_from_text(", ".join(f"{'Long name ' * 20}{n} x{n}" for n in range(50)))
    assert len(text) <= 300
    assert len(items) <= MAX_ITEMS
    assert all(len(item.name) <= 80 for item in items)


# --- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-09-20", datetime(2026, 9, 20, 23, 59, 59, tzinfo=UTC)),
        ("2026-09-20 03:59:59", datetime(2026, 9, 20, 3, 59, 59, tzinfo=UTC)),
        ("2024-01-15T10:00:00Z", datetime(2024, 1, 15, 10, tzinfo=UTC)),
        ("September 2, 2026", datetime(2026, 9, 2, 23, 59, 59, tzinfo=UTC)),
        ("Sep 2nd 2026", datetime(2026, 9, 2, 23, 59, 59, tzinfo=UTC)),
        ("2 September 2026", datetime(2026, 9, 2, 23, 59, 59, tzinfo=UTC)),
        (
            "until 10:59 AM of August 31, 2024 (UTC-5)",
            datetime(2024, 8, 31, 15, 59, tzinfo=UTC),
        ),
        ("September 14, 2024 at 11:59 AM (UTC+8)", datetime(2024, 9, 14, 3, 59, tzinfo=UTC)),
        ("2026-07-14 07:59 (PT)", datetime(2026, 7, 14, 14, 59, tzinfo=UTC)),  # summer time
        ("2026-12-14 07:59 (PT)", datetime(2026, 12, 14, 15, 59, tzinfo=UTC)),
        ("2026-05-01 12:00 PM GMT", datetime(2026, 5, 1, 12, tzinfo=UTC)),
    ],
)
def test_dates_become_aware_utc_datetimes(text: str, moment: datetime) -> None:
    assert parse_date(text) == moment


@pytest.mark.parametrize(
    "text",
    [
        "",
        "unknown",
        "indef",
        "indefinite",
        "TBA",
        "-",
        "soon",
        "2026-13-40",
        "Feb 30, 2024",
        "12 PM",
    ],
)
def test_dates_that_cannot_be_read_are_none(text: str) -> None:
    assert parse_date(text) is None


@given(st.text(max_size=80))
def test_parse_date_never_fails_and_is_always_aware(text: str) -> None:
    moment = parse_date(text)
    assert moment is None or moment.utcoffset() == UTC.utcoffset(None)


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        (1767225600, datetime(2026, 1, 1, tzinfo=UTC)),
        ("1767225600", datetime(2026, 1, 1, tzinfo=UTC)),
        (0, None),
        (-5, None),
        (True, None),
        ("soon", None),
        (10**30, None),
        (None, None),
    ],
)
def test_unix_seconds(value: object, moment: datetime | None) -> None:
    assert from_unix(value) == moment


# --- sections -----------------------------------------------------------------------------


def test_the_innermost_heading_that_says_something_wins() -> None:
    sections = Sections()
    assert sections.status() is CodeStatus.UNKNOWN
    sections.heading(2, "Active Codes")
    assert sections.status() is CodeStatus.ACTIVE
    sections.heading(3, "Expired livestream codes")
    assert sections.status() is CodeStatus.EXPIRED
    sections.heading(3, "Version 5.0")
    assert sections.status() is CodeStatus.ACTIVE
    sections.heading(2, "Mail")
    assert sections.status() is CodeStatus.UNKNOWN


def test_markers_switch_status_until_the_next_heading() -> None:
    sections = Sections()
    sections.heading(2, "All Codes")
    sections.marker("expired")
    assert sections.status() is CodeStatus.EXPIRED
    sections.marker("Move expired codes to the history page when they end")
    assert sections.status() is CodeStatus.EXPIRED
    sections.heading(2, "Other")
    assert sections.status() is CodeStatus.UNKNOWN


@pytest.mark.parametrize(
    ("comment", "status"),
    [
        ("active", CodeStatus.ACTIVE),
        (" Expired codes ", CodeStatus.EXPIRED),
        ("inactive", CodeStatus.EXPIRED),
        ("please keep expired codes below", None),
        ("", None),
    ],
)
def test_only_bare_comments_are_markers(comment: str, status: CodeStatus | None) -> None:
    assert marker_status(comment) is status


def test_a_cell_splits_into_its_codes() -> None:
    assert split_codes("AAA111;BBB222 / CCC333\nDDD444 (NA only) or EEE555[1]") == [
        "AAA111",
        "BBB222",
        "CCC333",
        "DDD444",
        "EEE555",
    ]


@pytest.mark.parametrize(
    ("token", "code_like"),
    [
        ("BlazeToNatlan", True),
        ("5SKXWYSCPEVR", True),
        ("GENSHINGIFT", True),
        ("Characters", False),
        ("Settings", False),
        ("HoYoLAB", False),
        ("Game8", False),
    ],
)
def test_code_looking_words(token: str, code_like: bool) -> None:
    assert looks_like_code(token) is code_like


# --- the code list ------------------------------------------------------------------------


def test_the_code_list_filters_dedupes_and_keeps_first_sightings() -> None:
    codes = CodeList(game("genshin"))
    assert codes.add("FirstSeen123", status=CodeStatus.ACTIVE)
    assert not codes.add("ab")  # too short for the pattern
    assert not codes.add("GENSHIN")  # a stopword of the game
    assert not codes.add("A" * 40)
    assert codes.add(
        " FIRSTSEEN123 ",
        status=CodeStatus.EXPIRED,
        rewards="Primogem \u00d760",
        server="global",
    )
    (code,) = codes.result()
    assert code.code == "FirstSeen123"
    assert code.status is CodeStatus.ACTIVE
    assert code.rewards == "Primogem \u00d760"  # filled in from the later sighting
    assert code.server == "global"


def test_an_unknown_first_status_is_filled_by_a_later_one() -> None:
    codes = CodeList(game("genshin"))
    codes.add("LATERSTATUS1")
    codes.add("laterstatus1", status=CodeStatus.EXPIRED)
    assert codes.result()[0].status is CodeStatus.EXPIRED


def test_a_page_holds_a_bounded_number_of_codes() -> None:
    codes = CodeList(game("genshin"))
    for n in range(MAX_CODES_PER_PAGE + 50):
        codes.add(f"CODE{n:08d}")
    assert len(codes.result()) == MAX_CODES_PER_PAGE


@pytest.mark.parametrize(
    ("text", "server"),
    [
        ("G", "global"),
        ("A", "global"),
        ("CN", "cn"),
        ("China", "cn"),
        ("America, Europe, Asia, TW/HK/Macao", "global"),
        ("Global only (NA/EU)", "global"),
        ("", None),
        ("???", None),
    ],
)
def test_server_columns(text: str, server: str | None) -> None:
    assert server_of(text) == server


def test_shielded_parsers_raise_only_source_changed() -> None:
    @shielded("test")
    def broken(body: bytes) -> list[str]:
        raise KeyError(body)

    with pytest.raises(SourceChanged, match=r"test: unreadable page \(KeyError\)"):
        broken(b"x")
