"""Render the static site from one snapshot of the store: a pure function of its input."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.core.domain import PLAYERS
from bot.core.glossary import game_name, game_note
from bot.core.text import web_url
from bot.site.cards import front_lines, game_cards, source_anchor
from bot.site.feeds import atom_feeds, codes_json_files, robots_txt, sitemap_xml
from bot.site.health import source_groups, sources_json
from bot.site.localize import (
    CardWords,
    SiteLanguage,
    alternates,
    picker,
    script_words,
    site_languages,
)
from bot.site.snapshot import SiteSnapshot
from bot.site.view import GameCodes, arrange, iso

__all__ = ["SiteRenderer", "SiteSnapshot", "render_site"]

log = logging.getLogger(__name__)

# IndexNow keys are 8 to 128 characters of this alphabet; the key file sits at the site root.
_INDEXNOW_KEY = re.compile(r"[A-Za-z0-9-]{8,128}")


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
    """Holds the template environments (one per language) and static assets; build one per
    process and reuse it."""

    def __init__(self) -> None:
        self._languages = site_languages()
        self._envs = {site.language.tag: _environment(site) for site in self._languages}
        static = resources.files("bot.site").joinpath("static")
        self._css = static.joinpath("site.css").read_bytes()
        self._js = static.joinpath("site.js").read_bytes()
        self._filter_js = static.joinpath("filter.js").read_bytes()

    def render(self, snapshot: SiteSnapshot) -> dict[str, bytes]:
        """Every language's pages and feeds, and the language-neutral files once: the codes
        are cleaned, ordered and escaped once, then each language writes its own words."""
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
        assets = {
            "css": f"static/site.{_digest(css)}.css",
            "js": f"static/site.{_digest(self._js)}.js",
            "filter_js": f"static/filter.{_digest(self._filter_js)}.js",
        }
        files[assets["css"]] = css
        files[assets["js"]] = self._js
        files[assets["filter_js"]] = self._filter_js
        files.update(codes_json_files(site_url, games))
        english_names = {g.game.id: g.game.name for g in games}
        files["sources.json"] = sources_json(source_groups(english_names, snapshot.sources))

        pages = ["", *(f"{g.game.id}/" for g in games), "sources.html"]
        for site in self._languages:
            files.update(self._language(site, snapshot, games, site_url, assets))
        files["sitemap.xml"] = sitemap_xml(
            [f"{site_url}{site.folder}{page}" for site in self._languages for page in pages]
        )
        files["robots.txt"] = robots_txt(site_url)
        key = snapshot.indexnow_key
        if key and _INDEXNOW_KEY.fullmatch(key):
            files[f"{key}.txt"] = key.encode()
        elif key:
            log.warning("IndexNow key ignored: it must be 8-128 letters, digits or dashes")
        return files

    def _language(
        self,
        site: SiteLanguage,
        snapshot: SiteSnapshot,
        games: Sequence[GameCodes],
        site_url: str,
        assets: Mapping[str, str],
    ) -> dict[str, bytes]:
        """One language's pages and feeds, under its folder."""
        w, cw, folder = site.words, site.card, site.folder
        names = {g.game.id: game_name(w, g.game.name) for g in games}
        env = self._envs[site.language.tag]
        # From the language's root to the site's: the assets, icons and data are shared.
        up = "../" if folder else ""
        common: dict[str, Any] = {
            **assets,
            "site_url": site_url,
            "lang": site.language.bcp47,
            "language_name": site.language.name,
            "nav": list(names.items()),
            "separator": w.pgettext("list separator", ", "),
            "l10n": script_words(w),
        }

        def page(template: str, path: str, **context: Any) -> bytes:
            # Pages of a game sit one folder down in the language's folder.
            down = "../" * path.count("/")
            html = env.get_template(template).render(
                **common,
                root=down + up,
                pages=down,
                canonical=f"{site_url}{folder}{path}",
                alternates=alternates(site_url, path, self._languages),
                picker=picker(site, path, down + up, self._languages),
                feed="feed.xml",
                **context,
            )
            return html.encode()

        files: dict[str, bytes] = {}
        newest = max((n for g in games if (n := g.newest) is not None), default=None)
        files[f"{folder}index.html"] = page(
            "index.html.j2",
            "",
            current="",
            games=[_front_context(g, names, cw, up) for g in games],
            newest=newest,
        )
        for entry in games:
            gid = entry.game.id
            files[f"{folder}{gid}/index.html"] = page(
                "game.html.j2", f"{gid}/", current=gid, g=_game_context(entry, names, cw, up)
            )
        files[f"{folder}sources.html"] = page(
            "sources.html.j2",
            "sources.html",
            current="sources",
            groups=source_groups(names, snapshot.sources, w),
            verification_notes=snapshot.verification_notes,
            reports=snapshot.reports,
            players_anchor=source_anchor(PLAYERS.id),
        )
        files.update(atom_feeds(site_url, games, site))
        return files


def _environment(site: SiteLanguage) -> Environment:
    env = Environment(
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
        extensions=["jinja2.ext.i18n"],
    )
    # One environment per language: its catalog is installed once, and renders in
    # several threads never share a language switch.
    env.install_gettext_translations(site.words.translations, newstyle=True)  # type: ignore[attr-defined]
    cw = site.card
    env.filters["iso"] = iso
    env.filters["utc_text"] = lambda text: cw.minute(text) if text else ""
    env.filters["utc_exact"] = lambda text: cw.second(text) if text else ""
    env.filters["number"] = site.words.number
    return env


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


def _front_context(
    entry: GameCodes, names: Mapping[str, str], cw: CardWords, root: str
) -> dict[str, Any]:
    game = entry.game
    return {
        "id": game.id,
        "name": names[game.id],
        "note": game_note(cw.words, game.note) if game.note else "",
        "current_count": len(entry.current),
        "expired_count": len(entry.expired),
        "lines": front_lines(entry.current, cw, root, ""),
    }


def _game_context(
    entry: GameCodes, names: Mapping[str, str], cw: CardWords, up: str
) -> dict[str, Any]:
    game = entry.game
    root = "../" + up
    return {
        "id": game.id,
        "name": names[game.id],
        "note": game_note(cw.words, game.note) if game.note else "",
        "in_game": game.redeem_url is None,
        "current_count": len(entry.current),
        "expired_count": len(entry.expired),
        "current_cards": game_cards(entry.current, cw, root, "../"),
        "expired_cards": game_cards(entry.expired, cw, root, "../"),
        "rejected_count": len(entry.rejected),
        "rejected_cards": game_cards(entry.rejected, cw, root, "../"),
    }
