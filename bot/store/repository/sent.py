"""Sent messages whose codes have since expired, for the editors that strike them.

Callers own the transaction; functions here never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import (
    AnnouncementKind,
    Platform,
)
from bot.store.models import (
    AnnouncementCodeRow,
    AnnouncementRow,
    ChatLanguageRow,
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
    # The chat's recorded language and the subscription's options (Discord's "language").
    language: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    # The chat's community (a Discord server).
    space_id: str | None = None


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
    # Reminders are left as they are: they said the code was about to expire, and it did.
    expired = (
        select(AnnouncementCodeRow.announcement_id)
        .join(CodeRow, CodeRow.id == AnnouncementCodeRow.code_id)
        .join(AnnouncementRow, AnnouncementRow.id == AnnouncementCodeRow.announcement_id)
        .where(CodeRow.expired_at >= since, AnnouncementRow.kind == str(AnnouncementKind.NEW))
    )
    rows = (
        await session.execute(
            select(
                DeliveryRow.id,
                DeliveryRow.announcement_id,
                SubscriptionRow.chat_id,
                DeliveryRow.message_id,
                ChatLanguageRow.language,
                SubscriptionRow.options,
                SubscriptionRow.space_id,
            )
            .join(SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id)
            .outerjoin(
                ChatLanguageRow,
                and_(
                    ChatLanguageRow.platform == SubscriptionRow.platform,
                    ChatLanguageRow.chat_id == SubscriptionRow.chat_id,
                ),
            )
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
    return [
        SentMessage(d, a, chat, message or "", language, dict(options or {}), space)
        for d, a, chat, message, language, options, space in rows
    ]
