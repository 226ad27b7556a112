"""Browser fixtures shared by the end-to-end page tests: one Chromium per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

from tests.e2e.browser_setup import DESKTOP, launch_chromium, require_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_chromium()
    playwright: Playwright = sync_playwright().start()
    try:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(**DESKTOP)
    yield ctx
    ctx.close()
