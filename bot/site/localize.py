"""The site in each language codecast speaks: its folder, its links to the others, and the
words of the cards, lines and feed entries, worked out once per language and render.

English is the site's root (/, /genshin/); every other language has a folder of its own
(/ja/, /ja/genshin/). The data (codes.json, sources.json, icons, styles and scripts) is one
for all languages, at the root.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from babel import Locale
from markupsafe import Markup

from bot.core.domain import PLAYERS
from bot.core.language import ENGLISH, LANGUAGES, Language, Words, words
from bot.core.rewards import amount_text, item_text, unnamed_item
from bot.site.view import ShownCode, ShownItem, html_text


@dataclass(frozen=True)
class SiteLanguage:
    """One language of the site."""

    language: Language
    words: Words

    @property
    def folder(self) -> str:
        """Where its pages are, from the site root: "" for English, else "ja/"."""
        return "" if self.language is ENGLISH else f"{self.language.tag}/"

    @property
    def english(self) -> bool:
        return self.language is ENGLISH

    @cached_property
    def card(self) -> CardWords:
        return CardWords(self.words)


def site_languages() -> tuple[SiteLanguage, ...]:
    """Every language of the site, English (the root) first."""
    return tuple(SiteLanguage(language, words(language.tag)) for language in LANGUAGES)


class CardWords:
    """The words of a code's card, front-page line and feed entry in one language.

    Thousands of cards are built per language: each phrase is looked up in the catalog once
    here, and a card only fills its placeholders. Times keep the UTC clock time of the HTML
    ("12:00 UTC"); days are as the locale writes them, except in English, whose readers
    across the world share ISO days (2025-03-01).
    """

    def __init__(self, w: Words) -> None:
        self.words = w
        self.english = not w.language.catalog
        self.redeem = w._("Redeem")
        self.unconfirmed_status = w._("Status not confirmed")
        self.no_rewards = w._("Rewards not listed")
        self.first_seen = w._("First seen %(when)s")
        self.expires = w._("expires %(when)s")
        self.expired = w._("expired %(when)s")
        self.listed_by = w._("listed by %(sources)s")
        self.players = w._("reported by players")
        self.checking_card = w._("Checking with HoYoverse…")
        self.accepted = w._("✓ HoYoverse accepts it")
        self.said_expired = w._("HoYoverse says it expired")
        self.rejected = w._("HoYoverse rejects it")
        self.checked = w._("checked")
        self.checked_when = w._("checked %(when)s")
        self.family = w._("Family %(family)s: only one code of this family works per account.")
        self.unconfirmed = w._("unconfirmed")
        self.checked_mark = w._("✓ checked")
        self.checking = w._("checking")
        self.found = w._("found %(when)s")
        self.separator = w.pgettext("list separator", ", ")
        self.unnamed = unnamed_item(w)
        # Feed entries.
        self.entry_code = w._("%(code)s for %(game)s.")
        self.entry_rewards = w._("Rewards: %(rewards)s")
        self.entry_expired = w._("Expired.")
        self.entry_accepted = w._("✓ HoYoverse accepts it (checked %(when)s).")
        self.entry_checking = w._("Being checked with HoYoverse.")
        self.entry_unconfirmed = w._("Status not confirmed.")
        self.entry_expires = w._("Expires %(when)s.")
        self.entry_redeem = w._("Redeem %(code)s")
        self.entry_listed = w._("Listed by %(sources)s.")
        self._items: dict[tuple[ShownItem, ...], str] = {}
        self._localized: dict[tuple[ShownItem, ...], str | None] = {}
        self._amounts: dict[int, str] = {}
        self._times: dict[tuple[str, str], str] = {}

    def day(self, iso: str) -> str:
        """The day of an ISO time: "2025-03-01" in English, "2025/03/01", "01.03.2025"."""
        return iso[:10] if self.english else self.words.day(iso[:10])

    def minute(self, iso: str) -> str:
        """An ISO time to the minute: "2025-03-01 12:00 UTC", "01.03.2025 12:00 UTC"."""
        return f"{self.day(iso)} {iso[11:16]} UTC"

    def second(self, iso: str) -> str:
        """The same to the second, for a title."""
        return f"{self.day(iso)} {iso[11:19]} UTC"

    def time(self, iso: str, text: str = "%(when)s", css: str = "") -> str:
        """A <time> element: exact in its attribute and title, `text` (with %(when)s, the
        time to the minute) on the page. Codes found together share it: each is built once."""
        known = self._times.get((iso, text))
        if known is None:
            shown = text % {"when": self.minute(iso)}
            known = f'<time{css} datetime="{iso}" title="{self.second(iso)}">{shown}</time>'
            if len(self._times) < 100_000:
                self._times[(iso, text)] = known
        return known

    def amount(self, amount: int) -> str:
        known = self._amounts.get(amount)
        if known is None:
            known = self._amounts[amount] = amount_text(amount, self.words)
        return known

    def items_html(self, items: tuple[ShownItem, ...]) -> str:
        """Items named by the source, in this language: "原石 ×60、モラ ×10,000" (escaped)."""
        known = self._items.get(items)
        if known is None:
            text = self.separator.join(
                item_text(i.name, i.amount, self.words) or self.unnamed for i in items
            )
            known = self._items[items] = html_text(text)
        return known

    def localized_rewards(self, c: ShownCode) -> str | None:
        """A code's items in this language when the source named every one and the language
        is not English (whose pages keep the source's words); else None."""
        if self.english or not c.items:
            return None
        items = c.items
        if items in self._localized:
            return self._localized[items]
        found = self.items_html(items) if all(i.name for i in items) else None
        self._localized[items] = found
        return found

    def source_label(self, source: str, label: str) -> str:
        """What a source is called here: players' reports in this language, sites by name."""
        return self.players if source == PLAYERS.id else label


# --- links between the languages ----------------------------------------------------------


def alternates(
    site_url: str, path: str, languages: Sequence[SiteLanguage]
) -> list[tuple[str, str]]:
    """The page in every language for `hreflang` links, English also as the x-default."""
    found = [(site.language.bcp47, f"{site_url}{site.folder}{path}") for site in languages]
    return [*found, ("x-default", f"{site_url}{path}")]


def picker(
    here: SiteLanguage, path: str, root: str, languages: Sequence[SiteLanguage]
) -> list[tuple[str, str, str, bool]]:
    """The language picker's links from a page to itself in every language, relative to it
    (`root` leads to the site root): (name, tag, href, whether it is this page)."""
    return [
        (
            site.language.name,
            site.language.bcp47,
            f"{root}{site.folder}{path}" or "./",
            site is here,
        )
        for site in languages
    ]


# --- the scripts' words ---------------------------------------------------------------------


def script_words(w: Words) -> Markup:
    """What site.js and filter.js say, in the page's language, as the JSON of a data block
    (`<script type="application/json">`): the page carries its words, no second request.
    Counts pick their form by the locale's plural category (Intl.PluralRules in the
    browser): each category gets the catalog's form for a number of that category."""
    locale = Locale.parse(w.language.locale)
    matches: dict[str, str] = {}
    for n in range(200):
        category = locale.plural_form(n)
        if category not in matches:
            matches[category] = w.translations.ngettext(
                "%(shown)s of %(count)s code match.", "%(shown)s of %(count)s codes match.", n
            )
    # Whole numbers are never "other" in some languages (Russian); a browser that finds no
    # form for a category takes this one.
    matches.setdefault(
        "other",
        w.translations.ngettext(
            "%(shown)s of %(count)s code match.", "%(shown)s of %(count)s codes match.", 2
        ),
    )
    text = {
        "copy": w._("Copy"),
        "copied": w._("Copied"),
        "select": w._("Selected: press Ctrl+C"),
        "copyCode": w._("Copy code %(code)s"),
        "yourTime": w._("%(local)s your time · %(utc)s"),
        "justNow": w._("just now"),
        "inAMinute": w._("in a minute"),
        "expires": w._("expires %(when)s"),
        "expired": w._("expired %(when)s"),
        "lastHour": w._("within the last hour"),
        "expiredToo": w._("Expired codes too: %(games)s"),
        "noMatch": w._("No code matches."),
        "matches": matches,
    }
    data = json.dumps(text, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    # Inside <script> no "<" may open a tag: JSON allows it written as \u003c.
    return Markup(data.replace("<", "\\u003c"))  # noqa: S704 - JSON, "<" escaped
