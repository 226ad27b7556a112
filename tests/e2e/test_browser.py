"""The demo site in Debian's Chromium, served by nginx: copy, redeem, folding, no-JS, phone, a11y.

The site is the one `python -m tests.demo` builds from recorded pages. Screenshots (desktop and
phone, light and dark) are saved to artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext

from bot.core.catalog import load_catalog
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

pytestmark = INSTALL_TIMEOUT_MARK

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
GAMES = load_catalog().games
PAGES = ["/", *(f"/{game}/" for game in GAMES), "/sources.html"]
# The same pages in two of the other languages' folders.
LANGUAGE_PAGES = ["/ja/", "/ja/genshin/", "/ja/sources.html", "/de/", "/de/hsr/"]
# WCAG 2.1 AA: 4.5:1 for text, 3:1 for large text (24 px, or 18.66 px bold).
CONTRAST_JS = """
() => {
  const parse = (text) => {
    const m = text.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const channel = (v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  };
  const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) return c;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  const blend = (fg, bg) => ({
    r: fg.r * fg.a + bg.r * (1 - fg.a),
    g: fg.g * fg.a + bg.g * (1 - fg.a),
    b: fg.b * fg.a + bg.b * (1 - fg.a),
  });
  const results = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.closest(".vh") || el.getClientRects().length === 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden") continue;
    const bg = background(el);
    const fg = blend(parse(style.color), bg);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const ratio = (hi + 0.05) / (lo + 0.05);
    results.push({
      what: el.tagName.toLowerCase() + (el.className ? "." + el.className : ""),
      text: el.textContent.trim().slice(0, 40),
      ratio: Math.round(ratio * 100) / 100,
      needed: large ? 3 : 4.5,
      color: style.color,
    });
  }
  return results;
}
"""
LAYOUT_SHIFT_JS = """
window.__layoutShift = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (!entry.hadRecentInput) window.__layoutShift += entry.value;
  }
}).observe({type: "layout-shift", buffered: true});
"""


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's site: real recorded pages, two cycles, a livestream with codes between."""
    folder = tmp_path_factory.mktemp("demo")
    result = subprocess.run(
        [sys.executable, "-m", "tests.demo", "--folder", str(folder), "--cycles", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return folder / "public"


def listed(site: Path, game: str | None = None) -> list[dict[str, object]]:
    """The codes the demo's site lists (its codes.json), of one game or all: what the page
    tests count against, whatever pages the demo had to read."""
    data = json.loads((site / "codes.json").read_text(encoding="utf-8"))
    return [
        {**code, "game": entry["id"]}
        for entry in data["games"]
        if game is None or entry["id"] == game
        for code in entry["codes"]
    ]


@pytest.fixture(scope="module")
def server(demo_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    nginx = require_nginx()
    with running_nginx(nginx, demo_site, tmp_path_factory.mktemp("nginx")) as running:
        yield running


def test_copy_button_puts_the_code_on_the_clipboard(browser: Browser, server: Nginx) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"], **DESKTOP)
    try:
        for path, item in (("/genshin/", "li.card:not(.old)"), ("/", ".codes li")):
            page = open_page(context, server, path)
            row = page.locator(item).nth(1)
            code = row.locator("code.code").inner_text()
            button = row.locator("button.copy")
            assert button.get_attribute("aria-label") == f"Copy code {code}"

            button.click()

            page.wait_for_function("b => b.textContent === 'Copied'", arg=button.element_handle())
            assert page.evaluate("navigator.clipboard.readText()") == code
            # Screen readers hear it too.
            assert page.locator("[aria-live]").inner_text() == f"{code}: Copied"
    finally:
        context.close()


CARDS_JS = """
(selector) => [...document.querySelectorAll(selector)].map((item) => {
  const link = item.querySelector("a.redeem, .codes li > a");
  return {
    code: item.querySelector("code.code").textContent,
    expired: item.classList.contains("old"),
    game: (item.closest("[class*='g-']").className.match(/g-([a-z0-9_-]+)/) || [])[1],
    href: link && link.getAttribute("href"),
    target: link && link.getAttribute("target"),
    rel: link && link.getAttribute("rel"),
  };
})
"""


def test_redeem_links_open_the_official_page_with_that_code(
    context: BrowserContext, server: Nginx, demo_site: Path
) -> None:
    items = []
    for game in GAMES:
        items += open_page(context, server, f"/{game}/").evaluate(CARDS_JS, "li.card")
    items += open_page(context, server, "/").evaluate(CARDS_JS, ".codes li")
    linked = 0
    for item in items:
        game = GAMES[item["game"]]
        if game.redeem_url is None or item["expired"]:
            # In-game only, or expired: a link would lead nowhere.
            assert item["href"] is None, item
            continue
        assert item["href"] == game.redeem_link(item["code"]), item
        assert item["target"] == "_blank"
        assert "noopener" in item["rel"]
        linked += 1
    # Each redeemable code has a link on its game's page at least (and on the front page).
    redeemable = [
        c for c in listed(demo_site) if c["status"] != "expired" and GAMES[c["game"]].redeem_url
    ]
    assert redeemable
    assert linked >= len(redeemable)
    expired = sum(1 for c in listed(demo_site) if c["status"] == "expired")
    assert expired
    assert sum(1 for item in items if item["expired"]) == expired


def test_expired_codes_are_folded_until_asked_for(
    context: BrowserContext, server: Nginx, demo_site: Path
) -> None:
    page = open_page(context, server, "/genshin/")
    details = page.locator("main details")
    expired = details.locator("li.card.old")
    count = expired.count()
    assert count == sum(1 for c in listed(demo_site, "genshin") if c["status"] == "expired")
    assert count > 0
    assert details.get_attribute("open") is None
    assert details.locator("summary").inner_text() == f"Expired codes ({count})"
    assert not expired.first.is_visible()
    assert page.locator("li.card:not(.old)").first.is_visible()

    details.locator("summary").click()

    assert expired.first.is_visible()
    # The front page lists current codes only.
    front = open_page(context, server, "/")
    shown = set(front.locator(".g-genshin .codes code.code").all_inner_texts())
    assert shown.isdisjoint(expired.locator("code.code").all_inner_texts())


def test_the_pages_work_without_javascript(browser: Browser, server: Nginx) -> None:
    context = browser.new_context(java_script_enabled=False, **DESKTOP)
    try:
        page = open_page(context, server, "/hsr/")
        assert page.locator("li.card code.code").first.is_visible()
        assert page.locator("a.redeem").count() > 0
        # No copy buttons that could not work: the code is plain selectable text.
        assert page.locator("button").count() == 0
        # Folding is HTML's own <details>: it opens without a script.
        page.locator("details.expired summary").click()
        assert page.locator("li.card.old").first.is_visible()
        page.locator("nav a", has_text="Zenless").click()
        assert page.url == f"{server.base_url}/zzz/"
        # So is the language picker: links to the same page in each language.
        page.locator("details.langs summary").click()
        page.locator("details.langs a", has_text="日本語").click()
        assert page.url == f"{server.base_url}/ja/zzz/"
        assert page.locator("html").get_attribute("lang") == "ja"
        assert page.locator("h1").inner_text() == "ゼンレスゾーンゼロのコード"
    finally:
        context.close()


def test_nothing_is_fetched_from_another_host(context: BrowserContext, server: Nginx) -> None:
    requested: list[str] = []
    problems: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    # Leaving a page cancels the lazy images it had not loaded yet (net::ERR_ABORTED): that is
    # the browser's doing, not a failed request; every image is still asked for once below.
    context.on(
        "requestfailed",
        lambda request: (
            None
            if "ERR_ABORTED" in (request.failure or "")
            else problems.append(f"failed {request.url}: {request.failure}")
        ),
    )
    context.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    page = context.new_page()
    # A blocked script or style (Content-Security-Policy) shows as a console error.
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    for path in PAGES + LANGUAGE_PAGES:
        page.goto(server.base_url + path, wait_until="load")
    # The last page is left open until it is quiet: its images load to the end.
    page.wait_for_load_state("networkidle")
    assert requested
    outside = [url for url in requested if not url.startswith(server.base_url + "/")]
    assert outside == []
    assert problems == []


OPEN_ALL_DETAILS = "document.querySelectorAll('details').forEach((d) => { d.open = true; })"


@pytest.mark.parametrize("width", [320, 390])
def test_a_phone_never_scrolls_sideways(browser: Browser, server: Nginx, width: int) -> None:
    context = browser.new_context(**{**PHONE, "viewport": {"width": width, "height": 800}})
    try:
        page = context.new_page()
        for path in PAGES + LANGUAGE_PAGES:
            page.goto(server.base_url + path)
            page.evaluate(OPEN_ALL_DETAILS)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} is {overflow}px wider than a {width}px phone"
    finally:
        context.close()


def test_text_contrast_meets_wcag_aa_in_both_themes(
    context: BrowserContext, server: Nginx
) -> None:
    failures = []
    page = context.new_page()
    for path in ("/", "/genshin/", "/sources.html", "/ja/genshin/", "/ru/"):
        page.goto(server.base_url + path)
        page.evaluate(OPEN_ALL_DETAILS)
        for scheme in ("light", "dark"):
            # No colour transitions: the colours are read at once, not 150 ms later.
            page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
            results = page.evaluate(CONTRAST_JS)
            assert results
            failures += [
                f"{scheme} {path} {r['what']} {r['text']!r}: {r['ratio']} < {r['needed']}"
                for r in results
                if r["ratio"] < r["needed"]
            ]
    assert failures == []


def test_buttons_and_links_have_names_that_tell_them_apart(
    context: BrowserContext, server: Nginx
) -> None:
    for path in ("/", "/genshin/"):
        page = open_page(context, server, path)
        names = page.evaluate(
            """() => [...document.querySelectorAll("a, button")].map((el) => [
                el.tagName, (el.getAttribute("aria-label") || el.textContent).trim()])"""
        )
        assert all(name for _, name in names), names
        buttons = [name for tag, name in names if tag == "BUTTON"]
        redeem = [name for tag, name in names if name.startswith("Redeem")]
        assert buttons
        assert redeem
        # "Copy" or "Redeem" alone would not say which code.
        assert len(set(buttons)) == len(buttons)
        assert len(set(redeem)) == len(redeem)
        page.close()


STRUCTURE_JS = """
() => ({
  lang: document.documentElement.lang,
  h1: document.querySelectorAll("h1").length,
  main: document.querySelectorAll("main#main").length,
  nav: document.querySelectorAll("nav[aria-label]").length,
  skip: document.querySelectorAll("a.skip[href='#main']").length,
  levels: [...document.querySelectorAll("h1,h2,h3,h4,h5,h6")].map((h) => +h.tagName[1]),
})
"""


def test_pages_are_structured_for_assistive_technology(
    context: BrowserContext, server: Nginx
) -> None:
    page = context.new_page()
    for path in PAGES + LANGUAGE_PAGES:
        page.goto(server.base_url + path)
        found = page.evaluate(STRUCTURE_JS)
        levels = found.pop("levels")
        lang = path.split("/")[1] if path.startswith(("/ja/", "/de/")) else "en"
        assert found == {"lang": lang, "h1": 1, "main": 1, "nav": 1, "skip": 1}, path
        # Headings go down one level at a time (no h1 -> h3 jumps).
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels


def test_nothing_moves_once_the_page_is_shown(browser: Browser, server: Nginx) -> None:
    context = browser.new_context(**PHONE)
    context.add_init_script(LAYOUT_SHIFT_JS)
    try:
        for path in ("/", "/genshin/"):
            page = open_page(context, server, path)
            unsized = page.locator("img:not([width][height]), iframe:not([width][height])")
            assert unsized.count() == 0
            page.wait_for_timeout(300)
            shift = page.evaluate("window.__layoutShift")
            assert shift < 0.01, f"{path}: cumulative layout shift {shift}"
            page.close()
    finally:
        context.close()


def test_screenshots_desktop_and_phone_light_and_dark(browser: Browser, server: Nginx) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    backgrounds: dict[str, set[str]] = {"light": set(), "dark": set()}
    for device, options in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(**options)
        page = context.new_page()
        try:
            for name, path in (("index", "/"), ("genshin", "/genshin/")):
                page.goto(server.base_url + path)
                for scheme in ("light", "dark"):
                    page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
                    target = SCREENSHOTS / f"{name}-{device}-{scheme}.png"
                    page.screenshot(path=str(target), full_page=name == "index")
                    assert target.stat().st_size > 10_000
                    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
                    backgrounds[scheme].add(background)
        finally:
            context.close()
    # Each theme has one background on every page and device: light white, dark near black.
    assert backgrounds == {"light": {"rgb(255, 255, 255)"}, "dark": {"rgb(21, 23, 27)"}}
