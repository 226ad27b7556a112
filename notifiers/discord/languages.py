"""Which language the Discord bot speaks, and its slash commands in every language.

An answer to a command follows the user's Discord (`interaction.locale`). An announcement
follows the language chosen for its subscription with /language, else its server's
(`guild.preferred_locale`, read from the gateway's cache, else as last recorded in the
database: at /subscribe, /language and whenever the server changes it), else English.

Command names, descriptions, options and choices are `locale_str`s (`command_text` marks them
for `make messages`); `CatalogTranslator` gives discord.py their words in each Discord locale
codecast speaks when the tree syncs, so Discord shows them in each user's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import discord
from discord import app_commands

from bot.core.language import BY_TAG, LANGUAGES, Language, Words, words
from notifiers.discord.format import LANGUAGE_OPTION

# Discord's locales codecast has a catalog for, exactly (zh-TW gets no Simplified names).
BY_DISCORD_LOCALE: Mapping[str, Language] = {
    locale: language for language in LANGUAGES for locale in language.discord
}


def command_text(context: str, text: str) -> app_commands.locale_str:
    """A command's name, description, option or choice in English, marked for the catalogs
    under `context` ("command name", "option description", …)."""
    return app_commands.locale_str(text, context=context)


def answer_words(interaction: discord.Interaction[Any]) -> Words:
    """The words to answer a user in: their Discord's language (English when codecast does
    not speak it)."""
    return words(str(interaction.locale))


def chosen_language(options: Mapping[str, Any]) -> Language | None:
    """The language chosen with /language for a subscription, if any."""
    tag = options.get(LANGUAGE_OPTION)
    return BY_TAG.get(tag) if isinstance(tag, str) else None


def subscription_words(
    options: Mapping[str, Any], server_locale: str | None, recorded: str | None = None
) -> Words:
    """The words of a subscription's announcements: its chosen language, else its server's
    preferred locale (live), else the server's language as recorded, else English."""
    chosen = chosen_language(options)
    if chosen is not None:
        return words(chosen.tag)
    return words(server_locale or recorded)


def server_locale(client: discord.Client, space_id: str | None) -> str | None:
    """A server's preferred locale from the gateway's cache; None when this process does not
    hold the server (no gateway, or another process's shard)."""
    if not space_id or not space_id.isdigit():
        return None
    guild = client.get_guild(int(space_id))
    return str(guild.preferred_locale) if guild is not None else None


class CatalogTranslator(app_commands.Translator):
    """The commands' words in each Discord locale codecast speaks, from the catalogs."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        language = BY_DISCORD_LOCALE.get(locale.value)
        if language is None or not language.catalog:
            return None
        where = string.extras.get("context")
        if not isinstance(where, str):
            # Not marked by `command_text`: a language's own name, the same everywhere.
            return None
        text = words(language.tag).pgettext(where, string.message)
        # Discord falls back to the default itself; an identical entry says nothing.
        return text if text != string.message else None
