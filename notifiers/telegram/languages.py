"""Which language the bot speaks in a chat: chosen with /language, else the user's app's.

A private chat follows its user's Telegram app (`language_code`) until someone chooses with
/language; a group or channel speaks what its administrators chose, else the language of the
administrator who last changed its subscriptions. Replies follow the same rule, except that
in a group without a choice each user is answered in their own app's language.

Commands reach one process per bot, so the chats' languages are cached here; announcements
read the database (every delivery carries its chat's language).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Chat, User
from telegram.constants import ChatType

from bot.core.domain import Platform
from bot.core.language import Words, negotiate, words
from bot.store import repository
from bot.store.repository import ChatLanguage

# Chats whose language is kept in memory; older ones are read again when they come back.
MAX_CACHED_CHATS = 10_000


class ChatLanguages:
    """The chats' languages: read once per chat, written when they change."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self._known: OrderedDict[str, ChatLanguage | None] = OrderedDict()

    async def stored(self, chat_id: str) -> ChatLanguage | None:
        if chat_id in self._known:
            self._known.move_to_end(chat_id)
            return self._known[chat_id]
        async with self.sessions() as session:
            found = await repository.chat_language(session, Platform.TELEGRAM, chat_id)
        self._remember(chat_id, found)
        return found

    async def words_for(self, chat: Chat | None, user: User | None) -> Words:
        """The words to answer in: the chat's choice, else the user's app, else the chat's
        followed language, else English. A private chat with a language recorded follows
        its user's app when that changed."""
        if chat is None:
            return words(user.language_code if user else None)
        stored = await self.stored(str(chat.id))
        if stored is not None and stored.chosen:
            return words(stored.language)
        app = negotiate(user.language_code) if user and user.language_code else None
        if app is None:
            return words(stored.language if stored else None)
        if chat.type == ChatType.PRIVATE and stored is not None and stored.language != app.tag:
            await self.follow(str(chat.id), app.tag)
        return words(app.tag)

    async def words_of_chat(self, chat_id: str) -> Words:
        """The words of a chat nobody is writing in now (a board): what it chose or follows."""
        stored = await self.stored(chat_id)
        return words(stored.language if stored else None)

    async def follow(self, chat_id: str, tag: str) -> None:
        """Record the language of whoever changed the chat's subscriptions (never over a
        choice)."""
        stored = await self.stored(chat_id)
        if stored is not None and (stored.chosen or stored.language == tag):
            return
        async with self.sessions.begin() as session:
            now = await repository.set_chat_language(
                session, Platform.TELEGRAM, chat_id, tag, chosen=False, now=self.clock()
            )
        self._remember(chat_id, now)

    async def choose(self, chat_id: str, tag: str | None, *, fallback: str) -> None:
        """Set the chat's language; `None` makes it follow its users again (recorded as
        `fallback`, the chooser's app language, until someone else changes it)."""
        async with self.sessions.begin() as session:
            if tag is None:
                await repository.forget_chat_language(session, Platform.TELEGRAM, chat_id)
                now = await repository.set_chat_language(
                    session, Platform.TELEGRAM, chat_id, fallback, chosen=False, now=self.clock()
                )
            else:
                now = await repository.set_chat_language(
                    session, Platform.TELEGRAM, chat_id, tag, chosen=True, now=self.clock()
                )
        self._remember(chat_id, now)

    def moved(self, old_chat_id: str, new_chat_id: str) -> None:
        self._known.pop(old_chat_id, None)
        self._known.pop(new_chat_id, None)

    def forget(self, chat_id: str) -> None:
        """The bot left the chat (blocked, removed): its language is read again if it comes
        back, and not kept meanwhile."""
        self._known.pop(chat_id, None)

    def __contains__(self, chat_id: object) -> bool:
        """Whether the chat's language is held in memory."""
        return chat_id in self._known

    def _remember(self, chat_id: str, value: ChatLanguage | None) -> None:
        self._known[chat_id] = value
        self._known.move_to_end(chat_id)
        while len(self._known) > MAX_CACHED_CHATS:
            self._known.popitem(last=False)
