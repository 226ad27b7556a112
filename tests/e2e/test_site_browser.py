"""Search, copy, times and icons of the code pages in Debian's Chromium, served by nginx.

The site is rendered here from a snapshot made for these tests, with reward icons run through
the real icon pipeline (fixture images served by an httpx MockTransport). Screenshots
(desktop and phone, light and dark) go to artifacts/screenshots/site-*.png.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from bot.core.catalog import load_catalog
from bot.core.domain import CodeStatus, CodeView, RewardItem, SourceHealth
from bot.site import SiteSnapshot, render_site, write_site
from bot.site.icons import IconStore
from tests.e2e.browser_setup import (
    DESKTOP,
    INSTALL_TIMEOUT_MARK,
    PHONE,
    ROOT,
    Nginx,
    open_page,
    require_nginx,
    running_nginx,
)
from tests.e2e.test_browser import CONTRAST_JS
from tests.recorded import LOCAL_FIXTURES

pytestmark = INSTALL_TIMEOUT_MARK

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
GAMES = tuple(load_catalog().games.values())
# Whole minutes, so the browser's clock can be set to exactly the render's "now".
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
CDN = "https://cdn.example.net/"
ICON_FILES = {"gem": "gem.png", "coin": "coin-wide.jpg", "book": "book.gif"}


def code(game: str, text: str, **fields: Any) -> CodeView:
    values: dict[str, Any] = {
        "status": CodeStatus.ACTIVE,
        "rewards": "",
        "items": (),
        "first_seen": NOW - timedelta(days=1),
        "last_seen": NOW,
        "expires_at": None,
        "sources": (f"fandom-{game}",),
    }
    values.update(fields)
    return CodeView(game=game, code=text, **values)


def icon(name: str) -> str:
    return f"{CDN}{name}.png"


CODES = (
    code(
        "genshin",
        "GENSHINGIFT",
        items=(RewardItem("Primogem", 60, icon("gem")), RewardItem("Mora", 10000, icon("coin"))),
        first_seen=NOW - timedelta(hours=3),
        expires_at=NOW + timedelta(days=2),
        sources=("fandom-genshin", "game8-genshin"),
    ),
    code(
        "genshin",
        "HOYOLIVE100",
        items=(RewardItem("", 100, icon("gem")), RewardItem("", 5, icon("book"))),
        first_seen=NOW - timedelta(minutes=30),
        expires_at=NOW + timedelta(hours=20),
        sources=("hoyolab-genshin",),
    ),
    code(
        "genshin",
        "MORAFORALL",
        rewards="Mora \u00d710000, Hero's Wit \u00d73",
        first_seen=NOW - timedelta(days=2),
    ),
    code(
        "genshin",
        "OLDGENSHIN1",
        status=CodeStatus.EXPIRED,
        rewards="Primogems \u00d730",
        first_seen=NOW - timedelta(days=20),
        expires_at=NOW - timedelta(days=10),
    ),
    code(
        "genshin",
        "ANCIENTCODE",
        status=CodeStatus.EXPIRED,
        rewards="Primogems \u00d750",
        first_seen=NOW - timedelta(days=90),
    ),
    code("hsr", "STARRAILGIFT", rewards="Stellar Jade \u00d7100, Credit \u00d750000"),
    code("hsr", "HSRMAYBE01", status=CodeStatus.UNKNOWN, rewards="Stellar Jade \u00d750"),
    code("zzz", "ZZZ24FAMILY", rewards="Polychrome \u00d7300"),
    code("zzz", "ZENLESSGIFT", rewards="Dennies \u00d730000"),
    code("hi3", "HI3CRYSTALS", rewards="Crystals \u00d7100"),
    code("wuwa", "WUWAGIFT2025", rewards="Astrite \u00d750"),
)
CURRENT = [c.code for c in CODES if c.status is not CodeStatus.EXPIRED]


def source(source_id: str, game: str, **fields: Any) -> SourceHealth:
    values: dict[str, Any] = {
        "kind": source_id.split("-")[0],
        "url": f"https://{source_id}.example.org/codes",
        "last_attempt": NOW,
        "last_success": NOW - timedelta(minutes=4),
        "last_error": None,
        "consecutive_failures": 0,
        "last_count": 3,
        "probably_broken": False,
    }
    values.update(fields)
    return SourceHealth(id=source_id, game=game, **values)


SOURCES = (
    source("fandom-genshin", "genshin"),
    source(
        "game8-genshin",
        "genshin",
        last_error="unavailable: timed out (ReadTimeout)",
        consecutive_failures=2,
    ),
    source("hoyolab-genshin", "genshin"),
    source(
        "fandom-hsr",
        "hsr",
        last_error="rejected: HTTP 404",
        consecutive_failures=9,
        probably_broken=True,
        last_success=NOW - timedelta(days=3),
    ),
    source("fandom-zzz", "zzz"),
    source("fandom-hi3", "hi3", last_success=None, last_attempt=None, last_count=None),
    source("fandom-wuwa", "wuwa"),
)


def build_site(folder: Path) -> None:
    def cdn(request: httpx.Request) -> httpx.Response:
        name = request.url.path.strip("/").removesuffix(".png")
        data = (LOCAL_FIXTURES / "icons" / ICON_FILES[name]).read_bytes()
        return httpx.Response(200, content=data)

    async def icons() -> dict[str, Any]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(cdn)) as client:
            store = IconStore(folder, client, lambda: NOW)
            return await store.resolve(icon(name) for name in ICON_FILES)

    # A thread of its own: the test session may already run an event loop in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        found = pool.submit(asyncio.run, icons()).result()
    assert len(found) == len(ICON_FILES)
    snapshot = SiteSnapshot(
        games=GAMES,
        codes=CODES,
        sources=SOURCES,
        generated_at=NOW,
        site_url="https://codes.example.org/",
        icons=found,
    )
    write_site(folder, render_site(snapshot))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    nginx = require_nginx()
    site = tmp_path_factory.mktemp("site")
    build_site(site)
    with running_nginx(nginx, site, tmp_path_factory.mktemp("nginx")) as running:
        yield running


def visible_codes(page: Page, rows: str) -> list[str]:
    return page.locator(f"{rows}:visible code.code").all_inner_texts()


def search(page: Page, text: str) -> None:
    box = page.locator("#q")
    box.fill("")
    box.press_sequentially(text, delay=5)


def test_typing_in_the_search_box_filters_as_you_type(
    context: BrowserContext, server: Nginx
) -> None:
    page = open_page(context, server, "/")
    rows = ".codes > li"
    assert sorted(visible_codes(page, rows)) == sorted(CURRENT)
    assert page.locator("#fcount").inner_text() == ""

    search(page, "genshingi")  # by code, in any case
    assert visible_codes(page, rows) == ["GENSHINGIFT"]
    assert page.locator("#fcount").inner_text() == f"1 of {len(CURRENT)} codes match."
    assert page.locator("section.game:visible").count() == 1

    search(page, "stellar jade")  # by reward, every word
    assert sorted(visible_codes(page, rows)) == ["HSRMAYBE01", "STARRAILGIFT"]
    search(page, "credit jade")
    assert visible_codes(page, rows) == ["STARRAILGIFT"]

    search(page, "primogem")  # by the name of a reward picture
    assert visible_codes(page, rows) == ["GENSHINGIFT"]

    search(page, "zenless")  # by game
    assert sorted(visible_codes(page, rows)) == ["ZENLESSGIFT", "ZZZ24FAMILY"]

    search(page, "nothing like this")
    assert visible_codes(page, rows) == []
    assert page.locator("#fcount").inner_text() == "No code matches."
    # The front page has current codes only: each game's archive is offered, same search.
    archive = page.locator(".archive a").first
    assert archive.get_attribute("href") == "genshin/?q=nothing%20like%20this&status=expired"
    assert "q=nothing+like+this" in page.url  # the search is kept in the address

    search(page, "")
    page.locator("#fg").select_option("hsr")
    assert sorted(visible_codes(page, rows)) == ["HSRMAYBE01", "STARRAILGIFT"]
    assert page.url.endswith("/?game=hsr")


def test_the_game_page_filters_by_status_and_searches_the_archive(
    context: BrowserContext, server: Nginx
) -> None:
    page = open_page(context, server, "/genshin/")
    details = page.locator("details.expired")
    assert details.get_attribute("open") is None

    search(page, "oldgen")
    assert visible_codes(page, "li.card") == ["OLDGENSHIN1"]
    assert details.get_attribute("open") is not None  # opened to show what was found
    assert not page.locator("section.current").is_visible()
    search(page, "")
    assert details.get_attribute("open") is None  # folded again
    assert len(visible_codes(page, "li.card")) == 3

    page.locator("#fs").select_option("expired")
    assert sorted(visible_codes(page, "li.card")) == ["ANCIENTCODE", "OLDGENSHIN1"]
    page.locator("#fs").select_option("active")
    assert sorted(visible_codes(page, "li.card")) == ["GENSHINGIFT", "HOYOLIVE100", "MORAFORALL"]
    assert not details.is_visible()

    # A search handed over from the front page arrives filled in.
    shared = open_page(context, server, "/genshin/?q=ancient&status=expired")
    assert shared.locator("#q").input_value() == "ancient"
    assert shared.locator("#fs").input_value() == "expired"
    assert visible_codes(shared, "li.card") == ["ANCIENTCODE"]


def test_the_search_is_reached_and_used_with_the_keyboard(
    context: BrowserContext, server: Nginx
) -> None:
    page = open_page(context, server, "/")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("wuwa")
    assert visible_codes(page, ".codes > li") == ["WUWAGIFT2025"]
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "fg"
    # Every control has a visible label tied to it.
    for control in ("q", "fg"):
        assert page.locator(f"label[for='{control}']").is_visible()


def test_copy_puts_the_code_on_the_clipboard_with_visible_feedback(
    browser: Browser, server: Nginx
) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"], **DESKTOP)
    try:
        for path, row in (("/", ".codes > li"), ("/zzz/", "li.card")):
            page = open_page(context, server, path)
            item = page.locator(row, has_text="ZZZ24FAMILY")
            button = item.locator("button.copy")
            button.click()
            page.wait_for_function("b => b.textContent === 'Copied'", arg=button.element_handle())
            assert page.evaluate("navigator.clipboard.readText()") == "ZZZ24FAMILY"
            assert "done" in (button.get_attribute("class") or "")
        card = page.locator("li.card", has_text="ZZZ24FAMILY")
        assert "Family ZZZ24" in card.inner_text()
    finally:
        context.close()


def test_times_are_relative_in_the_readers_zone_and_keep_up_without_reload(
    browser: Browser, server: Nginx
) -> None:
    context = browser.new_context(timezone_id="Asia/Tokyo", locale="en-GB", **DESKTOP)
    try:
        page = context.new_page()
        page.clock.install(time=NOW)
        page.goto(server.base_url + "/genshin/")
        card = page.locator("li.card", has_text="GENSHINGIFT")
        seen = card.locator(".meta time").first
        expiry = card.locator("time.exp")
        assert seen.inner_text() == "3 h ago"
        assert expiry.inner_text() == "expires in 2 days"
        assert (
            page.locator("li.card", has_text="HOYOLIVE100").locator("time.exp").inner_text()
            == "expires in 20 h"
        )
        old = page.locator("li.card", has_text="OLDGENSHIN1").locator("time.exp")
        assert old.text_content() == "expired 10 days ago"  # folded away, so not inner_text
        # The exact time stays in the attribute; the title adds the reader's own zone.
        first = (NOW - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert seen.get_attribute("datetime") == first
        title = seen.get_attribute("title") or ""
        tokyo = (NOW - timedelta(hours=3) + timedelta(hours=9)).strftime("%H:%M")
        assert tokyo in title
        assert title.endswith(first.replace("T", " ").replace("Z", " UTC"))

        page.clock.fast_forward("21:00:00")
        assert seen.inner_text() == "1 day ago"
        assert (
            page.locator("li.card", has_text="HOYOLIVE100").locator("time.exp").inner_text()
            == "expired 1 h ago"
        )
    finally:
        context.close()


def test_icons_come_from_the_site_and_nothing_leaves_127_0_0_1(
    context: BrowserContext, server: Nginx
) -> None:
    requested: list[str] = []
    problems: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    context.on("requestfailed", lambda request: problems.append(f"failed {request.url}"))
    context.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    for path in ("/", "/genshin/", "/sources.html", "/?q=gift&game=genshin"):
        page.goto(server.base_url + path, wait_until="load")
        # Icons load lazily: the ones below the fold are fetched on scrolling. Ask for all of
        # them now and wait until each is decoded (or has failed), so none is judged early.
        page.evaluate(
            """() => Promise.all([...document.images].map((img) => {
                 img.loading = "eager"; return img.decode().catch(() => null); }))"""
        )
        pictures = page.evaluate(
            """() => [...document.images].map((img) => ({
                 src: img.currentSrc, ok: img.complete && img.naturalWidth > 0,
                 w: img.getAttribute("width"), h: img.getAttribute("height")}))"""
        )
        for picture in pictures:
            # Chromium takes the WebP; the PNG is there for browsers that cannot.
            assert picture["ok"], picture
            assert picture["src"].endswith(".webp"), picture
            assert picture["w"], picture
            assert picture["h"], picture
    assert any("/icons/" in url for url in requested)
    assert [u for u in requested if not u.startswith(server.base_url + "/")] == []
    assert problems == []


def test_without_javascript_every_code_is_listed_and_no_dead_control_shows(
    browser: Browser, server: Nginx
) -> None:
    context = browser.new_context(java_script_enabled=False, **DESKTOP)
    try:
        page = open_page(context, server, "/")
        assert not page.locator("form.filter").is_visible()
        assert sorted(visible_codes(page, ".codes > li")) == sorted(CURRENT)
        # The exact UTC time is the text when no script makes it relative.
        time = page.locator("li", has_text="GENSHINGIFT").locator("time").first
        assert time.inner_text() == (NOW - timedelta(hours=3)).strftime("%Y-%m-%d")
    finally:
        context.close()


def test_new_parts_keep_wcag_aa_contrast_in_both_themes(
    context: BrowserContext, server: Nginx
) -> None:
    failures = []
    page = context.new_page()
    for path in ("/?q=gift", "/genshin/?q=o", "/zzz/", "/sources.html"):
        page.goto(server.base_url + path)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
            results = page.evaluate(CONTRAST_JS)
            assert results
            failures += [
                f"{scheme} {path} {r['what']} {r['text']!r}: {r['ratio']} < {r['needed']}"
                for r in results
                if r["ratio"] < r["needed"]
            ]
    assert failures == []


def test_screenshots_desktop_and_phone_light_and_dark(browser: Browser, server: Nginx) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for device, options in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(**options)
        page = context.new_page()
        try:
            for name, path in (
                ("index", "/"),
                ("search", "/?q=primo"),
                ("genshin", "/genshin/"),
                ("archive", "/genshin/?status=expired"),
                ("sources", "/sources.html"),
            ):
                page.goto(server.base_url + path)
                for scheme in ("light", "dark"):
                    page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
                    target = SCREENSHOTS / f"site-{name}-{device}-{scheme}.png"
                    page.screenshot(path=str(target), full_page=True)
                    assert target.stat().st_size > 10_000
        finally:
            context.close()


def test_two_languages_carry_their_lang_hreflang_picker_and_words(
    browser: Browser, server: Nginx
) -> None:
    """The Japanese and the German game page: `<html lang>`, the alternates of every
    language, a picker that leads to the same page in another language, and the scripts'
    words (copy, times, the filter's count) in the page's language."""
    context = browser.new_context(timezone_id="UTC", locale="en-US", **DESKTOP)
    try:
        page = context.new_page()
        page.clock.install(time=NOW)
        page.goto(server.base_url + "/ja/genshin/")
        assert page.locator("html").get_attribute("lang") == "ja"
        alternates = page.eval_on_selector_all(
            "link[rel=alternate][hreflang]",
            "links => Object.fromEntries(links.map(l => [l.hreflang, l.href]))",
        )
        assert alternates["ja"] == "https://codes.example.org/ja/genshin/"
        assert alternates["de"] == "https://codes.example.org/de/genshin/"
        assert alternates["x-default"] == "https://codes.example.org/genshin/"
        assert len(alternates) == 13
        assert page.locator("h1").inner_text() == "原神のコード"
        card = page.locator("li.card", has_text="GENSHINGIFT")
        assert card.locator("button.copy").inner_text() == "コピー"
        assert card.locator("button.copy").get_attribute("aria-label") == (
            "コード GENSHINGIFT をコピー"
        )
        # "3 hours ago" as the browser says it in Japanese, whatever its own language.
        three_hours = page.evaluate(
            "new Intl.RelativeTimeFormat('ja', {numeric: 'always', style: 'long'})"
            ".format(-3, 'hour')"
        )
        assert card.locator(".meta time").first.inner_text() == three_hours
        assert "原石" in card.locator(".rw").inner_text()
        search(page, "gift")
        assert page.locator("#fcount").inner_text().endswith("件が一致。")

        page.locator("details.langs summary").click()
        page.locator("details.langs a", has_text="Deutsch").click()
        page.wait_for_url(server.base_url + "/de/genshin/")
        assert page.locator("html").get_attribute("lang") == "de"
        assert page.locator("h1").inner_text() == "Genshin Impact-Codes"
        card = page.locator("li.card", has_text="GENSHINGIFT")
        assert card.locator("button.copy").inner_text() == "Kopieren"
        in_two_days = page.evaluate(
            "new Intl.RelativeTimeFormat('de', {numeric: 'always', style: 'long'})"
            ".format(2, 'day')"
        )
        assert card.locator("time.exp").inner_text() == f"läuft ab {in_two_days}"
        current = page.locator("details.langs a[aria-current=page]")
        assert current.get_attribute("hreflang") == "de"
    finally:
        context.close()
