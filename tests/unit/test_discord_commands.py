"""The slash commands as Discord receives them: every game option lists every game, and
names, descriptions, options and choices come in every language codecast speaks."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Any

import discord
from discord import app_commands

from bot.core.catalog import load_catalog
from bot.core.language import LANGUAGES
from notifiers.discord.handlers import DiscordCommands
from notifiers.discord.interactions import CommandContext
from notifiers.discord.languages import CatalogTranslator

CATALOG = load_catalog()


def payloads() -> dict[str, dict[str, object]]:
    context = CommandContext(CATALOG, None, lambda: datetime.now(UTC))  # type: ignore[arg-type]
    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    return {c.name: c.to_dict(tree) for c in DiscordCommands(context).commands()}


def test_the_six_commands_with_their_options() -> None:
    found = payloads()
    options = {
        name: [o["name"] for o in payload.get("options", [])]  # type: ignore[attr-defined]
        for name, payload in found.items()
    }
    assert options == {
        "codes": ["game"],
        "subscribe": ["game", "channel", "role", "remind", "webhook"],
        "unsubscribe": ["game", "channel"],
        "subscriptions": [],
        "redeem": ["code", "game"],
        "board": ["game", "channel"],
        "language": ["language", "game", "channel"],
    }


def test_every_game_option_offers_every_game() -> None:
    for name, payload in payloads().items():
        for option in payload.get("options", []):  # type: ignore[attr-defined]
            if option["name"] == "game":
                assert {c["value"] for c in option["choices"]} == set(CATALOG.games), name


def test_only_managers_see_the_subscription_commands_and_only_in_servers() -> None:
    found = payloads()
    manage_guild = discord.Permissions(manage_guild=True).value
    for name in ("subscribe", "unsubscribe", "board", "language"):
        assert found[name]["default_member_permissions"] == manage_guild
    for name in ("subscribe", "unsubscribe", "subscriptions", "board", "language"):
        assert found[name]["contexts"] == [0]  # guilds only
    assert found["codes"]["default_member_permissions"] is None


# Discord's locales with a catalog behind them: every translated language has at least one.
SPOKEN_LOCALES = {locale for language in LANGUAGES for locale in language.discord}


async def translated_payloads() -> dict[str, dict[str, Any]]:
    context = CommandContext(CATALOG, None, lambda: datetime.now(UTC))  # type: ignore[arg-type]
    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    translator = CatalogTranslator()
    return {
        c.name: await c.get_translated_payload(tree, translator)
        for c in DiscordCommands(context).commands()
    }


def valid_name(name: str) -> bool:
    """Discord's rule for command and option names, in any script: lower case, letters and
    digits (Thai's marks too), `-`, `_` and `'`, at most 32."""
    allowed = all(
        ch.isalnum() or ch in "-_'" or unicodedata.name(ch, "").startswith("THAI") for ch in name
    )
    return 1 <= len(name) <= 32 and allowed and name == name.lower()


def localized(payload: dict[str, Any], field: str, locale: str) -> str:
    """What a user of `locale` sees: the localization, else (the same words) the default."""
    return str((payload.get(f"{field}_localizations") or {}).get(locale, payload[field]))


async def test_names_and_descriptions_in_every_language_codecast_speaks() -> None:
    payloads = await translated_payloads()
    assert len(SPOKEN_LOCALES) == 12  # es-ES and es-419 share Spanish
    for locale in SPOKEN_LOCALES:
        names = [localized(p, "name", locale) for p in payloads.values()]
        assert len(set(names)) == len(names), (locale, names)  # one name, one command
        for payload in payloads.values():
            name = localized(payload, "name", locale)
            description = localized(payload, "description", locale)
            assert valid_name(name), (locale, name)
            assert 1 <= len(description) <= 100, (locale, description)
            options = [localized(o, "name", locale) for o in payload.get("options", [])]
            assert all(valid_name(o) for o in options), (locale, options)
            assert len(set(options)) == len(options), (locale, options)
            for option in payload.get("options", []):
                assert 1 <= len(localized(option, "description", locale)) <= 100
    # Only the locales codecast speaks: Traditional Chinese gets no Simplified names.
    assert set(payloads["subscribe"]["name_localizations"]) == SPOKEN_LOCALES
    assert set(payloads["codes"]["description_localizations"]) == SPOKEN_LOCALES
    english = payloads["codes"]
    assert english["name"] == "codes"
    assert english["description"] == "Active redemption codes with their rewards"
    assert payloads["subscribe"]["name_localizations"]["ja"] == "購読"
    assert payloads["subscribe"]["name_localizations"]["de"] == "abonnieren"
    assert payloads["codes"]["description_localizations"]["ru"] == "Активные коды с их наградами"


async def test_game_choices_carry_the_games_names_in_each_language() -> None:
    payloads = await translated_payloads()
    [game] = [o for o in payloads["codes"]["options"] if o["name"] == "game"]
    genshin = next(c for c in game["choices"] if c["value"] == "genshin")
    assert genshin["name"] == "Genshin Impact"
    assert genshin["name_localizations"]["ja"] == "原神"
    assert genshin["name_localizations"]["zh-CN"] == "原神"
    assert genshin["name_localizations"]["ko"] == "원신"
    [language] = [o for o in payloads["language"]["options"] if o["name"] == "language"]
    # The languages by their own names, in every locale; "the server's" in the reader's.
    japanese = next(c for c in language["choices"] if c["value"] == "ja")
    assert japanese["name"] == "日本語"
    assert not japanese.get("name_localizations")
    server = next(c for c in language["choices"] if c["value"] == "server")
    assert server["name"] == "The server's language"
    assert server["name_localizations"]["de"] != server["name"]
