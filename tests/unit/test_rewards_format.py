"""One reward format on every surface: the site, Telegram and Discord read the same."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.catalog import load_catalog
from bot.core.domain import CodeStatus, CodeView, RewardItem, ScrapedCode
from bot.core.normalize import normalize
from bot.core.rewards import MAX_ITEMS, icon_url, item_text, items_text, rewards_text
from bot.core.text import clip, one_line, web_url, without_links
from bot.site.view import _Shaper
from notifiers.discord.format import code_field
from notifiers.telegram.format import code_block
from scrapers.page import extract_codes

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
GAME = load_catalog().game("genshin")
ITEMS = (
    RewardItem("Primogem", 60),
    RewardItem("Mora", 10_000),
    RewardItem("", 5),
    RewardItem("Namecard", 0),
    RewardItem("Exclusive frame", None),
)
LINE = "Primogem ×60, Mora ×10,000, Reward ×5, Namecard ×0, Exclusive frame"


def view(rewards: str = "", items: tuple[RewardItem, ...] = ITEMS) -> CodeView:
    return CodeView(
        game="genshin",
        code="GENSHINGIFT",
        status=CodeStatus.ACTIVE,
        rewards=rewards,
        items=items,
        first_seen=NOW,
        last_seen=NOW,
        expires_at=None,
        sources=("fandom-genshin",),
    )


def test_items_read_with_times_signs_and_thousands_separators() -> None:
    assert items_text(ITEMS) == LINE
    assert item_text("Mora", 10_000) == "Mora ×10,000"
    assert item_text("", 60) == "Reward ×60"
    assert item_text("  Frame ", None) == "Frame"


def test_the_sources_own_words_come_before_the_items() -> None:
    assert rewards_text(view("60 Primogems\nand  Mora")) == "60 Primogems and Mora"
    assert rewards_text(view("   ")) == LINE


@pytest.mark.parametrize(
    "surface",
    [
        pytest.param(lambda v: code_block(v), id="telegram"),
        pytest.param(
            lambda v: code_field(v, GAME, source_names={}, redeem_in_text=False)[1], id="discord"
        ),
        pytest.param(
            lambda v: _Shaper(NOW, {}).code(_Shaper(NOW, {}).game(GAME), v).rewards_text,
            id="site",
        ),
    ],
)
def test_every_surface_writes_the_same_reward_line(surface: object) -> None:
    assert callable(surface)
    assert LINE in surface(view())


LINKED = (
    "Primogem ×60 (https://free-gems.example/claim) www.free-gems.example "
    "and more at genshin-gift.com/x?y=1"
)


@pytest.mark.parametrize(
    "surface",
    [
        pytest.param(lambda v: code_block(v), id="telegram"),
        pytest.param(
            lambda v: code_field(v, GAME, source_names={}, redeem_in_text=False)[1], id="discord"
        ),
        pytest.param(
            lambda v: _Shaper(NOW, {}).code(_Shaper(NOW, {}).game(GAME), v).rewards_text,
            id="site",
        ),
    ],
)
def test_no_surface_shows_a_link_from_reward_text(surface: object) -> None:
    assert callable(surface)
    shown = surface(view(LINKED))
    assert "Primogem ×60" in shown
    for piece in ("http", "free-gems", "www.", "genshin-gift"):
        assert piece not in shown


def test_stored_reward_text_and_item_names_keep_no_links() -> None:
    scraped = ScrapedCode(
        code="GENSHINGIFT",
        rewards=LINKED,
        items=(RewardItem("Primogem http://x.example/a.png", 60),),
    )
    [kept] = normalize([scraped], GAME, NOW)
    assert kept.rewards == "Primogem ×60 and more at"
    assert kept.items[0].name == "Primogem"


@pytest.mark.parametrize(
    "text",
    ["60 Primogems, 5 Hero's Wit", "Mora x10,000 (ver. 4.5)", "Credit ×3.5k", "e.g. Stellar Jade"],
)
def test_reward_text_without_links_is_left_alone(text: str) -> None:
    assert without_links(text) == text


def test_a_table_reward_cell_with_a_url_reaches_chats_as_text() -> None:
    page = (
        b"| Code | Rewards |\n|---|---|\n"
        b"| GENSHINGIFT | 60 Primogems https://phish.example/login |\n"
    )
    found = normalize(extract_codes(page, GAME, filename="codes.md"), GAME, NOW)
    assert [(c.code, c.rewards) for c in found] == [("GENSHINGIFT", "60 Primogems")]


def test_clip_marks_the_cut_and_keeps_short_text() -> None:
    assert clip("abcdef", 6) == "abcdef"
    assert clip("abcdefg", 6) == "abcde…"
    assert len(clip("x" * 1000, 300)) == 300
    assert one_line(" a\tb\n\u00a0c ") == "a b c"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://cdn.test/icon.png", True),
        ("http://cdn.test/icon.png", True),
        ("javascript:alert(1)", False),
        ("data:image/png;base64,AAAA", False),
        ("https://cdn.test/a b.png", False),
        ('https://cdn.test/a".png', False),
        ("https:///no-host.png", False),
        ("https://cdn.test/" + "a" * 600, False),
        ("", False),
        (None, False),
    ],
)
def test_only_plain_http_icon_links_are_kept(url: str | None, kept: bool) -> None:
    assert (icon_url(url) == url and url is not None) is kept


def test_a_page_link_may_be_longer_than_an_icon_link() -> None:
    long = "https://cdn.test/" + "a" * 600
    assert web_url(long) == long
    assert icon_url(long) is None


def test_one_item_limit() -> None:
    assert MAX_ITEMS == 12
