"""Plain, frozen data that crosses module boundaries: games, sources, codes, announcements."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit


class CodeStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


class Trust(StrEnum):
    """How far a source is believed on first sight (see DESIGN.md, rules of the domain)."""

    OFFICIAL = "official"
    CURATED = "curated"
    PAGE = "page"
    # Reported by a player: announced only after verification or a moderator's approval.
    SUBMITTED = "submitted"


class Verification(StrEnum):
    """What HoYoverse's redeem endpoint last said of a code (DESIGN.md, rules of the domain)."""

    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"
    # Waiting for a check (new, or not activated yet and rechecked).
    PENDING = "pending"
    # Not checked: the game has no web redemption, no account is configured, or none could.
    UNVERIFIED = "unverified"


class Platform(StrEnum):
    """Kinds of delivery target; the value is what the database stores (16 characters at most)."""

    TELEGRAM = "telegram"
    DISCORD = "discord"
    # A Discord channel's webhook URL: no bot in the server needed.
    DISCORD_WEBHOOK = "discord_webhook"
    # A signed JSON POST to any URL.
    WEBHOOK = "webhook"
    # Any service Apprise knows (ntfy, Matrix, Slack, e-mail …), named by an Apprise URL.
    APPRISE = "apprise"


class AnnouncementKind(StrEnum):
    """What an announcement tells: new codes, or codes about to expire (a reminder)."""

    NEW = "new"
    REMINDER = "reminder"


class DeliveryOrder(StrEnum):
    """Who hears first when announcements are queued (CODECAST_DELIVERY_ORDER).

    `reach`: every chat's first message of a wave before any chat's second, and within that
    the chats reaching the most people first (channels and big groups, then groups of
    unknown size, then private chats). `subscribed`: announcement after announcement, the
    oldest subscription first.
    """

    REACH = "reach"
    SUBSCRIBED = "subscribed"


# Web text is untrusted: every piece of it is cut to these lengths before it is stored.
MAX_CODE_LENGTH = 32
MAX_REWARDS_LENGTH = 300
MAX_REWARD_NAME_LENGTH = 80


@dataclass(frozen=True)
class VerifyEndpoint:
    """How a game's web gift page redeems a code (the catalog's `[games.<id>.verify]`)."""

    url: str
    game_biz: str
    # The gift page the request says it comes from (Origin, and Referer with a slash).
    origin: str
    method: str = "GET"
    lang: str = "en"
    lang_key: str = "en-us"


@dataclass(frozen=True)
class Game:
    id: str
    name: str
    # A full-match regular expression for a code of this game (case-insensitive).
    pattern: str
    redeem_url: str | None = None
    # Accent colour for embeds and the site, as 0xRRGGBB.
    color: int = 0x5865F2
    # Words that look like codes on this game's pages but are not (brand names and such).
    stopwords: frozenset[str] = frozenset()
    note: str | None = None
    # A regular expression matched at the start of a code: codes it matches with the same
    # text redeem once per family per account (Zenless: ZZZ and two digits).
    family: str | None = None
    # Set where HoYoverse's redeem endpoint can check this game's codes.
    verify: VerifyEndpoint | None = None

    @property
    def regex(self) -> re.Pattern[str]:
        return _compiled(self.pattern)

    def matches(self, code: str) -> bool:
        return len(code) <= MAX_CODE_LENGTH and self.regex.fullmatch(code) is not None

    def redeem_link(self, code: str) -> str | None:
        if self.redeem_url is None:
            return None
        from urllib.parse import quote

        return self.redeem_url.replace("{code}", quote(code, safe=""))


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# What players call the sites of the built-in source kinds; a catalog entry's `name` wins.
SOURCE_KIND_NAMES = {
    "hoyolab": "HoYoLAB",
    "fandom": "Fandom",
    "game8": "Game8",
    "pockettactics": "Pocket Tactics",
}


@dataclass(frozen=True)
class SourceConfig:
    id: str
    kind: str
    game: str
    url: str
    trust: Trust = Trust.CURATED
    # A `page` source marked trusted announces on first sight like a curated one.
    trusted: bool = False
    name: str | None = None
    # Seconds between two polls; None: the default for its trust and kind (bot/core/cadence.py).
    interval: float | None = None
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def announces_alone(self) -> bool:
        if self.trust is Trust.SUBMITTED:
            return False
        return self.trust is not Trust.PAGE or self.trusted

    @property
    def label(self) -> str:
        """The source as players see it: its catalog name, else its site's name, else its
        host ("listed by HoYoLAB", not "listed by hoyolab-genshin")."""
        if self.name:
            return self.name
        return SOURCE_KIND_NAMES.get(self.kind) or urlsplit(self.url).hostname or self.id


# The source of the codes players report (bot/core/submission.py): never in the catalog, never
# counted towards confirming a code, listed on the site as "reported by players".
PLAYERS = SourceConfig(
    id="players",
    kind="submitted",
    game="",
    url="",
    trust=Trust.SUBMITTED,
    name="reported by players",
)


@dataclass(frozen=True)
class Livestream:
    """A livestream window declared in the catalog: its game's sources are polled in bursts."""

    game: str
    starts: datetime
    ends: datetime

    def covers(self, moment: datetime) -> bool:
        return self.starts <= moment < self.ends


@dataclass(frozen=True)
class RewardItem:
    name: str
    amount: int | None = None
    icon_url: str | None = None


@dataclass(frozen=True)
class ScrapedCode:
    """One code as one source lists it, after parsing and before merging."""

    code: str
    status: CodeStatus = CodeStatus.UNKNOWN
    rewards: str = ""
    items: tuple[RewardItem, ...] = ()
    expires_at: datetime | None = None
    # "global", "cn", ... where the source says; None when it does not.
    server: str | None = None

    @property
    def key(self) -> str:
        return code_key(self.code)


def code_key(code: str) -> str:
    """The identity of a code within a game: compared case-insensitively."""
    return code.strip().upper()


@dataclass(frozen=True)
class CodeView:
    """A stored code as the site and the notifiers see it."""

    game: str
    code: str
    status: CodeStatus
    rewards: str
    items: tuple[RewardItem, ...]
    first_seen: datetime
    last_seen: datetime
    expires_at: datetime | None
    sources: tuple[str, ...]
    # What HoYoverse's redeem endpoint last said (unverified where it cannot be asked).
    verification: Verification = Verification.UNVERIFIED
    verified_at: datetime | None = None
    # Set when a player reported it: the name they asked to be credited with, or "" for
    # "a player" (names are never shown unless the reporter opted in).
    credit: str | None = None


@dataclass(frozen=True)
class SourceHealth:
    id: str
    game: str
    kind: str
    url: str
    last_attempt: datetime | None
    last_success: datetime | None
    last_error: str | None
    consecutive_failures: int
    last_count: int | None
    probably_broken: bool
    # What polling it has cost since `counted_since`, and the bytes of its last poll.
    polls: int = 0
    requests: int = 0
    bytes_received: int = 0
    last_poll_bytes: int | None = None
    counted_since: datetime | None = None


@dataclass(frozen=True)
class Announcement:
    """New codes of one game found in one cycle: one message per subscriber."""

    id: int
    game: str
    created_at: datetime
    codes: tuple[CodeView, ...]
    kind: AnnouncementKind = AnnouncementKind.NEW
