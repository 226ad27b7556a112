"""Targets named by a URL (webhooks, Apprise): saving them, their failure streaks, status.

A target's subscriptions use its `key` (a digest of kind and URL) as their chat id, so the
URL itself, which carries tokens, stays in this table. Callers own the transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import Platform
from bot.store.models import MAX_ERROR_LENGTH, SubscriptionRow, TargetRow

# Where a target came from: the command line, the subscribers file, or Discord's /subscribe.
ORIGIN_CLI = "cli"
ORIGIN_CONFIG = "config"
ORIGIN_DISCORD = "discord"


@dataclass(frozen=True)
class Target:
    key: str
    platform: Platform
    url: str
    signing_key: str | None
    label: str
    origin: str
    failures: int
    last_error: str | None
    last_failure_at: datetime | None
    last_success_at: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None


def target_key(platform: Platform, url: str) -> str:
    """The same URL of the same kind is always the same target."""
    digest = hashlib.sha256(f"{platform}\n{url}".encode()).hexdigest()
    return f"t{digest[:31]}"


def _target(row: TargetRow) -> Target:
    return Target(
        key=row.key,
        platform=Platform(row.platform),
        url=row.url,
        signing_key=row.signing_key,
        label=row.label,
        origin=row.origin,
        failures=row.failures,
        last_error=row.last_error,
        last_failure_at=row.last_failure_at,
        last_success_at=row.last_success_at,
        disabled_at=row.disabled_at,
        disabled_reason=row.disabled_reason,
    )


async def save_target(
    session: AsyncSession,
    platform: Platform,
    url: str,
    *,
    label: str,
    origin: str,
    now: datetime,
    signing_key: str | None = None,
    revive: bool = True,
) -> Target:
    """Add a target; with `revive`, an existing one is taken back into service (its streak
    forgotten). An existing signing key is kept unless a new one is given."""
    key = target_key(platform, url)
    row = await session.get(TargetRow, key)
    if row is None:
        row = TargetRow(
            key=key,
            platform=str(platform),
            url=url,
            signing_key=signing_key,
            label=label,
            origin=origin,
            created_at=now,
            failures=0,
        )
        session.add(row)
    else:
        row.label = label
        row.origin = origin
        row.signing_key = signing_key or row.signing_key
        if revive:
            row.failures = 0
            row.disabled_at = None
            row.disabled_reason = None
    await session.flush()
    return _target(row)


async def get_target(session: AsyncSession, key: str) -> Target | None:
    row = await session.get(TargetRow, key)
    return None if row is None else _target(row)


async def record_target_success(session: AsyncSession, key: str, *, now: datetime) -> None:
    await session.execute(
        update(TargetRow)
        .where(TargetRow.key == key)
        .values(failures=0, last_success_at=now, last_error=None)
    )


async def record_target_failure(
    session: AsyncSession, key: str, *, error: str, now: datetime, limit: int
) -> int:
    """Count a failed attempt; returns the streak. At `limit` the target is disabled (the
    caller ends its subscriptions, as for a target that is gone)."""
    error = error[:MAX_ERROR_LENGTH]
    # One statement: attempts failing at the same moment each count.
    await session.execute(
        update(TargetRow)
        .where(TargetRow.key == key)
        .values(failures=TargetRow.failures + 1, last_error=error, last_failure_at=now)
    )
    streak = await session.scalar(select(TargetRow.failures).where(TargetRow.key == key))
    if streak is None:
        return 0
    if streak >= limit:
        await session.execute(
            update(TargetRow)
            .where(TargetRow.key == key, TargetRow.disabled_at.is_(None))
            .values(
                disabled_at=now,
                disabled_reason=f"{streak} failures in a row; last: {error}"[:MAX_ERROR_LENGTH],
            )
        )
    return int(streak)


async def disable_target(session: AsyncSession, key: str, *, reason: str, now: datetime) -> None:
    """The receiver said the target is gone (410, an unknown webhook)."""
    await session.execute(
        update(TargetRow)
        .where(TargetRow.key == key, TargetRow.disabled_at.is_(None))
        .values(disabled_at=now, disabled_reason=reason[:MAX_ERROR_LENGTH])
    )


@dataclass(frozen=True)
class TargetStatus:
    target: Target
    # Games it gets (active subscriptions), and games whose subscription ended.
    games: tuple[str, ...]
    ended: tuple[str, ...]


async def target_statuses(session: AsyncSession) -> list[TargetStatus]:
    targets = (await session.scalars(select(TargetRow).order_by(TargetRow.created_at))).all()
    subscriptions = (
        await session.execute(
            select(SubscriptionRow.chat_id, SubscriptionRow.game, SubscriptionRow.active).where(
                SubscriptionRow.chat_id.in_([t.key for t in targets])
            )
        )
    ).all()
    games: dict[str, list[str]] = {}
    ended: dict[str, list[str]] = {}
    for chat_id, game, active in sorted(subscriptions):
        (games if active else ended).setdefault(chat_id, []).append(game)
    return [
        TargetStatus(_target(t), tuple(games.get(t.key, ())), tuple(ended.get(t.key, ())))
        for t in targets
    ]


async def targets_of_origin(session: AsyncSession, origin: str) -> Sequence[Target]:
    rows = (await session.scalars(select(TargetRow).where(TargetRow.origin == origin))).all()
    return [_target(r) for r in rows]
