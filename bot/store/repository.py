"""The database layer: every query codecast makes, taking an AsyncSession, returning domain data.

Callers own the transaction (`async with sessions.begin() as session:`); functions here
never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import (
    Announcement,
    CodeStatus,
    CodeView,
    Platform,
    RewardItem,
    SourceConfig,
    SourceHealth,
)
from bot.core.merge import Diff, MergedCode, StoredCode, status_after
from bot.store.models import (
    AnnouncementCodeRow,
    AnnouncementRow,
    CodeRow,
    CodeSourceRow,
    DeliveryRow,
    DeliveryState,
    SourceRow,
    SubscriptionRow,
    UTCDateTime,
)

MAX_ERROR_LENGTH = 500


# --- sources ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceState:
    etag: str | None
    last_modified: str | None
    last_success: datetime | None
    last_count: int | None
    consecutive_failures: int
    probably_broken: bool


async def sync_sources(session: AsyncSession, sources: Sequence[SourceConfig]) -> None:
    """Make sure every catalog source has a row, with its current game, kind and URL."""
    existing = {row.id: row for row in (await session.scalars(select(SourceRow))).all()}
    for source in sources:
        row = existing.get(source.id)
        if row is None:
            session.add(
                SourceRow(
                    id=source.id,
                    game=source.game,
                    kind=source.kind,
                    url=source.url,
                    consecutive_failures=0,
                    probably_broken=False,
                )
            )
        elif (row.game, row.kind, row.url) != (source.game, source.kind, source.url):
            row.game, row.kind, row.url = source.game, source.kind, source.url
            # A new URL is a new page: its validators mean nothing there.
            row.etag = row.last_modified = None


async def source_states(session: AsyncSession) -> dict[str, SourceState]:
    rows = (await session.scalars(select(SourceRow))).all()
    return {
        row.id: SourceState(
            etag=row.etag,
            last_modified=row.last_modified,
            last_success=row.last_success,
            last_count=row.last_count,
            consecutive_failures=row.consecutive_failures,
            probably_broken=row.probably_broken,
        )
        for row in rows
    }


async def record_source_success(
    session: AsyncSession,
    source_id: str,
    *,
    now: datetime,
    count: int | None,
    etag: str | None,
    last_modified: str | None,
    probably_broken: bool,
    note: str | None = None,
) -> None:
    """A fetch that worked. `count` is None for 304 Not Modified (the last count stands)."""
    values: dict[str, Any] = {
        "last_attempt": now,
        "last_success": now,
        "consecutive_failures": 0,
        "last_error": note,
        "probably_broken": probably_broken,
        "etag": etag,
        "last_modified": last_modified,
    }
    if count is not None:
        values["last_count"] = count
    await session.execute(update(SourceRow).where(SourceRow.id == source_id).values(**values))


async def record_source_failure(
    session: AsyncSession, source_id: str, *, now: datetime, error: str, broken_after: int
) -> int:
    """A fetch or parse that failed; returns the number of failures in a row."""
    row = await session.get(SourceRow, source_id)
    if row is None:
        return 0
    row.last_attempt = now
    row.last_error = error[:MAX_ERROR_LENGTH]
    row.consecutive_failures += 1
    if row.consecutive_failures >= broken_after:
        row.probably_broken = True
    return row.consecutive_failures


async def source_health(session: AsyncSession) -> list[SourceHealth]:
    rows = (await session.scalars(select(SourceRow).order_by(SourceRow.game, SourceRow.id))).all()
    return [
        SourceHealth(
            id=r.id,
            game=r.game,
            kind=r.kind,
            url=r.url,
            last_attempt=r.last_attempt,
            last_success=r.last_success,
            last_error=r.last_error,
            consecutive_failures=r.consecutive_failures,
            last_count=r.last_count,
            probably_broken=r.probably_broken,
        )
        for r in rows
    ]


# --- codes -----------------------------------------------------------------------------


async def stored_codes(
    session: AsyncSession, games: Iterable[str]
) -> dict[tuple[str, str], StoredCode]:
    games = list(games)
    if not games:
        return {}
    rows = (
        await session.execute(
            select(
                CodeRow.id, CodeRow.game, CodeRow.code_key, CodeRow.status, CodeRow.announced_at
            ).where(CodeRow.game.in_(games))
        )
    ).all()
    links = (
        await session.execute(
            select(CodeSourceRow.code_id, CodeSourceRow.source_id)
            .join(CodeRow, CodeRow.id == CodeSourceRow.code_id)
            .where(CodeRow.game.in_(games))
        )
    ).all()
    by_code: dict[int, set[str]] = {}
    for code_id, source_id in links:
        by_code.setdefault(code_id, set()).add(source_id)
    return {
        (game, key): StoredCode(
            id=code_id,
            game=game,
            key=key,
            status=CodeStatus(status),
            settled=announced_at is not None,
            source_ids=frozenset(by_code.get(code_id, ())),
        )
        for code_id, game, key, status, announced_at in rows
    }


def _items_json(items: Sequence[RewardItem]) -> list[dict[str, Any]]:
    return [{"name": i.name, "amount": i.amount, "icon_url": i.icon_url} for i in items]


def _items_from_json(raw: Any) -> tuple[RewardItem, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(
        RewardItem(name=str(i.get("name", "")), amount=i.get("amount"), icon_url=i.get("icon_url"))
        for i in raw
        if isinstance(i, dict)
    )


@dataclass(frozen=True)
class AppliedCycle:
    new_codes: int
    newly_expired: int
    # announcement id -> number of delivery rows created
    announcements: dict[int, int]


async def apply_diff(
    session: AsyncSession,
    diff: Diff,
    merged: Mapping[tuple[str, str], MergedCode],
    now: datetime,
) -> AppliedCycle:
    """Write one cycle's changes; create announcements and their deliveries. No commit."""
    ids: dict[tuple[str, str], int] = {}
    new_rows = [
        CodeRow(
            game=code.game,
            code=code.code,
            code_key=code.key,
            rewards=code.rewards,
            items=_items_json(code.items),
            status=str(code.status),
            first_seen=now,
            last_seen=now,
            expires_at=code.expires_at,
            expired_at=now if code.status is CodeStatus.EXPIRED else None,
        )
        for code in diff.new
    ]
    session.add_all(new_rows)
    await session.flush()
    for row in new_rows:
        ids[(row.game, row.code_key)] = row.id

    updates: list[dict[str, Any]] = []
    for old, code in diff.seen:
        ids[(old.game, old.key)] = old.id
        status = status_after(old.status, code.status)
        values: dict[str, Any] = {"id": old.id, "last_seen": now, "status": str(status)}
        if code.rewards:
            values["rewards"] = code.rewards
        if code.items:
            values["items"] = _items_json(code.items)
        if code.expires_at is not None:
            values["expires_at"] = code.expires_at
        if status is CodeStatus.EXPIRED and old.status is not CodeStatus.EXPIRED:
            values["expired_at"] = now
        updates.append(values)
    if updates:
        # Executemany with one parameter set per row; the keys must match across rows.
        for group in _same_keys(updates):
            await session.execute(update(CodeRow), group)

    links = [
        {
            "code_id": ids[ident],
            "source_id": source_id,
            "status": str(status),
            "first_seen": now,
            "last_seen": now,
        }
        for ident, code in merged.items()
        for source_id, status in code.sources.items()
    ]
    await _upsert_code_sources(session, links)

    settle = [ids[i] for i in (*diff.announce, *diff.settle_silently)]
    if settle:
        await session.execute(
            update(CodeRow).where(CodeRow.id.in_(settle)).values(announced_at=now)
        )

    by_game: dict[str, list[int]] = {}
    for game, key in diff.announce:
        by_game.setdefault(game, []).append(ids[(game, key)])
    announcements: dict[int, int] = {}
    for game, code_ids in sorted(by_game.items()):
        announcement_id, count = await create_announcement(session, game, code_ids, now)
        announcements[announcement_id] = count
    return AppliedCycle(
        new_codes=len(diff.new),
        newly_expired=len(diff.newly_expired),
        announcements=announcements,
    )


def _same_keys(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())


async def _upsert_code_sources(session: AsyncSession, links: list[dict[str, Any]]) -> None:
    if not links:
        return
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = upsert(CodeSourceRow)
    statement = statement.on_conflict_do_update(
        index_elements=[CodeSourceRow.code_id, CodeSourceRow.source_id],
        set_={"status": statement.excluded.status, "last_seen": statement.excluded.last_seen},
    )
    # Chunks keep the statement under the backends' bound-parameter limits.
    for start in range(0, len(links), 500):
        await session.execute(statement, links[start : start + 500])


async def create_announcement(
    session: AsyncSession, game: str, code_ids: Sequence[int], now: datetime
) -> tuple[int, int]:
    """One announcement and one delivery row per active subscription of the game.

    The delivery rows are made by a single INSERT … SELECT, so the subscribers are never
    loaded into memory, however many there are.
    """
    announcement = AnnouncementRow(game=game, created_at=now)
    session.add(announcement)
    await session.flush()
    session.add_all(
        AnnouncementCodeRow(announcement_id=announcement.id, code_id=c) for c in code_ids
    )
    await session.flush()
    stamp = literal(now, UTCDateTime())
    fan_out = insert(DeliveryRow).from_select(
        [
            "announcement_id",
            "subscription_id",
            "platform",
            "state",
            "attempts",
            "next_attempt_at",
            "created_at",
        ],
        select(
            literal(announcement.id),
            SubscriptionRow.id,
            SubscriptionRow.platform,
            literal(DeliveryState.PENDING),
            literal(0),
            stamp,
            stamp,
        ).where(and_(SubscriptionRow.game == game, SubscriptionRow.active.is_(True))),
    )
    result = await session.execute(fan_out)
    count = result.rowcount if result.rowcount is not None and result.rowcount >= 0 else 0  # type: ignore[attr-defined]
    return announcement.id, count


def _view(row: CodeRow, sources: Sequence[str]) -> CodeView:
    return CodeView(
        game=row.game,
        code=row.code,
        status=CodeStatus(row.status),
        rewards=row.rewards,
        items=_items_from_json(row.items),
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        expires_at=row.expires_at,
        sources=tuple(sorted(sources)),
    )


async def public_codes(session: AsyncSession, game: str | None = None) -> list[CodeView]:
    """Every settled code (pending confirmation ones are not shown), newest first."""
    query = select(CodeRow).where(CodeRow.announced_at.is_not(None))
    if game is not None:
        query = query.where(CodeRow.game == game)
    rows = (await session.scalars(query.order_by(CodeRow.first_seen.desc(), CodeRow.id))).all()
    return await _views(session, rows)


async def current_codes(session: AsyncSession, game: str) -> list[CodeView]:
    """Codes of a game a player can try now: settled, not expired; newest first."""
    rows = (
        await session.scalars(
            select(CodeRow)
            .where(
                CodeRow.game == game,
                CodeRow.announced_at.is_not(None),
                CodeRow.status != str(CodeStatus.EXPIRED),
            )
            .order_by(CodeRow.first_seen.desc(), CodeRow.id)
        )
    ).all()
    return await _views(session, rows)


async def _views(session: AsyncSession, rows: Sequence[CodeRow]) -> list[CodeView]:
    if not rows:
        return []
    links = (
        await session.execute(
            select(CodeSourceRow.code_id, CodeSourceRow.source_id).where(
                CodeSourceRow.code_id.in_([r.id for r in rows])
            )
        )
    ).all()
    by_code: dict[int, list[str]] = {}
    for code_id, source_id in links:
        by_code.setdefault(code_id, []).append(source_id)
    return [_view(r, by_code.get(r.id, [])) for r in rows]


async def load_announcement(session: AsyncSession, announcement_id: int) -> Announcement | None:
    """An announcement with its codes as they are now (statuses and expiry included)."""
    row = await session.get(AnnouncementRow, announcement_id)
    if row is None:
        return None
    codes = await announcement_codes(session, announcement_id)
    return Announcement(id=row.id, game=row.game, created_at=row.created_at, codes=tuple(codes))


async def announcement_codes(session: AsyncSession, announcement_id: int) -> list[CodeView]:
    rows = (
        await session.scalars(
            select(CodeRow)
            .join(AnnouncementCodeRow, AnnouncementCodeRow.code_id == CodeRow.id)
            .where(AnnouncementCodeRow.announcement_id == announcement_id)
            .order_by(CodeRow.id)
        )
    ).all()
    return await _views(session, rows)


# --- subscriptions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    id: int
    platform: Platform
    chat_id: str
    game: str
    guild_id: str | None
    role_id: str | None
    active: bool


def _subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(
        id=row.id,
        platform=Platform(row.platform),
        chat_id=row.chat_id,
        game=row.game,
        guild_id=row.guild_id,
        role_id=row.role_id,
        active=row.active,
    )


async def subscribe(
    session: AsyncSession,
    platform: Platform,
    chat_id: str,
    game: str,
    *,
    now: datetime,
    guild_id: str | None = None,
    role_id: str | None = None,
) -> Subscription:
    """Subscribe a chat to a game (again): an existing row is reactivated and updated."""
    row = await session.scalar(
        select(SubscriptionRow).where(
            SubscriptionRow.platform == str(platform),
            SubscriptionRow.chat_id == chat_id,
            SubscriptionRow.game == game,
        )
    )
    if row is None:
        row = SubscriptionRow(
            platform=str(platform),
            chat_id=chat_id,
            game=game,
            guild_id=guild_id,
            role_id=role_id,
            options={},
            active=True,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    else:
        row.active = True
        row.deactivated_reason = None
        row.role_id = role_id
        row.guild_id = guild_id or row.guild_id
        row.updated_at = now
    await session.flush()
    return _subscription(row)


async def unsubscribe(
    session: AsyncSession, platform: Platform, chat_id: str, game: str, *, now: datetime
) -> bool:
    """Returns whether there was an active subscription to end."""
    result = await session.execute(
        update(SubscriptionRow)
        .where(
            SubscriptionRow.platform == str(platform),
            SubscriptionRow.chat_id == chat_id,
            SubscriptionRow.game == game,
            SubscriptionRow.active.is_(True),
        )
        .values(active=False, deactivated_reason="unsubscribed", updated_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def chat_subscriptions(
    session: AsyncSession, platform: Platform, chat_id: str
) -> list[Subscription]:
    rows = (
        await session.scalars(
            select(SubscriptionRow)
            .where(
                SubscriptionRow.platform == str(platform),
                SubscriptionRow.chat_id == chat_id,
                SubscriptionRow.active.is_(True),
            )
            .order_by(SubscriptionRow.game)
        )
    ).all()
    return [_subscription(r) for r in rows]


async def guild_subscriptions(session: AsyncSession, guild_id: str) -> list[Subscription]:
    rows = (
        await session.scalars(
            select(SubscriptionRow)
            .where(
                SubscriptionRow.platform == str(Platform.DISCORD),
                SubscriptionRow.guild_id == guild_id,
                SubscriptionRow.active.is_(True),
            )
            .order_by(SubscriptionRow.chat_id, SubscriptionRow.game)
        )
    ).all()
    return [_subscription(r) for r in rows]


async def deactivate_chat(
    session: AsyncSession, platform: Platform, chat_id: str, *, reason: str, now: datetime
) -> int:
    """End every subscription of a chat the platform says is gone; returns how many."""
    result = await session.execute(
        update(SubscriptionRow)
        .where(
            SubscriptionRow.platform == str(platform),
            SubscriptionRow.chat_id == chat_id,
            SubscriptionRow.active.is_(True),
        )
        .values(active=False, deactivated_reason=reason[:MAX_ERROR_LENGTH], updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def deactivate_guild(
    session: AsyncSession, guild_id: str, *, reason: str, now: datetime
) -> int:
    result = await session.execute(
        update(SubscriptionRow)
        .where(
            SubscriptionRow.platform == str(Platform.DISCORD),
            SubscriptionRow.guild_id == guild_id,
            SubscriptionRow.active.is_(True),
        )
        .values(active=False, deactivated_reason=reason[:MAX_ERROR_LENGTH], updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def migrate_chat(
    session: AsyncSession, platform: Platform, old_chat_id: str, new_chat_id: str, *, now: datetime
) -> int:
    """Move a chat's subscriptions to its new id (Telegram group → supergroup)."""
    rows = (
        await session.scalars(
            select(SubscriptionRow).where(
                SubscriptionRow.platform == str(platform), SubscriptionRow.chat_id == old_chat_id
            )
        )
    ).all()
    moved = 0
    for row in rows:
        clash = await session.scalar(
            select(SubscriptionRow).where(
                SubscriptionRow.platform == str(platform),
                SubscriptionRow.chat_id == new_chat_id,
                SubscriptionRow.game == row.game,
                # Not the row itself: a concurrent migration may have moved it already.
                SubscriptionRow.id != row.id,
            )
        )
        if clash is not None:
            clash.active = clash.active or row.active
            clash.updated_at = now
            await session.execute(delete(SubscriptionRow).where(SubscriptionRow.id == row.id))
        else:
            row.chat_id = new_chat_id
            row.updated_at = now
        moved += 1
    return moved


async def count_subscriptions(session: AsyncSession) -> dict[tuple[str, bool], int]:
    rows = (
        await session.execute(
            select(SubscriptionRow.platform, SubscriptionRow.active, func.count()).group_by(
                SubscriptionRow.platform, SubscriptionRow.active
            )
        )
    ).all()
    return {(platform, bool(active)): int(n) for platform, active, n in rows}


# --- sent messages whose codes have since expired --------------------------------------


@dataclass(frozen=True)
class SentMessage:
    """A delivered announcement: where it went and the platform's message id(s)."""

    delivery_id: int
    announcement_id: int
    chat_id: str
    message_id: str


async def sent_with_codes_expired_since(
    session: AsyncSession,
    platform: Platform,
    since: datetime,
    *,
    after_id: int = 0,
    limit: int = 500,
) -> list[SentMessage]:
    """Sent announcements holding a code that expired at or after `since`, for editing.

    One page of at most `limit`, by delivery id after `after_id`: callers page through, so
    memory does not grow with the number of subscribers.
    """
    expired = (
        select(AnnouncementCodeRow.announcement_id)
        .join(CodeRow, CodeRow.id == AnnouncementCodeRow.code_id)
        .where(CodeRow.expired_at >= since)
    )
    rows = (
        await session.execute(
            select(
                DeliveryRow.id,
                DeliveryRow.announcement_id,
                SubscriptionRow.chat_id,
                DeliveryRow.message_id,
            )
            .join(SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id)
            .where(
                DeliveryRow.platform == str(platform),
                DeliveryRow.state == DeliveryState.SENT,
                DeliveryRow.message_id.is_not(None),
                DeliveryRow.id > after_id,
                DeliveryRow.announcement_id.in_(expired),
            )
            .order_by(DeliveryRow.id)
            .limit(limit)
        )
    ).all()
    return [SentMessage(d, a, chat, message or "") for d, a, chat, message in rows]
