"""Render the static site from one snapshot of the store: a pure function of its input."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.core.domain import PLAYERS, CodeView, Game, SourceHealth
from bot.core.submission import ReportCounts
from bot.core.text import web_url
from bot.site.cards import front_lines, game_cards, source_anchor
from bot.site.feeds import atom_feeds, codes_json_files, robots_txt, sitemap_xml
from bot.site.health import source_groups, sources_json
from bot.site.view import GameCodes, arrange, iso, utc_exact, utc_text

if TYPE_CHECKING:
    from bot.site.icons import Icon

log = logging.getLogger(__name__)

# IndexNow keys are 8 to 128 characters of this alphabet; the key file sits at the site root.
_INDEXNOW_KEY = re.compile(r"[A-Za-z0-9-]{8,128}")


@dataclass(frozen=True)
class SiteSnapshot:
    games: tuple[Game, ...]  # catalog order
    codes: tuple[CodeView, ...]  # all codes of all games (active, unknown, expired)
    sources: tuple[SourceHealth, ...]
    generated_at: datetime  # tz-aware UTC
    site_url: str  # absolute base URL, ends with "/"
    # When set, the site carries the IndexNow key file (<key>.txt) that proves ownership.
    indexnow_key: str | None = None
    # Reward icon URL -> the icon stored under icons/ (bot.site.icons); others show as text.
    icons: Mapping[str, Icon] = field(default_factory=dict)
    # Verification accounts HoYoverse refuses ("verification account alt-1: cookie expired").
    verification_notes: tuple[str, ...] = ()
    # How players' reports fared (accepted, rejected, waiting), for the sources page.
    reports: ReportCounts | None = None
    # Source id -> what players call it (SourceConfig.label); ids not in it show as they are.
    source_names: Mapping[str, str] = field(default_factory=dict)


# Why nothing on the pages shows snapshot.generated_at: the site is rendered every cycle (a
# few minutes), and write_site only writes files whose bytes changed. A "generated at" stamp
# would change every file every cycle, rewrite the whole site, defeat HTTP caching (ETag /
# Last-Modified) and make IndexNow ping unchanged pages. Instead:
#   * pages say when the newest code was first seen (changes only with a new code);
#   * last_seen (JSON) and source health times (sources.html) are cut to the hour;
#   * generated_at is used only as "now" to expire codes whose expiry date has passed,
#     which changes the output exactly when the content really changes;
#   * the freshness of a file is its Last-Modified, which nginx takes from its mtime.
#   * "3 h ago" and "expires in 2 days" are worked out in the browser (static/site.js) from
#     each <time datetime>; the HTML carries the exact UTC time, which never moves.


class SiteRenderer:
    """Holds the template environment and static assets; build one per process and reuse it."""

    def __init__(self) -> None:
        self._env = Environment(
            loader=PackageLoader("bot.site", "templates"),
            # Templates are named *.html.j2 / *.xml.j2; extension-based defaults would not
            # escape those, so the extensions are listed and the default is on as well.
            autoescape=select_autoescape(
                enabled_extensions=("html", "xml", "html.j2", "xml.j2"),
                default_for_string=True,
                default=True,
            ),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self._env.filters["iso"] = iso
        self._env.filters["utc_text"] = utc_text
        self._env.filters["utc_exact"] = utc_exact
        static = resources.files("bot.site").joinpath("static")
        self._css = static.joinpath("site.css").read_bytes()
        self._js = static.joinpath("site.js").read_bytes()
        self._filter_js = static.joinpath("filter.js").read_bytes()

    def render(self, snapshot: SiteSnapshot) -> dict[str, bytes]:
        site_url = _normal_site_url(snapshot.site_url)
        games = arrange(
            snapshot.games,
            snapshot.codes,
            snapshot.generated_at,
            snapshot.icons,
            snapshot.source_names,
        )
        files: dict[str, bytes] = {}

        css = self._css + _accent_css(games)
        css_path = f"static/site.{_digest(css)}.css"
        js_path = f"static/site.{_digest(self._js)}.js"
        filter_path = f"static/filter.{_digest(self._filter_js)}.js"
        files[css_path] = css
        files[js_path] = self._js
        files[filter_path] = self._filter_js

        common: dict[str, Any] = {
            "site_url": site_url,
            "css": css_path,
            "js": js_path,
            "filter_js": filter_path,
            "nav": [(g.game.id, g.game.name) for g in games],
        }
        newest = max((n for g in games if (n := g.newest) is not None), default=None)
        files["index.html"] = self._page(
            "index.html.j2",
            common,
            root="",
            current="",
            canonical=site_url,
            feed="feed.xml",
            games=[_front_context(g) for g in games],
            newest=newest,
        )
        for entry in games:
            gid = entry.game.id
            files[f"{gid}/index.html"] = self._page(
                "game.html.j2",
                common,
                root="../",
                current=gid,
                canonical=f"{site_url}{gid}/",
                feed="feed.xml",
                g=_game_context(entry),
            )
        groups = source_groups({g.game.id: g.game.name for g in games}, snapshot.sources)
        files["sources.html"] = self._page(
            "sources.html.j2",
            common,
            root="",
            current="sources",
            canonical=f"{site_url}sources.html",
            feed="feed.xml",
            groups=groups,
            verification_notes=snapshot.verification_notes,
            reports=snapshot.reports,
            players_anchor=source_anchor(PLAYERS.id),
        )
        files["sources.json"] = sources_json(groups)
        files.update(codes_json_files(site_url, games))
        files.update(atom_feeds(site_url, games))
        pages = [site_url] + [f"{site_url}{g.game.id}/" for g in games]
        files["sitemap.xml"] = sitemap_xml([*pages, f"{site_url}sources.html"])
        files["robots.txt"] = robots_txt(site_url)
        key = snapshot.indexnow_key
        if key and _INDEXNOW_KEY.fullmatch(key):
            files[f"{key}.txt"] = key.encode()
        elif key:
            log.warning("IndexNow key ignored: it must be 8-128 letters, digits or dashes")
        return files

    def _page(self, template: str, common: dict[str, Any], **context: Any) -> bytes:
        html = self._env.get_template(template).render(**common, **context)
        return html.encode()


def render_site(snapshot: SiteSnapshot, renderer: SiteRenderer | None = None) -> dict[str, bytes]:
    """Every file of the site as relative path -> bytes; the same snapshot gives the same bytes.

    Pass a long-lived SiteRenderer to skip loading templates and assets on every call.
    """
    return (renderer or SiteRenderer()).render(snapshot)


def _normal_site_url(site_url: str) -> str:
    url = web_url(site_url.strip())
    if url is None:
        raise ValueError(f"site_url must be an absolute http(s) URL, not {site_url!r}")
    return url if url.endswith("/") else url + "/"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def _accent_css(games: Sequence[GameCodes]) -> bytes:
    # Game colours come from the catalog, so they are added to the stylesheet here; game ids
    # are already limited to [a-z0-9_-] and the colour is formatted from an int.
    rules = "".join(f".g-{g.game.id}{{--accent:#{g.game.color & 0xFFFFFF:06x}}}\n" for g in games)
    return rules.encode()


def _front_context(entry: GameCodes) -> dict[str, Any]:
    game = entry.game
    return {
        "id": game.id,
        "name": game.name,
        "note": game.note,
        "current_count": len(entry.current),
        "expired_count": len(entry.expired),
        "lines": front_lines(entry.current),
    }


def _game_context(entry: GameCodes) -> dict[str, Any]:
    game = entry.game
    return {
        "id": game.id,
        "name": game.name,
        "note": game.note,
        "in_game": game.redeem_url is None,
        "current_count": len(entry.current),
        "expired_count": len(entry.expired),
        "current_cards": game_cards(entry.current),
        "expired_cards": game_cards(entry.expired),
        "rejected_count": len(entry.rejected),
        "rejected_cards": game_cards(entry.rejected),
    }
