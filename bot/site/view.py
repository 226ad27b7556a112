"""The site's view of the codes: cleaned, escaped once, grouped and ordered for every output."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import TYPE_CHECKING, NamedTuple

from markupsafe import escape

from bot.core.domain import (
    MAX_CODE_LENGTH,
    MAX_REWARD_NAME_LENGTH,
    MAX_REWARDS_LENGTH,
    CodeStatus,
    CodeView,
    Game,
    RewardItem,
    Verification,
    code_key,
)
from bot.core.rewards import item_text, unnamed_item
from bot.core.text import clip, web_url, without_links
from bot.core.verification import family_of

if TYPE_CHECKING:
    from bot.site.icons import Icon

# Game ids become folder names on disk and in URLs, so only plain names are accepted.
_GAME_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
# Letters, digits, "_" and "-": safe as they are in an id, a URL and HTML.
_PLAIN_CODE = re.compile(r"[A-Za-z0-9_-]+")
# Characters XML 1.0 cannot carry (lxml refuses them) and that mean nothing on a page anyway.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
# Runs of whitespace and any whitespace other than a plain space.
_SPACES = re.compile(r"\s{2,}|[^\S ]")
_ANY_SPACE = re.compile(r"\s")
_HTML_SPECIAL = re.compile("[&<>\"']")
# StrEnum members hash as their values, so this maps both "active" and CodeStatus.ACTIVE.
_STATUS = {status.value: status for status in CodeStatus}
_INVALID = Verification.INVALID.value
# Stands in for a code when a game's redeem URL template is checked once.
_PROBE_CODE = "CODE"


def is_page_safe_game_id(game_id: str) -> bool:
    return _GAME_ID.fullmatch(game_id) is not None


def clean_text(text: str, limit: int) -> str:
    """Web text as the site shows it: printable, on one line, bounded."""
    # Most text is clean already; isprintable() is false for every control character,
    # surrogate, non-character and whitespace other than a plain space, so this one check
    # (with the plain-space cases) spares nearly every string the full cleaning.
    if (
        len(text) <= limit
        and text.isprintable()
        and "  " not in text
        and text[:1] != " "
        and text[-1:] != " "
    ):
        return text
    return _clean_fully(text, limit)


def _clean_fully(text: str, limit: int) -> str:
    return clip(_SPACES.sub(" ", _NOT_XML.sub("", text)).strip(), limit)


def html_text(text: str) -> str:
    """Text escaped for HTML exactly as the templates escape it (&#34; and &#39; for quotes)."""
    # Most codes and rewards have nothing to escape, and a search is cheaper than escape().
    return str(escape(text)) if _HTML_SPECIAL.search(text) else text


def as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything codecast stores is UTC.
    tz = moment.tzinfo
    if tz is UTC:
        return moment
    if tz is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC to the second: "2024-05-01T12:34:56Z"."""
    if moment is None:
        return None
    # The first 19 characters are the date and time to the second, whatever follows them
    # (microseconds, offset); isoformat is several times faster than strftime.
    return as_utc(moment).isoformat()[:19] + "Z"


def atom_time(iso_text: str) -> str:
    """The same UTC time as an RFC 3339 offset time, the form Atom readers expect."""
    return iso_text[:-1] + "+00:00"


def utc_text(iso_text: str | None) -> str:
    """Readable UTC from an ISO string ("2024-05-01T12:34:56Z" -> "2024-05-01 12:34 UTC")."""
    if not iso_text:
        return ""
    return f"{iso_text[:10]} {iso_text[11:16]} UTC"


def utc_exact(iso_text: str | None) -> str:
    """The same to the second, for a title ("2024-05-01 12:34:56 UTC")."""
    if not iso_text:
        return ""
    return f"{iso_text[:10]} {iso_text[11:19]} UTC"


def plain_anchor(text: str) -> str:
    """`text` itself when it is safe in an id and a URL fragment, else a hash of it."""
    return text if _PLAIN_CODE.fullmatch(text) else _hashed(text)


class ShownItem(NamedTuple):
    name: str  # "" when the source names no item, only its icon (HoYoLAB)
    amount: int | None
    icon_url: str | None
    icon: Icon | None  # the icon stored on the site, when it could be fetched and converted


class ShownCode(NamedTuple):
    """One code cleaned for output: every field here is safe to hand to a template.

    Every output shows thousands of these, so everything they need is computed once here:
    the times as ISO strings (which also sort as times) and the texts already escaped for
    HTML. A NamedTuple rather than a frozen dataclass: as immutable, and five times faster
    to build, which counts at 5,000 codes a render.
    """

    code: str
    key: str
    anchor: str
    status: CodeStatus
    rewards: str  # the source's rewards text, cleaned
    # The rewards text, or the items spelled out when the source gave none.
    rewards_text: str
    items: tuple[ShownItem, ...]
    first_seen: str  # ISO 8601 UTC, to the second
    # Cut to the hour: the pipeline moves last_seen every cycle, and a file whose only change
    # is that timestamp would be rewritten (and re-fetched by every client) every few minutes.
    last_seen: str
    expires_at: str | None
    sources: tuple[str, ...]
    redeem_link: str | None
    # code, rewards_text and redeem_link escaped for HTML.
    code_html: str
    rewards_html: str
    link_html: str | None
    # The code's family ("ZZZ24") where the game has families: one code of it per account.
    family: str | None
    pictured: bool  # some item has an icon stored on the site
    sources_html: str  # the sources' names as one text, escaped for HTML: "Game8, HoYoLAB"
    # What HoYoverse's redeem endpoint said ("valid", "pending" while checking, …) and when
    # it last gave a verdict (ISO, or None).
    verification: str
    verified_at: str | None
    # What players call each of `sources` (same order): "HoYoLAB", not "hoyolab-genshin".
    source_labels: tuple[str, ...]


@dataclass(frozen=True)
class ShownGame:
    """A game's catalog fields as the site shows them, cleaned once."""

    game: Game
    name: str
    note: str  # "" when there is none
    redeem_url: str | None  # None when unsafe or absent: the game redeems in game
    redeem_url_html: str  # the same escaped for HTML, "" when None
    name_html: str  # name and note escaped for HTML
    note_html: str

    @property
    def id(self) -> str:
        return self.game.id

    @property
    def color(self) -> int:
        return self.game.color


@dataclass(frozen=True)
class GameCodes:
    """One game's codes in the order every output shows them."""

    game: ShownGame
    # Active and unknown, newest first: a player wants the latest codes at the top.
    current: tuple[ShownCode, ...]
    # Expired, most recently expired (or found) first.
    expired: tuple[ShownCode, ...]
    # Listed by a source, but HoYoverse's redeem endpoint rejects them; newest first.
    rejected: tuple[ShownCode, ...] = ()

    @property
    def all_codes(self) -> tuple[ShownCode, ...]:
        return self.current + self.expired + self.rejected

    @property
    def newest(self) -> str | None:
        """When the newest code was first seen (ISO), or None without codes."""
        return max((c.first_seen for c in self.all_codes), default=None)


def arrange(
    games: Iterable[Game],
    codes: Iterable[CodeView],
    now: datetime,
    icons: Mapping[str, Icon] | None = None,
    source_names: Mapping[str, str] | None = None,
) -> tuple[GameCodes, ...]:
    """Group codes by game (catalog order), clean them and put them in display order.

    `icons` maps reward icon URLs to the icons stored on the site; others show as text.
    `source_names` maps source ids to what players call them; an id not in it is shown as is.
    """
    shaper = _Shaper(as_utc(now), icons or {}, source_names or {})
    shown = {g.id: shaper.game(g) for g in games if is_page_safe_game_id(g.id)}
    by_game: dict[str, dict[str, ShownCode]] = {gid: {} for gid in shown}
    for view in codes:
        game = shown.get(view.game)
        if game is None:
            continue
        code = shaper.code(game, view)
        if not code.code:
            continue
        # The store keys codes case-insensitively; should two views still collide, keep one
        # in a way that does not depend on the order they came in.
        bucket = by_game[game.id]
        other = bucket.get(code.key)
        if other is None or (code.first_seen, code.code) < (other.first_seen, other.code):
            bucket[code.key] = code
    result = []
    for gid, game in shown.items():
        every = by_game[gid].values()
        rejected = [c for c in every if c.verification == _INVALID]
        kept = [c for c in every if c.verification != _INVALID]
        current = [c for c in kept if c.status is not CodeStatus.EXPIRED]
        expired = [c for c in kept if c.status is CodeStatus.EXPIRED]
        rejected.sort(key=_by_key)
        rejected.sort(key=_by_first_seen, reverse=True)
        # Two stable sorts: by key, then by time descending; ISO strings sort as times.
        current.sort(key=_by_key)
        current.sort(key=_by_first_seen, reverse=True)
        expired.sort(key=_by_key)
        expired.sort(key=_by_expiry, reverse=True)
        result.append(
            GameCodes(
                game=game,
                current=tuple(current),
                expired=tuple(expired),
                rejected=tuple(rejected),
            )
        )
    return tuple(result)


_by_key = attrgetter("key")
_by_first_seen = attrgetter("first_seen")


def _by_expiry(code: ShownCode) -> str:
    return code.expires_at or code.first_seen


class _Shaper:
    """Cleans one render's games and codes, remembering what repeats across codes.

    Many codes share a value: all codes read in one cycle have the same last_seen, codes
    found together the same first_seen, and the same few source lists, rewards texts and
    icons come back again and again. Each is worked out once a render.
    """

    def __init__(
        self,
        now: datetime,
        icons: Mapping[str, Icon],
        source_names: Mapping[str, str] | None = None,
    ) -> None:
        self._now = now
        self._icons = icons
        self._source_names = source_names or {}
        self._times: dict[datetime, str] = {}
        self._hours: dict[datetime, str] = {}
        self._sources: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[str, ...], str]] = {}
        self._rewards: dict[str, tuple[str, str]] = {}
        self._items: dict[tuple[RewardItem, ...], _Items] = {}
        self._urls: dict[str, str | None] = {}

    def game(self, game: Game) -> ShownGame:
        template = game.redeem_url
        # A template that makes a safe URL with a plain code makes one with any code:
        # redeem_link percent-encodes the code, so it cannot add a scheme, host or space.
        # Checking the template once spares a URL parse per code.
        if template is None or web_url(template.replace("{code}", _PROBE_CODE)) is None:
            template = None
        name = clean_text(game.name, 100)
        note = clean_text(game.note, 300) if game.note else ""
        return ShownGame(
            game=game,
            name=name,
            note=note,
            redeem_url=template,
            redeem_url_html=html_text(template) if template is not None else "",
            name_html=html_text(name),
            note_html=html_text(note),
        )

    def code(self, game: ShownGame, view: CodeView) -> ShownCode:
        code = clean_text(view.code, MAX_CODE_LENGTH)
        key = code_key(code)
        # Nearly every code is letters, digits, "_" and "-": then it needs no HTML escaping
        # nor percent-encoding, and its key (in capitals) is its anchor as it is.
        plain = _PLAIN_CODE.fullmatch(code) is not None
        status = _STATUS[view.status]
        expires_at = None
        if view.expires_at is not None:
            expiry = as_utc(view.expires_at)
            # A passed expiry date expires the code on the page even before the store says so.
            if expiry <= self._now:
                status = CodeStatus.EXPIRED
            expires_at = self._time(expiry)
        rewards = self._rewards.get(view.rewards)
        if rewards is None:
            text = clean_text(without_links(view.rewards), MAX_REWARDS_LENGTH)
            rewards = self._rewards[view.rewards] = (text, html_text(text))
        items, items_text, items_html, pictured = (
            self._shown_items(view.items) if view.items else _NONE
        )
        rewards_text, rewards_html = rewards if rewards[0] else (items_text, items_html)
        link = link_html = None
        if game.redeem_url is not None and code:
            if plain:
                # What Game.redeem_link gives, without a quote() that would change nothing.
                link = game.redeem_url.replace("{code}", code)
                link_html = game.redeem_url_html.replace("{code}", code)
            else:
                link = game.game.redeem_link(code)
                link_html = html_text(link) if link is not None else None
            if link is not None and len(link) > 2000:
                link = link_html = None
        known_sources = self._sources.get(view.sources)
        if known_sources is None:
            cleaned = tuple(sorted({clean_text(s, 80) for s in view.sources} - {""}))
            labels = tuple(clean_text(self._source_names.get(s) or s, 80) for s in cleaned)
            # Two sources of one site (Fandom's wiki twice) are named once.
            names = ", ".join(dict.fromkeys(labels))
            known_sources = self._sources[view.sources] = (cleaned, labels, html_text(names))
        sources, source_labels, sources_html = known_sources
        if plain:
            anchor = "code-" + key
        else:
            anchor = "code-" + (key if _PLAIN_CODE.fullmatch(key) else _hashed(key))
        family = family_of(game.game.family, key) if game.game.family else None
        first_seen = self._time(view.first_seen)
        # Positional: keyword arguments make building one of these two and a half times
        # slower. The order is ShownCode's.
        return ShownCode(
            code,
            key,
            anchor,
            status,
            rewards[0],
            rewards_text,
            items,
            first_seen,
            # A code first seen within this hour was last seen no earlier than that.
            max(self._hour(view.last_seen), first_seen),
            expires_at,
            sources,
            link,
            code if plain else html_text(code),
            rewards_html,
            link_html,
            family,
            pictured,
            sources_html,
            view.verification.value,
            self._time(view.verified_at) if view.verified_at is not None else None,
            source_labels,
        )

    def _time(self, moment: datetime) -> str:
        text = self._times.get(moment)
        if text is None:
            text = self._times[moment] = as_utc(moment).isoformat()[:19] + "Z"
        return text

    def _hour(self, moment: datetime) -> str:
        text = self._hours.get(moment)
        if text is None:
            text = self._hours[moment] = as_utc(moment).isoformat()[:13] + ":00:00Z"
        return text

    def _shown_items(self, raw: tuple[RewardItem, ...]) -> _Items:
        """The cleaned items, their names spelled out as text and as HTML, and if any has an
        icon."""
        known = self._items.get(raw)
        if known is not None:
            return known
        items = []
        for item in raw:
            name = clean_text(item.name, MAX_REWARD_NAME_LENGTH)
            url = item.icon_url
            if url is not None:
                if url not in self._urls:
                    self._urls[url] = web_url(url)
                url = self._urls[url]
            # An item with no name, amount or icon says nothing at all.
            if not name and item.amount is None and url is None:
                continue
            icon = self._icons.get(url) if url is not None else None
            items.append(ShownItem(name, item.amount, url, icon))
        text = ", ".join(item_text(item.name, item.amount) or unnamed_item() for item in items)
        pictured = any(item.icon is not None for item in items)
        known = self._items[raw] = (tuple(items), text, html_text(text), pictured)
        return known


_Items = tuple[tuple[ShownItem, ...], str, str, bool]
_NONE: _Items = ((), "", "", False)


def _hashed(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]
