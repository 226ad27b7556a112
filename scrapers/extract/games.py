"""Which game a part of a page is about: known game names, keys and redeem-site hosts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from bot.core.domain import Game


class Scope(Enum):
    """Whether a part of a page is about the requested game."""

    OURS = "ours"
    NEUTRAL = "neutral"
    OTHER = "other"


@dataclass(frozen=True)
class KnownGame:
    """One game as pages name it: in prose (`names`), as data keys (`keys`), by redeem host."""

    id: str
    names: tuple[str, ...]
    keys: tuple[str, ...]
    hosts: tuple[str, ...] = ()
    # Short tags that name the game in prose only in brackets: "STARRAILGIFT (HSR)".
    tags: tuple[str, ...] = ()


# Games that share pages with the catalog's games (multi-game trackers, HoYoverse and Kuro
# titles, other gacha games). Names are matched in headings; keys only as whole data keys or
# field values, since short ones ("sr", "mc") would match anything in prose.
KNOWN_GAMES: tuple[KnownGame, ...] = (
    KnownGame(
        "genshin",
        ("genshin impact", "genshin", "原神", "yuanshen"),
        ("genshin", "genshinimpact", "gi", "ys", "hk4e", "yuanshen", "原神"),
        ("genshin.hoyoverse.com", "genshin.mihoyo.com", "ys.mihoyo.com"),
        ("gi", "genshin"),
    ),
    KnownGame(
        "hsr",
        (
            "honkai: star rail",
            "honkai star rail",
            "star rail",
            "starrail",
            "星穹铁道",
            "崩壊：スターレイル",
        ),
        ("hsr", "sr", "starrail", "honkaistarrail", "hkrpg", "星穹铁道", "崩坏星穹铁道"),
        ("hsr.hoyoverse.com", "sr.mihoyo.com"),
        ("hsr",),
    ),
    KnownGame(
        "zzz",
        ("zenless zone zero", "zenless", "绝区零", "ゼンレスゾーンゼロ"),
        ("zzz", "zenless", "zenlesszonezero", "nap", "绝区零"),
        ("zenless.hoyoverse.com", "zzz.mihoyo.com"),
        ("zzz",),
    ),
    KnownGame(
        "hi3",
        ("honkai impact 3rd", "honkai impact 3", "honkai impact", "崩坏3", "崩坏三"),
        ("hi3", "honkai", "honkaiimpact", "honkaiimpact3", "honkaiimpact3rd", "bh3", "崩坏3"),
        (),
        ("hi3", "bh3"),
    ),
    KnownGame(
        "wuwa",
        ("wuthering waves", "鸣潮", "鳴潮"),
        ("wuwa", "wutheringwaves", "mc", "鸣潮"),
        (),
        ("wuwa", "ww"),
    ),
    KnownGame(
        "tot",
        ("tears of themis", "未定事件簿"),
        ("tot", "themis", "tearsofthemis", "nxx"),
        ("tot.hoyoverse.com",),
    ),
    KnownGame(
        "endfield",
        ("arknights: endfield", "arknights endfield", "endfield", "终末地"),
        ("endfield", "arknightsendfield", "终末地"),
    ),
    KnownGame("arknights", ("arknights", "明日方舟"), ("arknights", "明日方舟")),
    KnownGame(
        "nte",
        ("neverness to everness", "异环"),
        ("nte", "yuhuan", "nevernesstoeverness", "异环"),
    ),
    KnownGame("hna", ("honkai nexus anima",), ("hna", "honkainexusanima")),
    KnownGame(
        "pgr", ("punishing: gray raven", "punishing gray raven"), ("pgr", "punishinggrayraven")
    ),
    KnownGame("tof", ("tower of fantasy",), ("tof", "toweroffantasy")),
    KnownGame("r1999", ("reverse: 1999", "reverse 1999"), ("reverse1999",)),
    KnownGame("nikke", ("goddess of victory: nikke", "nikke"), ("nikke",)),
    KnownGame("infinitynikki", ("infinity nikki",), ("infinitynikki",)),
    KnownGame("bluearchive", ("blue archive",), ("bluearchive",)),
    KnownGame("snowbreak", ("snowbreak",), ("snowbreak",)),
    KnownGame("azurlane", ("azur lane",), ("azurlane",)),
    KnownGame("afkjourney", ("afk journey", "afk arena"), ("afkjourney", "afkarena")),
    KnownGame("raid", ("raid: shadow legends", "raid shadow legends"), ("raidshadowlegends",)),
    KnownGame("gfl2", ("girls' frontline 2", "girls frontline 2"), ("gfl2", "girlsfrontline2")),
    KnownGame("sololeveling", ("solo leveling: arise", "solo leveling arise"), ("sololeveling",)),
    KnownGame("dna", ("duet night abyss",), ("duetnightabyss",)),
    KnownGame("realmscollide", ("avatar: realms collide",), ("realmscollide",)),
)


def normalize(text: str) -> str:
    """Lower-case and drop everything but letters and digits (CJK included)."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


class GameScope:
    """Tells for a heading, a data key or a field value which game it is about."""

    def __init__(self, game: Game) -> None:
        wanted = {normalize(game.id), normalize(game.name)}
        self.ours: KnownGame | None = None
        for known in KNOWN_GAMES:
            if wanted & ({known.id} | {normalize(k) for k in known.keys + known.names}):
                self.ours = known
                break
        self.others = tuple(f for f in KNOWN_GAMES if f is not self.ours)
        own_names = {game.name.lower()}
        own_keys = set(wanted)
        if self.ours is not None:
            own_names.update(self.ours.names)
            own_keys.update(normalize(k) for k in self.ours.keys + self.ours.names)
        self._own_keys = frozenset(own_keys)
        self._other_keys = (
            frozenset(normalize(k) for f in self.others for k in f.keys + f.names) - self._own_keys
        )
        self._own_tags = frozenset(self.ours.tags if self.ours else ())
        self._other_tags = frozenset(t for f in self.others for t in f.tags) - self._own_tags
        self._own_text = _NameSet(own_names)
        self._other_text = _NameSet({n for f in self.others for n in f.names} - own_names)
        self._own_hosts = frozenset(self.ours.hosts if self.ours else ())
        if game.redeem_url:
            host = _host(game.redeem_url)
            if host:
                self._own_hosts |= {host}
        self._other_hosts = frozenset(h for f in self.others for h in f.hosts) - self._own_hosts
        # Our own names are not codes, except where the structure says so (a wiki's code
        # table can list a code that is the game's name in another language).
        self.own_aliases = self._own_keys
        self.stopwords = frozenset(w.lower() for w in game.stopwords)
        # How the game's codes often begin: STARRAILGIFT, GENSHINGIFT, ZZZ4PC, WUWA4PC.
        prefixes = {normalize(n) for n in own_names} | {normalize(t) for t in self._own_tags}
        self.code_prefixes = tuple(
            sorted((p.upper() for p in prefixes if len(p) >= 3 and p.isascii()), key=len)
        )

    def of_text(self, text: str) -> Scope | None:
        """The game a heading names, or None when it names none."""
        low = text.lower()
        words = f" {' '.join(_WORD.findall(low))} "
        if self._own_text.found_in(low, words):
            return Scope.OURS
        if self._other_text.found_in(low, words):
            return Scope.OTHER
        if "(" in low or "[" in low:
            tags = {normalize(t) for t in _TAG.findall(low)}
            if tags & self._own_tags:
                return Scope.OURS
            if tags & self._other_tags:
                return Scope.OTHER
        return None

    def of_key(self, key: str) -> Scope | None:
        """The game a data key or a short field value (a slug, a game id) names, if any."""
        norm = normalize(key)
        if not norm:
            return None
        if norm in self._own_keys:
            return Scope.OURS
        if norm in self._other_keys:
            return Scope.OTHER
        return None

    def of_host(self, host: str) -> Scope | None:
        """The game a redeem site's host belongs to, if known."""
        host = host.lower()
        if host in self._own_hosts:
            return Scope.OURS
        if host in self._other_hosts:
            return Scope.OTHER
        return None

    def is_game_name(self, code: str) -> bool:
        """True when the string is the name or key of any known game."""
        norm = normalize(code)
        return norm in self._own_keys or norm in self._other_keys


_WORD = re.compile(r"[a-z0-9]+")
# "(HSR)", "[ZZZ]": a short tag alone in brackets.
_TAG = re.compile(r"[(\[]\s*([a-z0-9]{2,6})\s*[)\]]")


class _NameSet:
    """Game names to look for in text: Latin ones as whole words, CJK ones as substrings.

    Substring tests on a normalised copy of the text; one regular expression alternating over
    every name was the slowest step of reading a large page.
    """

    def __init__(self, names: set[str]) -> None:
        latin = set()
        other = set()
        for name in names:
            low = name.lower()
            if low.isascii():
                words = " ".join(_WORD.findall(low))
                if words:
                    latin.add(f" {words} ")
            elif low:
                other.add(low)
        self._latin = tuple(latin)
        self._other = tuple(other)

    def found_in(self, low: str, words: str) -> bool:
        return any(n in words for n in self._latin) or any(n in low for n in self._other)


def _host(url: str) -> str:
    match = re.match(r"^[a-z][a-z0-9+.-]*://([^/?#:]+)", url.strip(), re.IGNORECASE)
    return match.group(1).lower() if match else ""
