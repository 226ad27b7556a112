"""Every language's catalog is complete, sound and compiled: no message missing, none left
untranslated, no placeholder, tag or command broken, and the .mo shipped is the .po's."""

from __future__ import annotations

import io
import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from bot.core.glossary import GAME, NOTE, TERMS
from bot.core.language import DOMAIN, LANGUAGES, Language, negotiate

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "bot" / "locales"
TRANSLATED = [language for language in LANGUAGES if language.catalog]
# The keywords `make messages` passes to pybabel (the defaults, `term` and Discord's
# `command_text`).
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "term": ((1, "c"), 2),
    "command_text": ((1, "c"), 2),
}

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
HTML_TAG = re.compile(r"</?[a-z]+>")
COMMAND = re.compile(r"(?<![\w/])/[a-z]+\b")


def po_path(catalog: str) -> Path:
    return LOCALES / catalog / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(catalog: str) -> Catalog:
    with po_path(catalog).open("rb") as handle:
        return read_po(handle, locale=catalog)


@pytest.fixture(scope="module")
def extracted() -> set[tuple[str | None, str]]:
    """(context, msgid) of every message in the sources, as `make messages` finds them."""
    method_map = [
        ("bot/**.py", "python"),
        ("notifiers/**.py", "python"),
        ("bot/site/templates/**.j2", "jinja2"),
    ]
    options = {"bot/site/templates/**.j2": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
    found: set[tuple[str | None, str]] = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.add((context, msgid))
    return found


def ids(message: Message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def forms(message: Message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def test_the_sources_have_messages(extracted: set[tuple[str | None, str]]) -> None:
    assert len(extracted) > 20
    assert (None, "Reward") in extracted
    assert ("reward", "Primogem") in extracted


def test_every_language_codecast_offers_has_a_catalog() -> None:
    assert LANGUAGES[0].tag == "en"
    for language in TRANSLATED:
        assert po_path(language.catalog).is_file(), language.tag
        assert negotiate(language.tag) is language


@pytest.mark.parametrize("language", TRANSLATED, ids=lambda language: language.tag)
def test_catalog_holds_every_message_translated(
    language: Language, extracted: set[tuple[str | None, str]]
) -> None:
    catalog = read(language.catalog)
    present = {(m.context, ids(m)[0]) for m in catalog if m.id}
    missing = sorted(extracted - present, key=str)
    assert not missing, f"not in the catalog (run make messages): {missing[:10]}"
    untranslated = [
        ids(m)[0] for m in catalog if m.id and (m.fuzzy or not all(s.strip() for s in forms(m)))
    ]
    assert not untranslated, f"untranslated or fuzzy: {untranslated[:10]}"


@pytest.mark.parametrize("language", TRANSLATED, ids=lambda language: language.tag)
def test_plural_forms_are_the_languages_own(language: Language) -> None:
    catalog = read(language.catalog)
    expected = get_plural(language.locale).num_plurals
    assert catalog.num_plurals == expected
    for message in catalog:
        if message.id and message.pluralizable:
            assert len(forms(message)) == expected, ids(message)[0]


@pytest.mark.parametrize("language", TRANSLATED, ids=lambda language: language.tag)
def test_placeholders_tags_and_commands_survive_translation(language: Language) -> None:
    """A translation keeps every %(name)s, HTML tag, Markdown marker and /command of its
    source, so that filling it in cannot fail and what it shows stays the same."""
    broken = []
    for message in read(language.catalog):
        if not message.id:
            continue
        source = " ".join(ids(message))
        for text in forms(message):
            if set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(source)):
                broken.append((ids(message)[0], "placeholders", text))
            if Counter(HTML_TAG.findall(text)) != Counter(HTML_TAG.findall(ids(message)[0])):
                broken.append((ids(message)[0], "tags", text))
            for marker in ("**", "`", "~~"):
                if text.count(marker) != ids(message)[0].count(marker):
                    broken.append((ids(message)[0], marker, text))
            if set(COMMAND.findall(text)) != set(COMMAND.findall(source)):
                broken.append((ids(message)[0], "commands", text))
            try:
                text % dict.fromkeys(PLACEHOLDER.findall(source), "x")
            except (KeyError, ValueError, TypeError) as error:
                broken.append((ids(message)[0], f"format: {error}", text))
    assert not broken, broken[:10]


@pytest.mark.parametrize("language", TRANSLATED, ids=lambda language: language.tag)
def test_shipped_mo_is_the_compiled_po(language: Language) -> None:
    """The committed .mo is what `make translations` makes of the .po today."""
    catalog = read(language.catalog)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    shipped = po_path(language.catalog).with_suffix(".mo")
    assert shipped.is_file(), "run make translations"
    assert shipped.read_bytes() == compiled.getvalue(), "stale .mo: run make translations"


def test_the_glossary_names_every_built_in_game_and_note() -> None:
    data = tomllib.loads((ROOT / "bot" / "core" / "catalog.toml").read_text())
    terms = set(TERMS)
    for game in data["games"].values():
        assert (GAME, game["name"]) in terms
        if "note" in game:
            assert (NOTE, game["note"]) in terms


@pytest.mark.parametrize("language", TRANSLATED, ids=lambda language: language.tag)
def test_babels_own_checks_find_nothing(language: Language) -> None:
    """What `make translations` reports as errors (Babel's checkers: each form of a plural
    against its source, placeholders by name and kind) is empty."""
    catalog = read(language.catalog)
    errors = [
        f"{ids(message)[0]}: {error}"
        for message, message_errors in catalog.check()
        for error in message_errors
    ]
    assert errors == []
