"""Understanding command arguments: game names, `all`, channel @usernames."""

from __future__ import annotations

import pytest

from bot.core.catalog import load_catalog
from notifiers.telegram.arguments import (
    choose_games,
    find_game,
    split_target,
    unknown_games_text,
)

CATALOG = load_catalog()


@pytest.mark.parametrize(
    ("word", "game"),
    [
        ("genshin", "genshin"),
        ("GENSHIN", "genshin"),
        ("hsr", "hsr"),
        ("honkaistarrail", "hsr"),
        ("Honkai: Star Rail", "hsr"),
        ("zzz", "zzz"),
        ("zenless", "zzz"),
        ("wuthering", "wuwa"),
        ("hi3", "hi3"),
        ("Honkai Impact 3rd", "hi3"),
    ],
)
def test_a_game_is_found_by_id_name_initials_or_unique_prefix(word: str, game: str) -> None:
    found = find_game(CATALOG, word)
    assert found is not None
    assert found.id == game


def test_an_ambiguous_prefix_names_no_game() -> None:
    assert find_game(CATALOG, "honkai") is None
    assert find_game(CATALOG, "") is None


def test_several_games_and_names_with_spaces_in_one_command() -> None:
    choice = choose_games(CATALOG, ["genshin", "Honkai", "Star", "Rail", "zzz", "genshin"])
    assert [g.id for g in choice.games] == ["genshin", "hsr", "zzz"]
    assert choice.unknown == ()


def test_all_means_every_game() -> None:
    choice = choose_games(CATALOG, ["all"])
    assert choice.everything
    assert [g.id for g in choice.games] == list(CATALOG.games)


def test_unknown_words_are_reported_with_the_games_known() -> None:
    choice = choose_games(CATALOG, ["genshin", "minecraft"])
    assert [g.id for g in choice.games] == ["genshin"]
    assert choice.unknown == ("minecraft",)
    text = unknown_games_text(CATALOG, choice.unknown)
    assert '"minecraft"' in text
    assert "genshin" in text
    assert "wuwa" in text


def test_a_channel_username_first_is_the_target() -> None:
    target = split_target(["@my_codes", "genshin"])
    assert target.username == "@my_codes"
    assert target.rest == ("genshin",)
    assert split_target(["genshin"]).username is None
    assert split_target(["@x"]).username is None  # too short for a Telegram username
