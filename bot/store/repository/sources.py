"""What codecast knows of each source: its row, health, last success and failure.

Callers own the transaction; functions here never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
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
