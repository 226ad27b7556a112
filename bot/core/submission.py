"""Codes reported by players: who may report, what happens to a report, who moderates.

A report is a source of trust `submitted` (domain.PLAYERS). A report of a game HoYoverse's
redeem endpoint can check waits for its verdict; any other waits for a moderator; a
moderator's own report is approved at once. Everything here is pure: the store hands in
what it knows (`Situation`) and gets back where the report goes (`Route`) or why it is
refused (`Refusal`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.core.domain import MAX_REWARDS_LENGTH, CodeStatus, Platform, Verification
from bot.core.text import clip, one_line, without_links

# A name a reporter asked to be credited with is cut to this many characters.
MAX_CREDIT_LENGTH = 32
# The word that opts a reporter in to being named ("/submit genshin CODE credit").
CREDIT_WORD = "credit"


class SubmissionState(StrEnum):
    # Waiting for HoYoverse's redeem endpoint.
    CHECKING = "checking"
    # Waiting for a moderator.
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"

    @property
    def open(self) -> bool:
        return self in (SubmissionState.CHECKING, SubmissionState.PENDING)


OPEN_STATES = (SubmissionState.CHECKING, SubmissionState.PENDING)


class Route(StrEnum):
    """Where an accepted report goes."""

    # A moderator's own report (or the operator's, from the shell): approved at once.
    APPROVE = "approve"
    # A game the redeem endpoint checks: its verdict decides.
    VERIFY = "verify"
    MODERATE = "moderate"


class Refusal(StrEnum):
    """Why a report is not taken (notifiers/report_words.py words it for both bots)."""

    UNKNOWN_GAME = "unknown-game"
    NOT_A_CODE = "not-a-code"
    NO_REPORTER = "no-reporter"
    KNOWN_ACTIVE = "known-active"
    KNOWN_EXPIRED = "known-expired"
    ALREADY_REJECTED = "already-rejected"
    ALREADY_REPORTED = "already-reported"
    USER_LIMIT = "user-limit"
    CHAT_LIMIT = "chat-limit"
    IGNORED = "ignored"
    BLOCKED = "blocked"


class Action(StrEnum):
    """What a moderator's tap asks for."""

    APPROVE = "approve"
    REJECT = "reject"
    # Reject, and take no more reports from the reporter.
    BLOCK = "block"


@dataclass(frozen=True)
class Limits:
    """How much one person, and one chat, may report (settings; tests shorten them)."""

    per_user: int = 5
    per_chat: int = 20
    window: timedelta = timedelta(hours=1)
    # A reporter with this many rejected reports, more than accepted ones, is ignored.
    ignore_after: int = 3


@dataclass(frozen=True)
class Moderators:
    """Who decides reports: Telegram user ids, Discord user or role ids (snowflakes of users
    and roles never collide, so one set holds both)."""

    telegram: frozenset[str] = frozenset()
    discord: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.telegram or self.discord)

    def is_moderator(self, platform: str, user_id: str, roles: tuple[str, ...] = ()) -> bool:
        if platform == Platform.TELEGRAM:
            return user_id in self.telegram
        if platform == Platform.DISCORD:
            return user_id in self.discord or any(r in self.discord for r in roles)
        return False


_MODERATOR = re.compile(r"(?P<platform>telegram|discord):(?P<id>\d{1,20})")


def parse_moderators(text: str) -> Moderators:
    """`telegram:123, discord:456 discord:789` (commas or spaces between); a Discord id names
    a user or a role. Raises ValueError naming the first entry it cannot read."""
    telegram: set[str] = set()
    discord: set[str] = set()
    for entry in re.split(r"[\s,;]+", text.strip()):
        if not entry:
            continue
        found = _MODERATOR.fullmatch(entry.lower())
        if found is None:
            raise ValueError(
                f"cannot read moderator {entry[:40]!r}: write telegram:<user id> or "
                "discord:<user or role id>"
            )
        (telegram if found["platform"] == "telegram" else discord).add(found["id"])
    return Moderators(frozenset(telegram), frozenset(discord))


@dataclass(frozen=True)
class History:
    """A reporter's record, as moderators see it next to a report."""

    accepted: int = 0
    rejected: int = 0
    blocked: bool = False

    def ignored(self, limits: Limits) -> bool:
        return self.rejected >= limits.ignore_after and self.rejected > self.accepted


@dataclass(frozen=True)
class KnownCode:
    """The code as the store already has it."""

    status: CodeStatus
    announced: bool
    verification: Verification


@dataclass(frozen=True)
class Situation:
    """What the store knows when a report comes in."""

    known: KnownCode | None = None
    # The most telling earlier report of the same code: rejected, else one still open.
    earlier: SubmissionState | None = None
    history: History = field(default_factory=History)
    # Reports by this reporter, and from this chat, within the limits' window.
    by_user: int = 0
    in_chat: int = 0


def route(
    situation: Situation, limits: Limits, *, moderator: bool, verifiable: bool
) -> Route | Refusal:
    """Where a report goes, or why it is refused.

    Known codes are answered first (a report adds nothing to an announced code); a code
    rejected before is answered at once; limits and a reporter's record apply to players,
    not to moderators, whose reports are approved at once.
    """
    known = situation.known
    if known is not None:
        if known.status is CodeStatus.EXPIRED:
            return Refusal.KNOWN_EXPIRED
        if known.announced:
            if known.verification is Verification.INVALID:
                return Refusal.ALREADY_REJECTED
            return Refusal.KNOWN_ACTIVE
    if moderator:
        return Route.APPROVE
    if situation.history.blocked:
        return Refusal.BLOCKED
    if situation.earlier is SubmissionState.REJECTED:
        return Refusal.ALREADY_REJECTED
    if situation.earlier is not None and situation.earlier.open:
        return Refusal.ALREADY_REPORTED
    if situation.history.ignored(limits):
        return Refusal.IGNORED
    if situation.by_user >= limits.per_user:
        return Refusal.USER_LIMIT
    if situation.in_chat >= limits.per_chat:
        return Refusal.CHAT_LIMIT
    return Route.VERIFY if verifiable else Route.MODERATE


def clean_rewards(text: str) -> str:
    """Reward text from a player, kept like page text: no links, one line, bounded."""
    return clip(one_line(without_links(text)), MAX_REWARDS_LENGTH)


def clean_credit(name: str) -> str:
    """The name a reporter is credited with: no links, one line, bounded (escaped where
    shown)."""
    return clip(one_line(without_links(name)), MAX_CREDIT_LENGTH)


@dataclass(frozen=True)
class Reporter:
    """Who reports, and where: the platform's user id is never shown publicly."""

    platform: str
    user_id: str
    chat_id: str | None = None
    # The community the chat belongs to (a Discord server); the per-chat limit counts it.
    space_id: str | None = None
    # Shown only when the reporter opted in with the credit word.
    name: str = ""
    moderator: bool = False
    roles: tuple[str, ...] = ()

    @property
    def place(self) -> str | None:
        return self.space_id or self.chat_id


@dataclass(frozen=True)
class Decider:
    """Who decided a report: a moderator (platform and user id, and a name to show),
    HoYoverse's redeem endpoint, or the operator from the shell."""

    key: str
    name: str


VERIFICATION = Decider("verification", "HoYoverse's redeem check")
OPERATOR = Decider("operator", "the operator")


@dataclass(frozen=True)
class SubmissionView:
    """A report as moderators and the site see it."""

    id: int
    game: str
    code: str
    rewards: str
    platform: str
    state: SubmissionState
    created_at: datetime
    history: History = field(default_factory=History)
    credit: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ReportCounts:
    """How many reports were accepted and rejected, for the sources page."""

    accepted: int = 0
    rejected: int = 0
    waiting: int = 0
