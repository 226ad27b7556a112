"""Which language each chat is spoken to in: read, chosen, followed, moved with the chat.

Callers own the transaction; functions here never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import Platform
from bot.store.models import ChatLanguageRow


@dataclass(frozen=True)
class ChatLanguage:
    """A chat's language tag, and whether someone chose it (else it follows a user's app)."""

    language: str
    chosen: bool


async def chat_language(
    session: AsyncSession, platform: Platform, chat_id: str
) -> ChatLanguage | None:
    row = await session.get(ChatLanguageRow, (str(platform), chat_id))
    return None if row is None else ChatLanguage(row.language, row.chosen)


async def set_chat_language(
    session: AsyncSession,
    platform: Platform,
    chat_id: str,
    language: str,
    *,
    chosen: bool,
    now: datetime,
) -> ChatLanguage:
    """Record a chat's language. A language followed from a user (`chosen` false) never
    replaces one somebody chose; a choice always wins."""
    row = await session.get(ChatLanguageRow, (str(platform), chat_id))
    if row is None:
        row = ChatLanguageRow(
            platform=str(platform),
            chat_id=chat_id,
            language=language,
            chosen=chosen,
            updated_at=now,
        )
        session.add(row)
    elif chosen or not row.chosen:
        row.language, row.chosen, row.updated_at = language, chosen, now
    await session.flush()
    return ChatLanguage(row.language, row.chosen)


async def forget_chat_language(session: AsyncSession, platform: Platform, chat_id: str) -> None:
    """The chat follows its users' apps again."""
    await session.execute(
        delete(ChatLanguageRow).where(
            ChatLanguageRow.platform == str(platform), ChatLanguageRow.chat_id == chat_id
        )
    )


async def move_chat_language(
    session: AsyncSession, platform: Platform, old_chat_id: str, new_chat_id: str
) -> None:
    """A chat's new id keeps its language (Telegram group → supergroup), unless the new one
    has its own."""
    old = await session.get(ChatLanguageRow, (str(platform), old_chat_id))
    if old is None:
        return
    new = await session.scalar(
        select(ChatLanguageRow).where(
            ChatLanguageRow.platform == str(platform), ChatLanguageRow.chat_id == new_chat_id
        )
    )
    if new is None:
        session.add(
            ChatLanguageRow(
                platform=old.platform,
                chat_id=new_chat_id,
                language=old.language,
                chosen=old.chosen,
                updated_at=old.updated_at,
            )
        )
    await session.delete(old)
    await session.flush()
