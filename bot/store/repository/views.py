"""Codes as players see them: the public list, what works now, an announcement with its codes.

Callers own the transaction; functions here never commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import Row, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import (
    PLAYERS,
    Announcement,
    AnnouncementKind,
    CodeStatus,
    CodeView,
    Verification,
)
from bot.core.submission import SubmissionState
from bot.store.models import (
    AnnouncementCodeRow,
    AnnouncementRow,
    CodeRow,
    CodeSourceRow,
    SubmissionRow,
)
from bot.store.repository.codes import items_from_json, sources_by_code
from bot.store.repository.submissions import credits

# The columns a view needs, read as plain rows: the site's list of every code ever seen is
# read at each render, and as ORM objects (an identity map, state per object, every
# column) each code cost several times its row.
VIEW = (
    CodeRow.id,
    CodeRow.game,
    CodeRow.code,
    CodeRow.status,
    CodeRow.rewards,
    CodeRow.items,
    CodeRow.first_seen,
    CodeRow.last_seen,
    CodeRow.expires_at,
    CodeRow.verification,
    CodeRow.verified_at,
)


def _view(row: Row[Any] | CodeRow, sources: Sequence[str], credit: str | None = None) -> CodeView:
    return CodeView(
        game=row.game,
        code=row.code,
        status=CodeStatus(row.status),
        rewards=row.rewards,
        items=items_from_json(row.items),
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        expires_at=row.expires_at,
        sources=tuple(sorted(sources)),
        verification=Verification(row.verification),
        verified_at=row.verified_at,
        credit=credit,
    )


async def public_codes(session: AsyncSession, game: str | None = None) -> list[CodeView]:
    """Every settled code, and those being checked with HoYoverse, newest first.

    Codes waiting for a second source are not shown; codes waiting for their verdict are
    (as "checking"), unless only a player reported them. A code only players reported is
    shown once a report of it was accepted, never when it was rejected.
    """
    rows = (await session.execute(_public(game))).all()
    return await _views(session, rows)


async def public_code_pages(session: AsyncSession, size: int) -> AsyncIterator[list[CodeView]]:
    """The codes of `public_codes`, in the same order, `size` at a time: a reader of every
    code ever seen (the site) then holds one page of them at a time, not all."""
    result = await session.stream(_public().execution_options(yield_per=size))
    async for rows in result.partitions(size):
        yield await _views(session, rows)


def _public(game: str | None = None) -> Select[Any]:
    # A code only a player reported is not shown before it is decided.
    listed = (
        select(CodeSourceRow.code_id)
        .where(CodeSourceRow.code_id == CodeRow.id, CodeSourceRow.source_id != PLAYERS.id)
        .exists()
    )
    checking = and_(
        CodeRow.verification == str(Verification.PENDING),
        CodeRow.verify_next_at.is_not(None),
        listed,
    )
    reported = (
        select(CodeSourceRow.code_id)
        .where(CodeSourceRow.code_id == CodeRow.id, CodeSourceRow.source_id == PLAYERS.id)
        .exists()
    )
    accepted = (
        select(SubmissionRow.id)
        .where(
            SubmissionRow.code_id == CodeRow.id,
            SubmissionRow.state == str(SubmissionState.ACCEPTED),
        )
        .exists()
    )
    settled = and_(CodeRow.announced_at.is_not(None), or_(~reported, listed, accepted))
    query = select(*VIEW).where(or_(settled, checking))
    if game is not None:
        query = query.where(CodeRow.game == game)
    return query.order_by(CodeRow.first_seen.desc(), CodeRow.id)


async def current_codes(session: AsyncSession, game: str) -> list[CodeView]:
    """Codes of a game a player can try now: settled, not expired; newest first."""
    rows = (
        await session.execute(
            select(*VIEW)
            .where(
                CodeRow.game == game,
                CodeRow.announced_at.is_not(None),
                CodeRow.status != str(CodeStatus.EXPIRED),
            )
            .order_by(CodeRow.first_seen.desc(), CodeRow.id)
        )
    ).all()
    return await _views(session, rows)


async def _views(session: AsyncSession, rows: Sequence[Row[Any] | CodeRow]) -> list[CodeView]:
    if not rows:
        return []
    by_code = await sources_by_code(session, [r.id for r in rows])
    reported = [code_id for code_id, found in by_code.items() if PLAYERS.id in found]
    credited = await credits(session, reported)
    return [_view(r, by_code.get(r.id, []), credited.get(r.id)) for r in rows]


async def load_announcement(session: AsyncSession, announcement_id: int) -> Announcement | None:
    """An announcement with its codes as they are now (statuses and expiry included)."""
    row = await session.get(AnnouncementRow, announcement_id)
    if row is None:
        return None
    codes = await announcement_codes(session, announcement_id)
    return Announcement(
        id=row.id,
        game=row.game,
        created_at=row.created_at,
        codes=tuple(codes),
        kind=AnnouncementKind(row.kind),
    )


async def announcement_codes(session: AsyncSession, announcement_id: int) -> list[CodeView]:
    rows = (
        await session.execute(
            select(*VIEW)
            .join(AnnouncementCodeRow, AnnouncementCodeRow.code_id == CodeRow.id)
            .where(AnnouncementCodeRow.announcement_id == announcement_id)
            .order_by(CodeRow.id)
        )
    ).all()
    return await _views(session, rows)
