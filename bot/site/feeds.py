"""The site's machine-readable outputs: the JSON API, Atom feeds, sitemap and robots.txt."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from json.encoder import encode_basestring
from operator import attrgetter, itemgetter

from bot.core.domain import RewardItem
from bot.core.glossary import game_name
from bot.core.language import LANGUAGES, words
from bot.core.rewards import items_text
from bot.site.cards import entry_html
from bot.site.localize import CardWords, SiteLanguage, site_languages
from bot.site.view import GameCodes, ShownCode, ShownGame, ShownItem, atom_time, html_text

# The JSON API's schema version; bump it when a field changes meaning or disappears
# (adding a field is not a new version).
JSON_VERSION = 1

# A feed is polled forever by readers; the newest codes are what they need, and a feed with
# every code since the beginning would grow without bound.
FEED_MAX_ENTRIES = 100

# An empty feed still needs an <updated>; a fixed date keeps the file stable.
_EPOCH_ISO = "1970-01-01T00:00:00Z"

# json's string encoder for ensure_ascii=False: the quoted, escaped JSON string.
_string = encode_basestring


# --- JSON API ---------------------------------------------------------------------------
#
# codes.json and <game>/codes.json share one schema (version 1):
#
#   {"version": 1,
#    "games": [{"id", "name", "url" (the game's page), "redeem_url" (with {code}, or null
#               for games that redeem in game), "note" (or null),
#               "codes": [{"code", "status" ("active" | "unknown" | "expired"), "rewards",
#                          "rewards_localized" ({language tag: the items in that language,
#                                               "原石 ×60、モラ ×10,000"} when the source
#                                               named every item, else {}),
#                          "items": [{"name" ("" when the source gives only an icon),
#                                     "amount" (int or null),
#                                     "icon_url" (the source's, http(s) or null),
#                                     "icon" (null, or the copy on this site:
#                                             {"webp", "png" (absolute URLs),
#                                              "width", "height" (CSS pixels)})}],
#                          "first_seen", "last_seen" (to the hour), "expires_at" (or null),
#                          "sources": [source ids, as on sources.html and sources.json],
#                          "redeem_link" (or null),
#                          "family" (e.g. "ZZZ24": one code of a family per account; or
#                                    null),
#                          "verification" ("valid" | "expired" | "invalid" | "pending" |
#                                          "unverified": what HoYoverse's redeem endpoint
#                                          says; "pending" while it is being checked),
#                          "verified_at" (its last verdict, or null)}]}]}
#
# Times are ISO 8601 in UTC ("2024-05-01T12:00:00Z"). Codes come current first (newest
# first), then expired. There is deliberately no "generated at" field: the file changes only
# when its content does, and the server's Last-Modified says when that was.
# Still version 1: "icon", "family", "verification", "verified_at" and "rewards_localized"
# were added, and items named only by an icon (name "") are listed where they used to be
# left out; no field changed meaning or disappeared. The file is one for all languages:
# names and texts are as the sources and the catalog give them, and "rewards_localized"
# carries the item lists in every language the site speaks (the language tags of its
# folders: "ja", "zh-hans", …; "en" too).
# Source health is in sources.json (bot/site/health.py describes it).


def codes_json_files(site_url: str, games: Sequence[GameCodes]) -> dict[str, bytes]:
    """codes.json and every <game>/codes.json; each game is encoded once and shared."""
    encoder = _CodeJson(site_url)
    parts = {g.game.id: _game_json(site_url, g, encoder) for g in games}
    head = json.dumps({"version": JSON_VERSION, "games": []}, separators=(",", ":"))
    head_bytes = (head.removesuffix("[]}") + "[").encode()
    files = {
        f"{gid}/codes.json": b"".join((head_bytes, part, b"]}\n")) for gid, part in parts.items()
    }
    files["codes.json"] = b"".join((head_bytes, b",".join(parts.values()), b"]}\n"))
    return files


def _game_json(site_url: str, entry: GameCodes, encoder: _CodeJson) -> bytes:
    game = entry.game
    fields: dict[str, object] = {
        "id": game.id,
        "name": game.name,
        "url": f"{site_url}{game.id}/",
        "redeem_url": game.redeem_url,
        "note": game.note or None,
        "codes": [],
    }
    head = _dumps(fields).removesuffix("[]}")
    codes = ",".join(map(encoder.code, entry.all_codes))
    return f"{head}[{codes}]}}".encode()


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _CodeJson:
    """One code as JSON text, written out field by field.

    Building a dict per code for json.dumps was most of the JSON's cost at thousands of
    codes; here each string still goes through json's own encoder, times are ISO strings
    that need no escaping, and the few distinct item and source lists are encoded once. The
    result is byte for byte what json.dumps(..., ensure_ascii=False, separators=(",", ":"))
    gives for the same dict (a test holds it to that).
    """

    def __init__(self, site_url: str) -> None:
        self._site_url = site_url
        self._items: dict[tuple[ShownItem, ...], str] = {}
        self._localized: dict[tuple[ShownItem, ...], str] = {}
        self._sources: dict[tuple[str, ...], str] = {}

    def _rewards_localized(self, items: tuple[ShownItem, ...]) -> str:
        """The item list in every language, as JSON: {} unless the source named every item
        (then the names are the glossary's and the amounts read as each locale writes them)."""
        known = self._localized.get(items)
        if known is None:
            named = bool(items) and all(i.name for i in items)
            plain = [RewardItem(i.name, i.amount) for i in items]
            texts = {x.tag: items_text(plain, words(x.tag)) for x in LANGUAGES} if named else {}
            known = self._localized[items] = _dumps(texts)
        return known

    def _item(self, item: ShownItem) -> dict[str, object]:
        icon = item.icon
        return {
            "name": item.name,
            "amount": item.amount,
            "icon_url": item.icon_url,
            "icon": None
            if icon is None
            else {
                "webp": f"{self._site_url}icons/{icon.webp}",
                "png": f"{self._site_url}icons/{icon.png}",
                "width": icon.width,
                "height": icon.height,
            },
        }

    def code(self, code: ShownCode) -> str:
        items = self._items.get(code.items)
        if items is None:
            items = self._items[code.items] = _dumps([self._item(i) for i in code.items])
        sources = self._sources.get(code.sources)
        if sources is None:
            sources = self._sources[code.sources] = _dumps(code.sources)
        expires = f'"{code.expires_at}"' if code.expires_at is not None else "null"
        link = _string(code.redeem_link) if code.redeem_link is not None else "null"
        # A family is "ZZZ" and two digits: nothing to escape.
        family = f'"{code.family}"' if code.family is not None else "null"
        verified = f'"{code.verified_at}"' if code.verified_at is not None else "null"
        return (
            f'{{"code":{_string(code.code)},"status":"{code.status.value}",'
            f'"rewards":{_string(code.rewards)},'
            f'"rewards_localized":{self._rewards_localized(code.items)},"items":{items},'
            f'"first_seen":"{code.first_seen}","last_seen":"{code.last_seen}",'
            f'"expires_at":{expires},"sources":{sources},"redeem_link":{link},'
            f'"family":{family},"verification":"{code.verification}","verified_at":{verified}}}'
        )


# --- Atom -------------------------------------------------------------------------------
#
# Written as text rather than with feedgen (DESIGN.md's pick for Atom): feedgen builds and
# serialises an lxml tree for every feed, about 7 ms a feed of 100 entries, and a site of
# ten games has eleven feeds: 80 ms, a fifth of the render, where the whole render has
# 100 ms. Here each entry is written once and shared by its game's feed and the all-games
# feed. Every text is escaped with markupsafe, whose output is also valid XML (quotes
# become &#34; and &#39;), and every text has already been through clean_text or web_url,
# which drop the characters XML 1.0 cannot carry. The tests parse every feed with lxml,
# including feeds of arbitrary text.

_ATOM_HEAD = "<?xml version='1.0' encoding='UTF-8'?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\""


def atom_feeds(
    site_url: str, games: Sequence[GameCodes], language: SiteLanguage | None = None
) -> dict[str, bytes]:
    """<game>/feed.xml for every game and feed.xml for all of them, newest codes first, in
    one language (English at the root, else in the language's folder).

    An entry's id is the code's anchor on its game page, so it stays put for a game and
    code however many other codes arrive.
    """
    language = language or site_languages()[0]
    cw = language.card
    w = language.words
    folder = language.folder
    files: dict[str, bytes] = {}
    site_html = html_text(site_url + folder)
    # (first_seen, game id, key, entry XML) for the newest codes of each game. The newest
    # of all games are among the newest of each, so the all-games feed is picked from these.
    every: list[tuple[str, str, str, str]] = []
    for g in games:
        game = g.game
        name = game_name(w, game.name)
        name_html = html_text(name)
        newest = sorted(g.all_codes, key=_by_key)
        newest.sort(key=_by_first_seen, reverse=True)
        entries = [
            (c.first_seen, game.id, c.key, _entry_xml(site_html, game, c, cw, name_html))
            for c in newest[:FEED_MAX_ENTRIES]
        ]
        every.extend(entries)
        path = f"{folder}{game.id}/feed.xml"
        files[path] = _feed_xml(
            site_url,
            entries,
            title=w._("%(game)s codes", game=name),
            path=path,
            page=f"{site_url}{folder}{game.id}/",
            language=language,
        )
    # Newest first, then by game and code: two stable sorts, the second one descending.
    every.sort(key=itemgetter(1, 2))
    every.sort(key=itemgetter(0), reverse=True)
    files[f"{folder}feed.xml"] = _feed_xml(
        site_url,
        every[:FEED_MAX_ENTRIES],
        title=w._("Game codes"),
        path=f"{folder}feed.xml",
        page=f"{site_url}{folder}",
        language=language,
    )
    return files


_by_key = attrgetter("key")
_by_first_seen = attrgetter("first_seen")


def _feed_xml(
    site_url: str,
    entries: Sequence[tuple[str, str, str, str]],
    *,
    title: str,
    path: str,
    page: str,
    language: SiteLanguage,
) -> bytes:
    url = html_text(f"{site_url}{path}")
    # Atom wants an updated time; the newest entry's keeps the file stable between new codes.
    updated = atom_time(entries[0][0] if entries else _EPOCH_ISO)
    head = (
        f'{_ATOM_HEAD} xml:lang="{language.language.bcp47}">'
        f"<id>{url}</id><title>{html_text(title)}</title>"
        f"<updated>{updated}</updated>"
        f'<link href="{html_text(page)}" rel="alternate" type="text/html"/>'
        f'<link href="{url}" rel="self" type="application/atom+xml"/>'
        "<generator>codecast</generator>"
    )
    body = "".join(e[3] for e in entries)
    return f"{head}{body}</feed>\n".encode()


def _entry_xml(
    site_html: str, game: ShownGame, code: ShownCode, cw: CardWords, name_html: str
) -> str:
    # Game ids and anchors are made of letters, digits, "_" and "-": nothing to escape.
    url = f"{site_html}{game.id}/#{code.anchor}"
    when = atom_time(code.first_seen)
    body = entry_html(game, code, cw, name_html)
    return (
        f"<entry><id>{url}</id><title>{name_html}: {code.code_html}</title>"
        f'<link href="{url}" rel="alternate" type="text/html"/>'
        f"<published>{when}</published><updated>{when}</updated>"
        # HTML carried as text: escaped once for HTML inside, once more for XML here.
        f'<content type="html">{html_text(body)}</content></entry>'
    )


# --- sitemap and robots.txt -------------------------------------------------------------

_SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def sitemap_xml(page_urls: Sequence[str]) -> bytes:
    # No <lastmod>: the render cannot know when a page last changed without a clock, and a
    # wrong lastmod is worse than none. Search engines learn changes from IndexNow pings.
    root = ET.Element("urlset", xmlns=_SITEMAP_NS)
    for url in page_urls:
        ET.SubElement(ET.SubElement(root, "url"), "loc").text = url
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body + b"\n"


def robots_txt(site_url: str) -> bytes:
    return f"User-agent: *\nAllow: /\n\nSitemap: {site_url}sitemap.xml\n".encode()
