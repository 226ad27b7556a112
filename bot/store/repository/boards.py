"""Boards: messages kept up to date in place with a game's codes that work now.

Callers own the transaction; functions here never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import CodeStatus, CodeView, Platform
from bot.store.models import MAX_ERROR_LENGTH, BoardRow, CodeRow
from bot.store.repository.views import _views

# An expired code stays on a board, struck through, this long; then it leaves.
EXPIRED_SHOWN_FOR = timedelta(days=1)


@dataclass(frozen=True)
class Board:
    id: int
    platform: Platform
    chat_id: str
    space_id: str | None
    game: str
    message_id: str
    # A digest of what the message shows now ("" before its first look).
    shown: str


def _board(row: BoardRow) -> Board:
    return Board(
        row.id,
        Platform(row.platform),
        row.chat_id,
        row.space_id,
        row.game,
        row.message_id,
        row.shown,
    )


async def add_board(
    session: AsyncSession,
    platform: Platform,
    chat_id: str,
    game: str,
    message_id: str,
    *,
    now: datetime,
    space_id: str | None = None,
    shown: str = "",
) -> tuple[Board, list[Board]]:
    """A new board; the chat's earlier board of the game (replaced) is ended and returned."""
    earlier = (
        await session.scalars(
            select(BoardRow).where(
                BoardRow.platform == str(platform),
                BoardRow.chat_id == chat_id,
                BoardRow.game == game,
                BoardRow.active.is_(True),
            )
        )
    ).all()
    for row in earlier:
        row.active = False
        row.ended_reason = "replaced by a new board"
        row.updated_at = now
    row = BoardRow(
        platform=str(platform),
        chat_id=chat_id,
        space_id=space_id,
        game=game,
        message_id=message_id,
        shown=shown,
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return _board(row), [_board(r) for r in earlier]


async def active_boards(session: AsyncSession, platform: Platform) -> list[Board]:
    rows = (
        await session.scalars(
            select(BoardRow)
            .where(BoardRow.platform == str(platform), BoardRow.active.is_(True))
            .order_by(BoardRow.id)
        )
    ).all()
    return [_board(r) for r in rows]


async def board_shown(session: AsyncSession, board_id: int, shown: str, *, now: datetime) -> None:
    await session.execute(
        update(BoardRow).where(BoardRow.id == board_id).values(shown=shown, updated_at=now)
    )


async def end_board(session: AsyncSession, board_id: int, *, reason: str, now: datetime) -> None:
    await session.execute(
        update(BoardRow)
        .where(BoardRow.id == board_id)
        .values(active=False, ended_reason=reason[:MAX_ERROR_LENGTH], updated_at=now)
    )


async def end_chat_boards(
    session: AsyncSession, platform: Platform, chat_id: str, *, reason: str, now: datetime
) -> int:
    """The chat is gone (left, deleted): its boards end too."""
    result = await session.execute(
        update(BoardRow)
        .where(
            BoardRow.platform == str(platform),
            BoardRow.chat_id == chat_id,
            BoardRow.active.is_(True),
        )
        .values(active=False, ended_reason=reason[:MAX_ERROR_LENGTH], updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def board_codes(
    session: AsyncSession, game: str, now: datetime, *, keep: timedelta = EXPIRED_SHOWN_FOR
) -> list[CodeView]:
    """What a board of `game` shows: the settled codes that work, newest first, then those
    that expired within `keep`, most recent first."""
    rows = (
        await session.scalars(
            select(CodeRow).where(
                CodeRow.game == game,
                CodeRow.announced_at.is_not(None),
                or_(
                    CodeRow.status != str(CodeStatus.EXPIRED),
                    CodeRow.expired_at >= now - keep,
                ),
            )
        )
    ).all()
    live = sorted(
        (r for r in rows if r.status != str(CodeStatus.EXPIRED)),
        key=lambda r: (r.first_seen, r.id),
        reverse=True,
    )
    gone = sorted(
        (r for r in rows if r.status == str(CodeStatus.EXPIRED)),
        key=lambda r: (r.expired_at or now, r.id),
        reverse=True,
    )
    return await _views(session, [*live, *gone])
