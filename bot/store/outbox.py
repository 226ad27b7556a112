"""The delivery outbox in the database: claim due rows with a lease, record what happened.

The protocol (crash safety depends on every step):

1. A scrape cycle inserts one `pending` row per (announcement, subscription) in the same
   transaction that stores the new codes, so a found code is never without its deliveries.
2. A worker *claims* due rows: in one short transaction it sets `claimed_by` and a lease
   (`lease_until`) and counts the attempt. On PostgreSQL the candidate rows are locked with
   `FOR UPDATE SKIP LOCKED`, so workers in several processes never claim the same row; on
   SQLite one writer at a time gives the same guarantee within the single process.
3. The worker sends, and only after the platform answered records the outcome: `sent` (with
   the message id), back to `pending` at a later time (retry), `gone` (the chat is gone; its
   subscription is ended) or `failed` (attempts exhausted).
4. While a worker is still busy with its rows it renews their lease (every third of it), so a
   slow batch is not taken over. A row whose lease ran out while still `pending` — its worker
   crashed or lost the database — is due again and is claimed by any worker.

So a code is never lost: a row leaves `pending` only after the platform answered. A crash can
double a message only for rows that were sent but whose outcome was not yet recorded: at most
the worker's sends in flight plus the outcomes waiting to be written (see DeliveryWorker).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    String,
    Table,
    all_,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import Platform
from bot.store import repository
from bot.store.dialects import array_of, is_postgresql
from bot.store.models import (
    MAX_ERROR_LENGTH,
    AnnouncementRow,
    ChatLanguageRow,
    DeliveryRow,
    DeliveryState,
    SubscriptionRow,
    UTCDateTime,
)


@dataclass(frozen=True)
class Delivery:
    """A claimed outbox row with what the sender needs to know of its subscription."""

    id: int
    announcement_id: int
    subscription_id: int
    platform: Platform
    chat_id: str
    game: str
    # The chat's community (a Discord server) and the platform's options for the subscription.
    space_id: str | None
    options: Mapping[str, Any]
    attempts: int
    # The chat's language tag where one is recorded (bot/store/repository/languages.py).
    language: str | None = None


def _due(platform: Platform, now: datetime) -> Any:
    return and_(
        DeliveryRow.platform == str(platform),
        # Written into the SQL, not bound: only then may the planner use the partial index
        # of pending rows (ix_deliveries_pending).
        DeliveryRow.state == literal(DeliveryState.PENDING, literal_execute=True),
        DeliveryRow.next_attempt_at <= now,
        or_(DeliveryRow.lease_until.is_(None), DeliveryRow.lease_until < now),
    )


async def claim_due(
    session: AsyncSession,
    platform: Platform,
    *,
    worker: str,
    limit: int,
    lease: timedelta,
    now: datetime,
    exclude: Collection[int] = (),
) -> list[Delivery]:
    """Claim up to `limit` due rows for `worker` until `now + lease`, oldest first.

    Rows in `exclude` (the worker's own, still being sent) are left alone even when their
    lease ran out."""
    if is_postgresql(session):
        rows = await _claim_in_one_statement(
            session, platform, worker=worker, limit=limit, lease=lease, now=now, exclude=exclude
        )
    else:
        rows = await _claim_in_steps(
            session, platform, worker=worker, limit=limit, lease=lease, now=now, exclude=exclude
        )
    claimed: list[Delivery] = []
    ended: list[int] = []
    for row in rows:
        if not row.active:
            # Unsubscribed (or found gone) after the row was queued: nothing to send.
            ended.append(row.id)
            continue
        claimed.append(
            Delivery(
                id=row.id,
                announcement_id=row.announcement_id,
                subscription_id=row.subscription_id,
                platform=platform,
                chat_id=row.chat_id,
                game=row.game,
                space_id=row.space_id,
                options=row.options or {},
                attempts=row.attempts,
                language=row.language,
            )
        )
    if ended:
        await session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id.in_(ended))
            .values(
                state=DeliveryState.GONE,
                last_error="subscription ended before delivery",
                claimed_by=None,
                lease_until=None,
            )
        )
    return claimed


def _claimed_with_chats(claimed: Any) -> Any:
    """What a Delivery needs of the claimed rows (`claimed`: their id, announcement,
    subscription and attempts), with their subscriptions' chats and languages."""
    return (
        select(
            claimed.c.id,
            claimed.c.announcement_id,
            claimed.c.subscription_id,
            claimed.c.attempts,
            SubscriptionRow.chat_id,
            SubscriptionRow.game,
            SubscriptionRow.space_id,
            SubscriptionRow.options,
            SubscriptionRow.active,
            ChatLanguageRow.language,
        )
        .join(SubscriptionRow, SubscriptionRow.id == claimed.c.subscription_id)
        .outerjoin(
            ChatLanguageRow,
            and_(
                ChatLanguageRow.platform == SubscriptionRow.platform,
                ChatLanguageRow.chat_id == SubscriptionRow.chat_id,
            ),
        )
        .order_by(claimed.c.id)
    )


async def _claim_in_one_statement(
    session: AsyncSession,
    platform: Platform,
    *,
    worker: str,
    limit: int,
    lease: timedelta,
    now: datetime,
    exclude: Collection[int],
) -> Sequence[Any]:
    """PostgreSQL: lock (SKIP LOCKED), claim and read in one statement, one round trip.

    Its text never changes (the rows left out are one array parameter, not a list of
    them), so the connection prepares it once, not at every claim."""
    table = cast(Table, DeliveryRow.__table__)
    held = bindparam("held", list(exclude), type_=array_of(BigInteger()))
    picked = (
        select(table.c.id)
        .where(_due(platform, now), table.c.id != all_(held))
        .order_by(table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("picked")
    )
    claimed = (
        update(table)
        .where(table.c.id.in_(select(picked.c.id)))
        .values(claimed_by=worker, lease_until=now + lease, attempts=table.c.attempts + 1)
        .returning(table.c.id, table.c.announcement_id, table.c.subscription_id, table.c.attempts)
        .cte("claimed")
    )
    return (await session.execute(_claimed_with_chats(claimed))).all()


async def _claim_in_steps(
    session: AsyncSession,
    platform: Platform,
    *,
    worker: str,
    limit: int,
    lease: timedelta,
    now: datetime,
    exclude: Collection[int],
) -> Sequence[Any]:
    """SQLite: pick, claim, read; one writer at a time keeps two workers apart."""
    candidates = select(DeliveryRow.id).where(_due(platform, now)).order_by(DeliveryRow.id)
    if exclude:
        candidates = candidates.where(DeliveryRow.id.not_in(list(exclude)))
    ids = list((await session.scalars(candidates.limit(limit))).all())
    if not ids:
        return []
    await session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id.in_(ids), _due(platform, now))
        .values(
            claimed_by=worker,
            lease_until=now + lease,
            attempts=DeliveryRow.attempts + 1,
        )
    )
    table = cast(Table, DeliveryRow.__table__)
    claimed = (
        select(table.c.id, table.c.announcement_id, table.c.subscription_id, table.c.attempts)
        .where(table.c.id.in_(ids), table.c.claimed_by == worker)
        .subquery("claimed")
    )
    return (await session.execute(_claimed_with_chats(claimed))).all()


async def renew_leases(
    session: AsyncSession,
    platform: Platform,
    *,
    worker: str,
    lease: timedelta,
    now: datetime,
) -> int:
    """Extend the lease of every row `worker` still holds (claimed, outcome not written).

    A row whose lease already ran out and was claimed by another worker has that worker's
    name now, and is left alone."""
    result = await session.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.platform == str(platform),
            DeliveryRow.claimed_by == worker,
            DeliveryRow.state == DeliveryState.PENDING,
            DeliveryRow.lease_until.is_not(None),
        )
        .values(lease_until=now + lease)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def release(session: AsyncSession, ids: Sequence[int], *, worker: str) -> None:
    """Give back rows `worker` claimed and never sent: due again at once, the attempt not
    counted."""
    if not ids:
        return
    await session.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.id.in_(ids),
            DeliveryRow.claimed_by == worker,
            DeliveryRow.state == DeliveryState.PENDING,
        )
        .values(
            claimed_by=None,
            lease_until=None,
            attempts=case((DeliveryRow.attempts > 0, DeliveryRow.attempts - 1), else_=0),
        )
    )


async def mark_sent(
    session: AsyncSession, delivery_id: int, *, message_id: str | None, now: datetime
) -> None:
    await session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == delivery_id)
        .values(
            state=DeliveryState.SENT,
            message_id=message_id,
            sent_at=now,
            # claimed_by stays: which process sent it is worth knowing afterwards.
            lease_until=None,
            last_error=None,
        )
    )


async def mark_sent_many(
    session: AsyncSession, sent: Sequence[tuple[int, str | None]], *, now: datetime
) -> None:
    """`mark_sent` for many rows as one statement: one round trip to the database, not one
    per row, so that recording outcomes keeps up with a platform's full sending rate."""
    if not sent:
        return
    table = cast(Table, DeliveryRow.__table__)
    if is_postgresql(session):
        # One UPDATE joined to the ids and message ids as two arrays: PostgreSQL plans and
        # runs one statement instead of one per row.
        rows = (
            func.unnest(
                bindparam("sent_ids", [i for i, _ in sent], type_=array_of(BigInteger())),
                bindparam("sent_message_ids", [m for _, m in sent], type_=array_of(String(64))),
            )
            .table_valued("id", "message_id")
            .render_derived(name="sent")
        )
        await session.execute(
            update(table)
            .where(table.c.id == rows.c.id)
            .values(
                state=DeliveryState.SENT,
                message_id=rows.c.message_id,
                sent_at=now,
                # claimed_by stays, as in mark_sent.
                lease_until=None,
                last_error=None,
            )
        )
        return
    # The Core table: an executemany UPDATE by id, without the ORM's per-row bookkeeping.
    await session.execute(
        update(table)
        .where(table.c.id == bindparam("sent_id"))
        .values(
            state=DeliveryState.SENT,
            message_id=bindparam("sent_message_id"),
            sent_at=now,
            # claimed_by stays, as in mark_sent.
            lease_until=None,
            last_error=None,
        ),
        [{"sent_id": i, "sent_message_id": m} for i, m in sent],
    )


async def reschedule(
    session: AsyncSession,
    delivery_id: int,
    *,
    at: datetime,
    error: str,
    count_attempt: bool = True,
) -> None:
    """Back to pending, due at `at`. A rate limit does not count as a failed attempt."""
    values: dict[str, Any] = {
        "state": DeliveryState.PENDING,
        "next_attempt_at": at,
        "claimed_by": None,
        "lease_until": None,
        "last_error": error[:MAX_ERROR_LENGTH],
    }
    if not count_attempt:
        values["attempts"] = case((DeliveryRow.attempts > 0, DeliveryRow.attempts - 1), else_=0)
    await session.execute(update(DeliveryRow).where(DeliveryRow.id == delivery_id).values(values))


async def mark_failed(session: AsyncSession, delivery_id: int, *, error: str) -> None:
    await session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == delivery_id)
        .values(
            state=DeliveryState.FAILED,
            claimed_by=None,
            lease_until=None,
            last_error=error[:MAX_ERROR_LENGTH],
        )
    )


async def mark_gone(
    session: AsyncSession, delivery: Delivery, *, reason: str, now: datetime
) -> int:
    """The chat is gone (blocked, kicked, deleted): end its subscriptions and pending rows.

    Returns the number of subscriptions ended.
    """
    reason = reason[:MAX_ERROR_LENGTH]
    ended = await repository.deactivate_chat(
        session, delivery.platform, delivery.chat_id, reason=reason, now=now
    )
    await session.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.state == DeliveryState.PENDING,
            DeliveryRow.subscription_id.in_(
                select(SubscriptionRow.id).where(
                    SubscriptionRow.platform == str(delivery.platform),
                    SubscriptionRow.chat_id == delivery.chat_id,
                )
            ),
        )
        .values(state=DeliveryState.GONE, last_error=reason, claimed_by=None, lease_until=None)
    )
    return ended


async def next_due_at(session: AsyncSession, platform: Platform) -> datetime | None:
    """When the earliest pending row becomes due (lease or schedule), or None if none."""
    due = func.coalesce(DeliveryRow.lease_until, DeliveryRow.next_attempt_at)
    rows = (
        await session.execute(
            select(DeliveryRow.next_attempt_at, DeliveryRow.lease_until)
            .where(
                DeliveryRow.platform == str(platform),
                DeliveryRow.state == DeliveryState.PENDING,
            )
            .order_by(due)
            .limit(1)
        )
    ).first()
    if rows is None:
        return None
    next_attempt_at, lease_until = rows
    return max(filter(None, (next_attempt_at, lease_until)))


async def announcement_size(
    session: AsyncSession, announcement_id: int, platform: Platform
) -> int:
    """How many deliveries an announcement has on a platform (its chats there)."""
    count = await session.scalar(
        select(func.count()).where(
            DeliveryRow.announcement_id == announcement_id,
            DeliveryRow.platform == str(platform),
        )
    )
    return int(count or 0)


@dataclass(frozen=True)
class QueueDepth:
    platform: str
    state: str
    count: int
    oldest: datetime | None


async def queue_depth(session: AsyncSession) -> Sequence[QueueDepth]:
    rows = (
        await session.execute(
            select(
                DeliveryRow.platform,
                DeliveryRow.state,
                func.count(),
                func.min(DeliveryRow.created_at, type_=UTCDateTime()),
            ).group_by(DeliveryRow.platform, DeliveryRow.state)
        )
    ).all()
    return [QueueDepth(p, s, int(n), oldest) for p, s, n, oldest in rows]


@dataclass(frozen=True)
class FanOut:
    """One announcement being delivered on one platform: how far it is."""

    announcement_id: int
    game: str
    platform: str
    total: int
    sent: int
    pending: int
    # Messages of it sent within the last `window` seconds (the rate it goes at now).
    recent: int
    # Its pending row claimed last: it is done when every pending row of the platform up to
    # this one is (rows are claimed by id, and a wave's announcements are interleaved).
    last_pending_id: int


async def running_fan_outs(
    session: AsyncSession, *, now: datetime, window: timedelta
) -> list[FanOut]:
    """Every announcement with deliveries still pending, per platform, oldest first."""
    running = (
        select(DeliveryRow.announcement_id)
        .where(DeliveryRow.state == DeliveryState.PENDING)
        .distinct()
        .scalar_subquery()
    )
    since = now - window
    rows = (
        await session.execute(
            select(
                DeliveryRow.announcement_id,
                AnnouncementRow.game,
                DeliveryRow.platform,
                func.count(),
                func.sum(case((DeliveryRow.state == DeliveryState.SENT, 1), else_=0)),
                func.sum(case((DeliveryRow.state == DeliveryState.PENDING, 1), else_=0)),
                func.sum(case((DeliveryRow.sent_at >= since, 1), else_=0)),
                func.max(case((DeliveryRow.state == DeliveryState.PENDING, DeliveryRow.id))),
            )
            .join(AnnouncementRow, AnnouncementRow.id == DeliveryRow.announcement_id)
            .where(DeliveryRow.announcement_id.in_(running))
            .group_by(DeliveryRow.announcement_id, AnnouncementRow.game, DeliveryRow.platform)
            .order_by(DeliveryRow.announcement_id, DeliveryRow.platform)
        )
    ).all()
    return [
        FanOut(
            int(a),
            str(game),
            str(p),
            int(total),
            int(sent or 0),
            int(pending or 0),
            int(recent or 0),
            int(last),
        )
        for a, game, p, total, sent, pending, recent, last in rows
        if pending
    ]


async def pending_up_to(session: AsyncSession, platform: str, last_id: int) -> int:
    """How many rows of the platform are pending up to `last_id`: the sends that come before
    the one claimed after them (on the index of pending rows, to that row only)."""
    count = await session.scalar(
        select(func.count()).where(
            DeliveryRow.platform == platform,
            DeliveryRow.state == literal(DeliveryState.PENDING, literal_execute=True),
            DeliveryRow.id <= last_id,
        )
    )
    return int(count or 0)
