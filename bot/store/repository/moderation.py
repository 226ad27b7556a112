"""Where waiting reports were posted for moderators, and which posts to edit.

Each platform with a moderation chat posts every report that waits for a moderator there
once: the post's row is inserted before the message is sent (its key is the claim, so of
several processes one posts), and the post is edited when the report is decided, wherever
that happened (a tap on another platform, a verdict, the shell).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.submission import SubmissionState, SubmissionView
from bot.store.dialects import upsert
from bot.store.models import ModerationPostRow, SubmissionRow
from bot.store.repository.submissions import views


async def unposted(
    session: AsyncSession, platform: str, *, limit: int = 20
) -> list[SubmissionView]:
    """Reports waiting for a moderator that have no post on `platform` yet, oldest first."""
    ids = (
        await session.scalars(
            select(SubmissionRow.id)
            .outerjoin(
                ModerationPostRow,
                and_(
                    ModerationPostRow.submission_id == SubmissionRow.id,
                    ModerationPostRow.platform == platform,
                ),
            )
            .where(
                SubmissionRow.state == str(SubmissionState.PENDING),
                ModerationPostRow.submission_id.is_(None),
            )
            .order_by(SubmissionRow.created_at, SubmissionRow.id)
            .limit(limit)
        )
    ).all()
    return await views(session, ids)


async def claim(
    session: AsyncSession, submission_id: int, platform: str, chat_id: str, now: datetime
) -> bool:
    """Take the posting of a report on `platform`; False when another process has it."""
    statement = (
        upsert(session, ModerationPostRow)
        .values(
            submission_id=submission_id,
            platform=platform,
            chat_id=chat_id,
            shown=str(SubmissionState.PENDING),
            posted_at=now,
        )
        .on_conflict_do_nothing()
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


async def posted(
    session: AsyncSession, submission_id: int, platform: str, message_id: str | None
) -> None:
    """The post was sent (its message id), or could not be (None: it is not tried again)."""
    await session.execute(
        update(ModerationPostRow)
        .where(
            ModerationPostRow.submission_id == submission_id,
            ModerationPostRow.platform == platform,
        )
        .values(message_id=message_id)
    )


async def shown(session: AsyncSession, submission_id: int, platform: str, state: str) -> None:
    await session.execute(
        update(ModerationPostRow)
        .where(
            ModerationPostRow.submission_id == submission_id,
            ModerationPostRow.platform == platform,
        )
        .values(shown=state)
    )


async def outdated(
    session: AsyncSession, platform: str, *, limit: int = 20
) -> list[tuple[str, str, SubmissionView]]:
    """Posts on `platform` showing a state their report has left: (chat id, message id,
    the report as it is now)."""
    rows = (
        await session.execute(
            select(ModerationPostRow.chat_id, ModerationPostRow.message_id, SubmissionRow.id)
            .join(SubmissionRow, SubmissionRow.id == ModerationPostRow.submission_id)
            .where(
                ModerationPostRow.platform == platform,
                ModerationPostRow.message_id.is_not(None),
                ModerationPostRow.shown != SubmissionRow.state,
            )
            .limit(limit)
        )
    ).all()
    found = {v.id: v for v in await views(session, [sid for _, _, sid in rows])}
    return [(chat, str(message), found[sid]) for chat, message, sid in rows if sid in found]


async def post_of(
    session: AsyncSession, submission_id: int, platform: str
) -> tuple[str, str] | None:
    """(chat id, message id) of a report's post on `platform`, when it was sent."""
    row = await session.get(ModerationPostRow, (submission_id, platform))
    if row is None or row.message_id is None:
        return None
    return row.chat_id, row.message_id
