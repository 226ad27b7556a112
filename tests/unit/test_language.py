"""Choosing a language and speaking it: negotiation and fallbacks, plurals, numbers, dates and
relative times per locale, game terms from the glossary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.domain import CodeStatus, CodeView, RewardItem
from bot.core.language import ENGLISH, LANGUAGES, find, negotiate, words
from bot.core.rewards import amount_text, item_text, rewards_text
from notifiers.telegram import format as fmt

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "tag"),
    [
        # Telegram's language_code
        ("en", "en"),
        ("ja", "ja"),
        ("pt-br", "pt-br"),
        ("zh-hans", "zh-hans"),
        ("ru", "ru"),
        # Discord's locales
        ("en-GB", "en"),
        ("zh-CN", "zh-hans"),
        ("pt-BR", "pt-br"),
        ("es-419", "es"),
        ("es-ES", "es"),
        # the closest codecast speaks
        ("pt-PT", "pt-br"),
        ("zh-TW", "zh-hans"),
        ("de_AT", "de"),
        ("FR", "fr"),
    ],
)
def test_a_platforms_tag_finds_its_language(given: str, tag: str) -> None:
    assert negotiate(given).tag == tag


@pytest.mark.parametrize("given", [None, "", "pl", "uk", "tlh", "x-klingon"])
def test_a_language_codecast_does_not_speak_falls_back_to_english(given: str | None) -> None:
    assert find(given) is None
    assert negotiate(given) is ENGLISH


def test_every_language_has_its_own_tag_name_and_platform_codes() -> None:
    assert len(LANGUAGES) == 12
    assert len({language.tag for language in LANGUAGES}) == 12
    for language in LANGUAGES[1:]:
        assert len(language.telegram) == 2
        assert language.discord
        assert words(language.tag).language is language


@pytest.mark.parametrize(
    ("tag", "counts"),
    [
        ("en", {1: "1 new code", 2: "2 new codes", 21: "21 new codes"}),
        ("ru", {1: "1 новый код", 3: "3 новых кода", 5: "5 новых кодов", 21: "21 новый код"}),
        ("de", {1: "1 neuer Code", 2: "2 neue Codes"}),
        ("fr", {0: "0 nouveau code", 1: "1 nouveau code", 2: "2 nouveaux codes"}),
        ("ja", {1: "新しいコード 1 件", 7: "新しいコード 7 件"}),
    ],
)
def test_plural_forms_follow_each_languages_rules(tag: str, counts: dict[int, str]) -> None:
    w = words(tag)
    for count, text in counts.items():
        title = w.ngettext(
            "🎁 <b>%(game)s</b>: %(count)s new code",
            "🎁 <b>%(game)s</b>: %(count)s new codes",
            count,
            game="G",
        )
        assert text in title


@pytest.mark.parametrize(
    ("tag", "number", "ago", "date"),
    [
        ("en", "10,000", "3 days ago", "Mar 1, 2026"),
        ("de", "10.000", "vor 3 Tagen", "01.03.2026"),
        ("fr", "10\u202f000", "il y a 3 jours", "1 mars 2026"),
        ("ru", "10\xa0000", "3 дня назад", "1 мар. 2026\u202fг."),
        ("ja", "10,000", "3 日前", "2026/03/01"),
        ("zh-hans", "10,000", "3天前", "2026年3月1日"),
        ("pt-br", "10.000", "há 3 dias", "1 de mar. de 2026"),
    ],
)
def test_numbers_dates_and_relative_times_are_the_locales(
    tag: str, number: str, ago: str, date: str
) -> None:
    w = words(tag)
    assert w.number(10_000) == number
    assert w.relative(NOW - timedelta(days=3), NOW) == ago
    assert w.date(NOW) == date


def test_an_hour_ahead_reads_as_the_future() -> None:
    assert words("en").relative(NOW + timedelta(hours=2), NOW) == "in 2 hours"
    assert words("es").relative(NOW + timedelta(hours=2), NOW) == "dentro de 2 horas"


def test_rewards_read_in_the_readers_language_with_the_games_own_terms() -> None:
    ja, de = words("ja"), words("de")
    assert item_text("Primogem", 60, ja) == "原石 ×60"
    # A source's plural finds the glossary's singular.
    assert item_text("Primogems", 60, de) == "Urgestein ×60"
    assert amount_text(10_000, de) == "×10.000"
    # A name codecast has no entry for is shown as the source wrote it.
    assert item_text("Mysterious Box", 2, ja) == "Mysterious Box ×2"
    assert item_text("", 5, de) == "Belohnung ×5"
    view = CodeView(
        game="genshin",
        code="GENSHINGIFT",
        status=CodeStatus.ACTIVE,
        rewards="Primogems ×60, Mora ×10,000",
        items=(RewardItem("Primogem", 60), RewardItem("Mora", 10_000)),
        first_seen=NOW,
        last_seen=NOW,
        expires_at=None,
        sources=("fandom",),
    )
    # English keeps the source's own words; another language reads the named items.
    assert rewards_text(view) == "Primogems ×60, Mora ×10,000"
    assert rewards_text(view, ja) == "原石 ×60、モラ ×10,000"
    assert rewards_text(view, words("zh-hans")) == "原石 ×60、摩拉 ×10,000"
    unnamed = CodeView(**{**view.__dict__, "items": (RewardItem("", 60),)})
    assert rewards_text(unnamed, ja) == "Primogems ×60, Mora ×10,000"


def test_a_game_is_named_as_its_own_localisation_names_it() -> None:
    from bot.core.catalog import load_catalog

    catalog = load_catalog()
    message = fmt.codes_message(catalog.game("genshin"), [], NOW, words("ja"))
    assert "<b>原神</b>" in message.text
    assert "/subscribe genshin" in message.text
    message = fmt.codes_message(catalog.game("hsr"), [], NOW, words("ko"))
    assert "<b>붕괴: 스타레일</b>" in message.text
