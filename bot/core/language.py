"""The languages codecast speaks: which one a chat, a user or a page gets, and its words.

Messages come from gettext catalogs (bot/locales/<catalog>/LC_MESSAGES/codecast.po, compiled
to .mo beside them; CONTRIBUTING.md says how to improve one). Numbers, dates and relative
times come from Babel, which knows each locale's separators, plural rules and calendars.
English is the source language: its words are the msgids themselves.
"""

from __future__ import annotations

import functools
import gettext
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources

from babel import Locale
from babel.dates import format_date, format_timedelta
from babel.numbers import format_decimal

DOMAIN = "codecast"
# Under the package `bot`: the catalogs ship as package data.
LOCALES_FOLDER = "locales"


@dataclass(frozen=True)
class Language:
    """One language codecast speaks, under the names each party knows it by."""

    # Lower-case BCP 47: a site folder (/zh-hans/), the value stored for a chat.
    tag: str
    # Babel's locale identifier (numbers, dates, plural rules).
    locale: str
    # The catalog's folder under bot/locales ("" for English, the source language).
    catalog: str
    # As its own speakers write it (the language pickers show this).
    name: str
    # Telegram's setMyCommands takes a two-letter ISO 639-1 code ("" for the default).
    telegram: str
    # Discord's locale for slash command names and descriptions ("" for the default).
    discord: tuple[str, ...]

    @property
    def bcp47(self) -> str:
        """The tag as BCP 47 cases it, for `<html lang>` and `hreflang`: "zh-Hans", "pt-BR"."""
        language, _, rest = self.tag.partition("-")
        if not rest:
            return language
        return f"{language}-{rest.title() if len(rest) == 4 else rest.upper()}"


LANGUAGES: tuple[Language, ...] = (
    Language("en", "en", "", "English", "", ()),
    Language("zh-hans", "zh_Hans_CN", "zh_Hans", "简体中文", "zh", ("zh-CN",)),
    Language("ja", "ja", "ja", "日本語", "ja", ("ja",)),
    Language("ko", "ko", "ko", "한국어", "ko", ("ko",)),
    Language("es", "es", "es", "Español", "es", ("es-ES", "es-419")),
    Language("pt-br", "pt_BR", "pt_BR", "Português (Brasil)", "pt", ("pt-BR",)),
    Language("ru", "ru", "ru", "Русский", "ru", ("ru",)),
    Language("vi", "vi", "vi", "Tiếng Việt", "vi", ("vi",)),
    Language("id", "id", "id", "Bahasa Indonesia", "id", ("id",)),
    Language("th", "th", "th", "ไทย", "th", ("th",)),
    Language("fr", "fr", "fr", "Français", "fr", ("fr",)),
    Language("de", "de", "de", "Deutsch", "de", ("de",)),
)
ENGLISH = LANGUAGES[0]
BY_TAG: dict[str, Language] = {language.tag: language for language in LANGUAGES}
# The first subtag of a tag, for tags codecast has no exact match for ("pt-PT" → pt-br,
# "zh-TW" → zh-hans: Simplified is closer to a Traditional reader than English is).
_BY_PRIMARY: dict[str, Language] = {
    language.tag.split("-")[0]: language for language in reversed(LANGUAGES)
}


def find(tag: str | None) -> Language | None:
    """The language codecast speaks for a tag as a platform or a user gives it (Telegram's
    `language_code` "pt-br", Discord's locale "zh-CN", "JA"): the same tag, else the same
    language; None when codecast does not speak it."""
    if not tag:
        return None
    wanted = tag.strip().replace("_", "-").lower()
    exact = BY_TAG.get(wanted)
    if exact is not None:
        return exact
    return _BY_PRIMARY.get(wanted.split("-")[0])


def negotiate(tag: str | None) -> Language:
    """The language for a tag, English when codecast does not speak it (or none is given)."""
    return find(tag) or ENGLISH


class Words:
    """What codecast says in one language: its catalog, and Babel's formats for its locale.

    The method names are gettext's, so `pybabel extract` finds every message by its usual
    keywords; `values` fill the message's %(name)s placeholders after translation.
    """

    def __init__(self, language: Language, translations: gettext.NullTranslations) -> None:
        self.language = language
        self.tag = language.tag
        self._t = translations
        self._locale = Locale.parse(language.locale)
        self._numbers: dict[int, str] = {}
        self._days: dict[str, str] = {}

    @property
    def translations(self) -> gettext.NullTranslations:
        """The catalog itself, for Jinja2's i18n extension (the site's templates)."""
        return self._t

    def _(self, message: str, /, **values: object) -> str:
        text = self._t.gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, count: int, /, **values: object) -> str:
        """A message chosen by `count` with the language's plural rule; %(count)s is the
        count with the locale's separators unless given."""
        text = self._t.ngettext(singular, plural, count)
        values.setdefault("count", self.number(count))
        return text % values

    def pgettext(self, context: str, message: str, /, **values: object) -> str:
        text = self._t.pgettext(context, message)
        return text % values if values else text

    def npgettext(
        self, context: str, singular: str, plural: str, count: int, /, **values: object
    ) -> str:
        text = self._t.npgettext(context, singular, plural, count)
        values.setdefault("count", self.number(count))
        return text % values

    def term(self, context: str, name: str) -> str:
        """A name from the glossary (bot/core/glossary.py) in this language, else as given."""
        return self._t.pgettext(context, name)

    def number(self, value: int) -> str:
        """An integer with the locale's group separators: 10,000 · 10.000 · 10 000."""
        known_text = self._numbers.get(value)
        if known_text is None:
            known_text = format_decimal(value, locale=self.language.locale)
            if len(self._numbers) < 4096:
                self._numbers[value] = known_text
        return known_text

    def date(self, moment: datetime) -> str:
        """A day as the locale writes it: "Mar 1, 2025", "2025年3月1日", "01.03.2025"."""
        return self.day(moment.astimezone(UTC).date().isoformat())

    def day(self, iso_day: str) -> str:
        """The same from an ISO day ("2025-03-01"), remembered: a site of thousands of codes
        names a few hundred days, each in twelve languages."""
        known_text = self._days.get(iso_day)
        if known_text is None:
            known_text = format_date(date.fromisoformat(iso_day), "medium", locale=self._locale)
            if len(self._days) < 4096:
                self._days[iso_day] = known_text
        return known_text

    def relative(self, moment: datetime, now: datetime) -> str:
        """ "3 days ago", "in 2 hours" in the locale's words, to the minute at the finest."""
        return format_timedelta(
            moment - now, granularity="minute", add_direction=True, locale=self.language.locale
        )


@functools.cache
def words(tag: str) -> Words:
    """The words of the language under `tag` (negotiated), its catalog read once."""
    language = negotiate(tag)
    if not language.catalog:
        return Words(language, gettext.NullTranslations())
    return Words(language, _translations(language.catalog))


def english() -> Words:
    return words(ENGLISH.tag)


def _translations(catalog: str) -> gettext.GNUTranslations:
    path = (
        resources.files("bot")
        .joinpath(LOCALES_FOLDER)
        .joinpath(catalog)
        .joinpath("LC_MESSAGES")
        .joinpath(f"{DOMAIN}.mo")
    )
    return gettext.GNUTranslations(io.BytesIO(path.read_bytes()))
