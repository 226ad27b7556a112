"""SQLAlchemy 2 models: codes, sources, subscriptions, announcements and the delivery outbox.

ORM classes stay inside the database layer (this module and bot/repository.py); frozen
dataclasses from bot/domain.py cross the boundary.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names so that migrations work the same on SQLite and PostgreSQL.
# Error texts and reasons stored on rows are cut to this many characters.
MAX_ERROR_LENGTH = 500

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use UTC-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Platform chat ids: Telegram ids fit in 64 bits, Discord snowflakes too; stored as text so a
# new platform with other ids needs no migration.
ChatId = String(64)


class Base(AsyncAttrs, DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class CodeRow(Base):
    __tablename__ = "codes"
    __table_args__ = (UniqueConstraint("game", "code_key", name="uq_codes_game_code_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    game: Mapped[str] = mapped_column(String(32))
    # The code as the sources spell it, and its identity: upper-cased.
    code: Mapped[str] = mapped_column(String(64))
    code_key: Mapped[str] = mapped_column(String(64))
    rewards: Mapped[str] = mapped_column(Text, default="")
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    expired_at: Mapped[datetime | None]
    # Set once the code has been announced (or deliberately not: baseline, first seen expired).
    announced_at: Mapped[datetime | None]
    # What HoYoverse's redeem endpoint says of it (bot/verification.py): the verdict, when it
    # was given, the last answer, and the queue (due at verify_next_at; NULL: not queued).
    verification: Mapped[str] = mapped_column(String(16), default="unverified")
    verified_at: Mapped[datetime | None]
    verify_answer: Mapped[str | None] = mapped_column(Text)
    verify_account: Mapped[str | None] = mapped_column(String(40))
    verify_next_at: Mapped[datetime | None] = mapped_column(index=True)
    verify_attempts: Mapped[int] = mapped_column(Integer, default=0)
    verify_not_active_since: Mapped[datetime | None]
    # When subscribers who asked for reminders were told it expires soon (never twice).
    reminded_at: Mapped[datetime | None]


class VerifyAccountRow(Base):
    """A verification account as status shows it (never its cookie: that stays in its file)."""

    __tablename__ = "verify_accounts"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The games it has a uid for, space-separated.
    games: Mapped[str] = mapped_column(Text, default="")
    # "ok", or "out" when HoYoverse refuses its login (out_reason says why).
    state: Mapped[str] = mapped_column(String(16), default="ok")
    out_reason: Mapped[str | None] = mapped_column(Text)
    last_answer: Mapped[str | None] = mapped_column(Text)
    last_answer_at: Mapped[datetime | None]
    last_redeem_at: Mapped[datetime | None]
    checks: Mapped[int] = mapped_column(Integer, default=0)


class VerifyFamilyRow(Base):
    """A Zenless family used by an account, and the code that used it (the family rule)."""

    __tablename__ = "verify_families"

    account: Mapped[str] = mapped_column(String(40), primary_key=True)
    game: Mapped[str] = mapped_column(String(32), primary_key=True)
    family: Mapped[str] = mapped_column(String(32), primary_key=True)
    code_key: Mapped[str] = mapped_column(String(64))


class SourceRow(Base):
    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    game: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    last_attempt: Mapped[datetime | None]
    last_success: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_count: Mapped[int | None]
    probably_broken: Mapped[bool] = mapped_column(Boolean, default=False)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    # A wiki page's revision id at the last read of its content (asked for before it).
    revision: Mapped[str | None] = mapped_column(Text)
    # When the source's last listing was stored: the code_sources rows it stamped then are
    # what it says now, which a poll of another source merges with.
    listed_at: Mapped[datetime | None]
    # What polling it costs: polls, requests and bytes received since `counted_since`, and
    # the bytes of the last poll (an unchanged one should be a few hundred).
    polls: Mapped[int] = mapped_column(BigInteger, default=0)
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_received: Mapped[int] = mapped_column(BigInteger, default=0)
    last_poll_bytes: Mapped[int | None] = mapped_column(BigInteger)
    counted_since: Mapped[datetime | None]


class CodeSourceRow(Base):
    """Which sources list a code, and what each last said of it."""

    __tablename__ = "code_sources"

    code_id: Mapped[int] = mapped_column(
        ForeignKey("codes.id", ondelete="CASCADE"), primary_key=True
    )
    source_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]


class SubscriptionRow(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("platform", "chat_id", "game", name="uq_subscriptions_chat_game"),
        Index("ix_subscriptions_game_active", "game", "platform", "active"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(ChatId)
    # The community the chat belongs to (a Discord server): leaving it ends its subscriptions.
    space_id: Mapped[str | None] = mapped_column(ChatId)
    game: Mapped[str] = mapped_column(String(32))
    # What the platform keeps per subscription (Discord: "role_id", the role to mention).
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deactivated_reason: Mapped[str | None] = mapped_column(Text)
    # How many people a message to the chat reaches, as the bot last learnt it: 1 for a
    # private chat, the member count of a group, a channel or a Discord server. NULL when
    # unknown (a target named by a URL, a chat subscribed before it was recorded): counted
    # as a group of unknown size. Announcements reach the biggest chats first (bot/store/
    # repository/codes.py), unless CODECAST_DELIVERY_ORDER says otherwise.
    audience: Mapped[int | None] = mapped_column(Integer)


class ChatLanguageRow(Base):
    """The language a chat is spoken to in (bot/core/language.py's tags).

    `chosen` when someone set it (/language); otherwise it follows the language of whoever
    last changed the chat's subscriptions (a private chat: its user's Telegram app).
    """

    __tablename__ = "chat_languages"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(ChatId, primary_key=True)
    language: Mapped[str] = mapped_column(String(16))
    chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]


class AnnouncementRow(Base):
    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    game: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    # "new" (new codes) or "reminder" (codes expiring soon): bot.core.domain.AnnouncementKind.
    kind: Mapped[str] = mapped_column(String(16), default="new")


class AnnouncementCodeRow(Base):
    __tablename__ = "announcement_codes"

    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True
    )
    code_id: Mapped[int] = mapped_column(
        ForeignKey("codes.id", ondelete="CASCADE"), primary_key=True
    )


class DeliveryState:
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    GONE = "gone"


class DeliveryRow(Base):
    """The outbox: one row per (announcement, subscription), drained by delivery workers."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("announcement_id", "subscription_id", name="uq_deliveries_once"),
        # What a claim reads, in the order it claims: pending rows only, so that the claim
        # stops after `limit` rows instead of sorting the whole backlog every time. The
        # migration (0009) makes it partial, `WHERE state = 'pending'`, on both databases;
        # naming that here (`postgresql_where=`, `sqlite_where=`) would load both dialects
        # into every process, and autogenerate does not compare it: the migration tests do.
        Index("ix_deliveries_pending", "platform", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcements.id", ondelete="CASCADE")
    )
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE")
    )
    platform: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    # A lease: the worker that claimed the row and until when; expired leases are reclaimed.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class TargetRow(Base):
    """A delivery target named by a URL (a Discord webhook, a JSON webhook, an Apprise URL).

    Its subscriptions carry `key` as their chat id, so the URL (a secret: it holds tokens)
    is kept here only, never in logs or status; `label` is what may be shown.
    """

    __tablename__ = "targets"

    key: Mapped[str] = mapped_column(ChatId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(Text)
    # The HMAC-SHA256 key JSON webhooks are signed with (None for other kinds).
    signing_key: Mapped[str | None] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text)
    # "cli", "config" (the subscribers file: kept in step with it) or "discord" (/subscribe).
    origin: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    # Failed attempts in a row (a success resets it); past the limit the target is disabled.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_failure_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(Text)


class BoardRow(Base):
    """A message codecast keeps up to date in place: a game's codes that work now."""

    __tablename__ = "boards"
    __table_args__ = (Index("ix_boards_platform_active", "platform", "active"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(ChatId)
    space_id: Mapped[str | None] = mapped_column(ChatId)
    game: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str] = mapped_column(String(64))
    # A digest of what the message shows now: an edit is made only when it would change.
    shown: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    ended_reason: Mapped[str | None] = mapped_column(Text)


class SubmissionRow(Base):
    """A code a player reported (bot/core/submission.py): who, where, and what became of it.

    The reporter's platform user id is kept to count their reports and to block them; it is
    never shown, and their name only when they opted in (`credit`).
    """

    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_code", "game", "code_key"),
        Index("ix_submissions_reporter", "platform", "reporter_id", "created_at"),
        Index("ix_submissions_state", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    game: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(64))
    code_key: Mapped[str] = mapped_column(String(64))
    rewards: Mapped[str] = mapped_column(Text, default="")
    platform: Mapped[str] = mapped_column(String(16))
    reporter_id: Mapped[str] = mapped_column(ChatId)
    chat_id: Mapped[str | None] = mapped_column(ChatId)
    space_id: Mapped[str | None] = mapped_column(ChatId)
    # The name to credit, set only when the reporter opted in.
    credit: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    # The code row once there is one (a report being verified, or an approved one).
    code_id: Mapped[int | None] = mapped_column(ForeignKey("codes.id", ondelete="SET NULL"))
    # "verification", "operator" or "<platform>:<user id>", with the name shown for it.
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_name: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)


class ReporterRow(Base):
    """A reporter a moderator blocked: their reports are no longer taken."""

    __tablename__ = "reporters"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(ChatId, primary_key=True)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked_by: Mapped[str | None] = mapped_column(String(100))
    blocked_at: Mapped[datetime | None]


class ModerationPostRow(Base):
    """Where a waiting report was posted for moderators, and what the post shows now.

    The row is inserted before the post is sent (its key makes that the claim, so one
    process posts it); `message_id` is set once it is sent, and `shown` follows the report's
    state as the post is edited.
    """

    __tablename__ = "moderation_posts"

    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(ChatId)
    message_id: Mapped[str | None] = mapped_column(String(64))
    shown: Mapped[str] = mapped_column(String(16))
    posted_at: Mapped[datetime]


class PaidSpendRow(Base):
    """Paid sends (Telegram's paid broadcasts) per budget scope: a day, an announcement.

    `reserved` is what processes set aside before sending (a budget is never overspent, even
    by several processes at once); `sent` what went out and cost money. Unused reservations
    are given back when a process stops.
    """

    __tablename__ = "paid_spend"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    # "day:2026-12-06" (UTC) or "announcement:42".
    scope: Mapped[str] = mapped_column(String(48), primary_key=True)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    sent: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]
