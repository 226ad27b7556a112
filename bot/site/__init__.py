"""The static site: render a snapshot of the store to files and write them atomically."""

from __future__ import annotations

from bot.site.indexnow import changed_page_urls, ping_indexnow
from bot.site.render import SiteRenderer, SiteSnapshot, render_site
from bot.site.write import WriteReport, write_site

__all__ = [
    "SiteRenderer",
    "SiteSnapshot",
    "WriteReport",
    "changed_page_urls",
    "ping_indexnow",
    "render_site",
    "write_site",
]
