"""How long finished delivery rows are kept: pruned a small batch at a time, oldest first.

Rows that ended (`gone`, `failed`) go once older than the retention. A `sent` row also keeps
the message id its code's expiry edits the message by, so it stays until every code of its
announcement has expired (and the edit had its time), however old it is. `pending` rows are
never touched. Each batch is its own short transaction, so delivery workers claiming rows in
the meantime wait for milliseconds at most.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import AnnouncementCodeRow, CodeRow, DeliveryRow, DeliveryState


async def prune_deliveries(
    session: AsyncSession,
    *,
    older_than: datetime,
    edited_before: datetime,
    after_id: int,
    limit: int,
) -> tuple[int, int | None]:
    """Delete the finished rows among the next `limit` rows created before `older_than`
    (by id, after `after_id`); sent rows only when all their codes expired before
    `edited_before`. Returns how many went, and the last id looked at (None: no row left)."""
    window = list(
        await session.scalars(
            select(DeliveryRow.id)
            .where(DeliveryRow.id > after_id, DeliveryRow.created_at < older_than)
            .order_by(DeliveryRow.id)
            .limit(limit)
        )
    )
    if not window:
        return 0, None
    unexpired_code = exists(
        select(AnnouncementCodeRow.code_id)
        .join(CodeRow, CodeRow.id == AnnouncementCodeRow.code_id)
        .where(
            AnnouncementCodeRow.announcement_id == DeliveryRow.announcement_id,
            or_(CodeRow.expired_at.is_(None), CodeRow.expired_at >= edited_before),
        )
    )
    result = await session.execute(
        delete(DeliveryRow)
        .where(
            DeliveryRow.id.in_(window),
            or_(
                DeliveryRow.state.in_((DeliveryState.GONE, DeliveryState.FAILED)),
                and_(DeliveryRow.state == DeliveryState.SENT, ~unexpired_code),
            ),
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0), window[-1]
