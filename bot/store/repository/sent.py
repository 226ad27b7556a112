"""Sent messages whose codes have since expired, for the editors that strike them.

Callers own the transaction; functions here never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import (
    Platform,
)
from bot.store.models import (
    AnnouncementCodeRow,
    CodeRow,
    DeliveryRow,
    DeliveryState,
    SubscriptionRow,
)


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
