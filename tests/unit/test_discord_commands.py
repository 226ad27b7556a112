"""The slash commands as Discord receives them: every game option lists every game."""

from __future__ import annotations

from datetime import UTC, datetime

import discord
from discord import app_commands

from bot.core.catalog import load_catalog
from notifiers.discord.handlers import CommandContext, DiscordCommands

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
    }


def test_every_game_option_offers_every_game() -> None:
    for name, payload in payloads().items():
        for option in payload.get("options", []):  # type: ignore[attr-defined]
            if option["name"] == "game":
                assert {c["value"] for c in option["choices"]} == set(CATALOG.games), name


def test_only_managers_see_the_subscription_commands_and_only_in_servers() -> None:
    found = payloads()
    manage_guild = discord.Permissions(manage_guild=True).value
    for name in ("subscribe", "unsubscribe", "board"):
        assert found[name]["default_member_permissions"] == manage_guild
    for name in ("subscribe", "unsubscribe", "subscriptions", "board"):
        assert found[name]["contexts"] == [0]  # guilds only
    assert found["codes"]["default_member_permissions"] is None
