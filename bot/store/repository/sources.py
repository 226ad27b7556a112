"""What codecast knows of each source: its row, health, last success and failure.

Callers own the transaction; functions here never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import (
    SourceConfig,
    SourceHealth,
)
from bot.store.models import (
    MAX_ERROR_LENGTH,
    SourceRow,
)


@dataclass(frozen=True)
class SourceState:
    etag: str | None
    last_modified: str | None
    last_success: datetime | None
    last_count: int | None
    consecutive_failures: int
    probably_broken: bool
    revision: str | None = None


@dataclass(frozen=True)
class PollCost:
    """What one poll of a source cost: requests made and bytes received."""

    requests: int = 0
    bytes_received: int = 0


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
                    polls=0,
                    requests=0,
                    bytes_received=0,
                )
            )
        elif (row.game, row.kind, row.url) != (source.game, source.kind, source.url):
            row.game, row.kind, row.url = source.game, source.kind, source.url
            # A new URL is a new page: its validators mean nothing there.
            row.etag = row.last_modified = row.revision = None


def _state(row: SourceRow) -> SourceState:
    return SourceState(
        etag=row.etag,
        last_modified=row.last_modified,
        last_success=row.last_success,
        last_count=row.last_count,
        consecutive_failures=row.consecutive_failures,
        probably_broken=row.probably_broken,
        revision=row.revision,
    )


async def source_states(session: AsyncSession) -> dict[str, SourceState]:
    rows = (await session.scalars(select(SourceRow))).all()
    return {row.id: _state(row) for row in rows}


async def source_state(session: AsyncSession, source_id: str) -> SourceState | None:
    row = await session.get(SourceRow, source_id)
    return None if row is None else _state(row)


def _counted(cost: PollCost, now: datetime) -> dict[str, Any]:
    """Column updates adding one poll's cost to the source's totals."""
    return {
        "polls": SourceRow.polls + 1,
        "requests": SourceRow.requests + cost.requests,
        "bytes_received": SourceRow.bytes_received + cost.bytes_received,
        "last_poll_bytes": cost.bytes_received,
        "counted_since": func.coalesce(SourceRow.counted_since, now),
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
    revision: str | None = None,
    cost: PollCost = PollCost(),  # frozen, so safe as a default
) -> None:
    """A fetch that worked. `count` is None when nothing new was read (304, same revision):
    the last count stands. A count means a listing, stored at `now` (see `listed_at`)."""
    values: dict[str, Any] = {
        "last_attempt": now,
        "last_success": now,
        "consecutive_failures": 0,
        "last_error": note,
        "probably_broken": probably_broken,
        "etag": etag,
        "last_modified": last_modified,
        "revision": revision,
        **_counted(cost, now),
    }
    if count is not None:
        values["last_count"] = count
        values["listed_at"] = now
    await session.execute(update(SourceRow).where(SourceRow.id == source_id).values(**values))


async def record_source_failure(
    session: AsyncSession,
    source_id: str,
    *,
    now: datetime,
    error: str,
    broken_after: int,
    cost: PollCost = PollCost(),  # frozen, so safe as a default
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
    await session.execute(
        update(SourceRow).where(SourceRow.id == source_id).values(**_counted(cost, now))
    )
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
            polls=r.polls,
            requests=r.requests,
            bytes_received=r.bytes_received,
            last_poll_bytes=r.last_poll_bytes,
            counted_since=r.counted_since,
        )
        for r in rows
    ]
