"""The static site: render a snapshot of the store to files and write them atomically.

The renderer (Jinja2, and every language's locale data) is imported when first named, not
with the package: the daemon renders in a worker process (bot/app/rendering.py) and itself
only reads snapshots and publishes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.site.indexnow import changed_page_urls, ping_indexnow
from bot.site.snapshot import SiteSnapshot
from bot.site.write import WriteReport, write_site

if TYPE_CHECKING:
    from bot.site.render import SiteRenderer, render_site

__all__ = [
    "SiteRenderer",
    "SiteSnapshot",
    "WriteReport",
    "changed_page_urls",
    "ping_indexnow",
    "render_site",
    "write_site",
]


def __getattr__(name: str) -> Any:
    if name in ("SiteRenderer", "render_site"):
        from bot.site import render

        return getattr(render, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
