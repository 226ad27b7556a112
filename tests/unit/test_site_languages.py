"""The site in every language: a folder per language with English at the root, `<html lang>`,
hreflang alternates and a picker that lead to the same page in each, the words, names,
numbers and days of each locale, language-neutral data, and a sitemap of every page."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
from lxml import etree

from bot.core.catalog import load_catalog
from bot.core.domain import CodeStatus, CodeView, RewardItem
from bot.core.language import LANGUAGES
from bot.site import SiteSnapshot, render_site

GAMES = tuple(load_catalog().games.values())
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SITE = "https://codes.example.org/"
PAGES = ["", *(f"{g.id}/" for g in GAMES), "sources.html"]
FOLDERS = ["" if language.tag == "en" else f"{language.tag}/" for language in LANGUAGES]


def view(game: str, code: str, **fields: object) -> CodeView:
    values: dict[str, object] = {
        "status": CodeStatus.ACTIVE,
        "rewards": "60 Primogems and 10000 Mora",
        "items": (RewardItem("Primogem", 60), RewardItem("Mora", 10000)),
        "first_seen": NOW - timedelta(hours=3),
        "last_seen": NOW,
        "expires_at": NOW + timedelta(days=2),
        "sources": ("fandom-genshin",),
    }
    values.update(fields)
    return CodeView(game=game, code=code, **values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    codes = (
        view("genshin", "GENSHINGIFT"),
        view("genshin", "WORDSONLY", items=(), rewards="Some gems"),
        view("hsr", "STARRAILGIFT", items=(RewardItem("Stellar Jade", 50),), rewards=""),
    )
    snapshot = SiteSnapshot(games=GAMES, codes=codes, sources=(), generated_at=NOW, site_url=SITE)
    return render_site(snapshot)


def path_of(folder: str, page: str) -> str:
    return f"{folder}{page or ''}index.html" if not page.endswith(".html") else folder + page


class Head(HTMLParser):
    """The <html lang>, the hreflang links and the picker's links of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.lang = ""
        self.alternates: dict[str, str] = {}
        self.picker: list[dict[str, str | None]] = []
        self._in_picker = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.lang = found.get("lang") or ""
        elif tag == "link" and found.get("rel") == "alternate" and "hreflang" in found:
            self.alternates[found["hreflang"] or ""] = found.get("href") or ""
        elif tag == "details" and found.get("class") == "langs":
            self._in_picker = True
        elif tag == "a" and self._in_picker:
            self.picker.append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self._in_picker = False


def head(files: dict[str, bytes], path: str) -> Head:
    parser = Head()
    parser.feed(files[path].decode())
    return parser


def test_every_page_is_in_every_language_with_english_at_the_root(
    files: dict[str, bytes],
) -> None:
    for language, folder in zip(LANGUAGES, FOLDERS, strict=True):
        for page in PAGES:
            found = head(files, path_of(folder, page))
            assert found.lang == language.bcp47, (folder, page)
    assert head(files, "index.html").lang == "en"
    assert head(files, "zh-hans/index.html").lang == "zh-Hans"
    assert head(files, "pt-br/genshin/index.html").lang == "pt-BR"


def test_hreflang_names_the_page_in_every_language_and_english_as_the_default(
    files: dict[str, bytes],
) -> None:
    for folder in FOLDERS:
        for page in PAGES:
            alternates = head(files, path_of(folder, page)).alternates
            assert set(alternates) == {language.bcp47 for language in LANGUAGES} | {"x-default"}
            assert alternates["x-default"] == f"{SITE}{page}"
            for language, other in zip(LANGUAGES, FOLDERS, strict=True):
                url = alternates[language.bcp47]
                assert url == f"{SITE}{other}{page}"
                # Each alternate is a page of the site, which names this one back.
                target = path_of(other, page)
                back = head(files, target).alternates
                assert back[head(files, path_of(folder, page)).lang] == f"{SITE}{folder}{page}"


def test_the_picker_links_each_page_to_itself_in_every_language(files: dict[str, bytes]) -> None:
    for folder in FOLDERS:
        for page in PAGES:
            here = path_of(folder, page)
            found = head(files, here)
            assert len(found.picker) == len(LANGUAGES)
            current = [link for link in found.picker if link.get("aria-current") == "page"]
            assert [link["hreflang"] for link in current] == [found.lang]
            for link, language, other in zip(found.picker, LANGUAGES, FOLDERS, strict=True):
                assert link["hreflang"] == link["lang"] == language.bcp47
                # Relative links, followed from the page's own address.
                followed = urljoin(f"{SITE}{folder}{page}", link["href"] or "")
                assert followed == f"{SITE}{other}{page}", (here, link["href"])


def test_each_language_speaks_its_words_names_numbers_and_days(files: dict[str, bytes]) -> None:
    ja = files["ja/genshin/index.html"].decode()
    assert "<h1>原神のコード</h1>" in ja
    assert "原石 ×60、モラ ×10,000" in ja  # the items in the game's own Japanese names
    assert "Some gems" in ja  # no items named: the source's words
    assert "2025/03/01 09:00 UTC" in ja
    de = files["de/genshin/index.html"].decode()
    assert "Urgestein ×60, Mora ×10.000" in de
    assert "01.03.2025 09:00 UTC" in de
    assert "<h1>Genshin Impact-Codes</h1>" in de
    ru = files["ru/hsr/index.html"].decode()
    assert "Звёздный нефрит ×50" in ru
    english = files["genshin/index.html"].decode()
    assert "60 Primogems and 10000 Mora" in english  # English keeps the source's words
    assert "2025-03-01 09:00 UTC" in english


def test_the_scripts_words_travel_in_the_page(files: dict[str, bytes]) -> None:
    for folder in FOLDERS:
        html = files[f"{folder}genshin/index.html"].decode()
        block = re.search(r'<script type="application/json" id="l10n">(.*?)</script>', html)
        assert block is not None
        words = json.loads(block.group(1))
        assert {"copy", "copied", "expires", "expired", "noMatch", "matches"} <= set(words)
        assert "other" in words["matches"]
    ja = json.loads(
        re.search(r'id="l10n">(.*?)</script>', files["ja/index.html"].decode()).group(1)  # type: ignore[union-attr]
    )
    assert ja["copy"] == "コピー"
    ru = json.loads(
        re.search(r'id="l10n">(.*?)</script>', files["ru/index.html"].decode()).group(1)  # type: ignore[union-attr]
    )
    assert set(ru["matches"]) == {"one", "few", "many", "other"}


def test_the_data_is_one_for_all_languages(files: dict[str, bytes]) -> None:
    assert not [p for p in files if p.endswith(".json") and p.split("/")[0] in FOLDERS_NAMES]
    data = json.loads(files["codes.json"])
    codes = {c["code"]: c for g in data["games"] for c in g["codes"]}
    localized = codes["GENSHINGIFT"]["rewards_localized"]
    assert set(localized) == {language.tag for language in LANGUAGES}
    assert localized["ja"] == "原石 ×60、モラ ×10,000"
    assert localized["fr"] == "Primogemme ×60, Moras ×10\u202f000"
    assert codes["GENSHINGIFT"]["rewards"] == "60 Primogems and 10000 Mora"
    assert codes["WORDSONLY"]["rewards_localized"] == {}


FOLDERS_NAMES = {folder.strip("/") for folder in FOLDERS if folder}


def test_feeds_are_written_per_language(files: dict[str, bytes]) -> None:
    feed = etree.fromstring(files["ja/feed.xml"])
    ns = "{http://www.w3.org/2005/Atom}"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "ja"
    assert feed.findtext(f"{ns}title") == "ゲームのコード"
    entry = feed.find(f"{ns}entry")
    assert entry is not None
    assert (entry.findtext(f"{ns}id") or "").startswith(f"{SITE}ja/")
    assert "原石 ×60" in (entry.findtext(f"{ns}content") or "")
    assert etree.fromstring(files["feed.xml"]).findtext(f"{ns}title") == "Game codes"


def test_the_sitemap_lists_every_languages_pages(files: dict[str, bytes]) -> None:
    root = etree.fromstring(files["sitemap.xml"])
    locs = {loc.text for loc in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")}
    assert locs == {f"{SITE}{folder}{page}" for folder in FOLDERS for page in PAGES}
