"""Telegram's part in marking expired codes: the edit of one delivered announcement.

`notifiers.expiry.ExpiryWatcher` finds the sent announcements to edit; this renders one
again (an expired code is marked and loses its Redeem button) and edits each of its
messages within the sending limits (kept by the bot's rate limiter; edits of old messages
go as broadcasts, after any reply a person waits for).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.core.catalog import Catalog, CatalogError
from bot.core.domain import Announcement, Game, Platform
from bot.core.language import words
from bot.store import repository
from notifiers.telegram.format import Message, announcement_messages
from notifiers.telegram.limits import Priority, retry_after_seconds
from notifiers.telegram.sender import NO_PREVIEW, to_markup

log = logging.getLogger(__name__)


class TelegramEditor:
    """Edits the messages of a sent announcement to show its codes as they are now."""

    platform = Platform.TELEGRAM

    def __init__(self, bot: ExtBot[Any], catalog: Catalog) -> None:
        self.bot = bot
        self.catalog = catalog
        # The last renderings: a look hands the same announcement for every chat it went to,
        # in as many languages as those chats speak.
        self._rendered: tuple[Announcement, dict[str, list[Message]]] | None = None

    async def edit_sent(self, sent: repository.SentMessage, announcement: Announcement) -> int:
        messages = self._messages(announcement, sent.language)
        ids = sent.message_id.split(",")
        if len(ids) != len(messages):
            # Split differently now than when sent: editing would shuffle the codes.
            return 0
        edited = 0
        for message_id, message in zip(ids, messages, strict=True):
            if await self._edit_one(sent.chat_id, int(message_id), message):
                edited += 1
        return edited

    async def _edit_one(self, chat_id: str, message_id: int, message: Message) -> bool:
        for _ in range(2):
            try:
                await self.bot.edit_message_text(
                    message.text,
                    chat_id=chat_id,
                    message_id=message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=to_markup(message.keyboard),
                    link_preview_options=NO_PREVIEW,
                    rate_limit_args=Priority.BROADCAST,
                )
            except RetryAfter as error:
                # Recorded by the rate limiter; this edit waits its turn again.
                await asyncio.sleep(retry_after_seconds(error))
                continue
            except (BadRequest, Forbidden) as error:
                # Not modified (edited before), deleted, or the chat is gone: nothing to do;
                # a gone chat is ended by the next delivery to it.
                log.debug("telegram: no edit of %s/%s: %s", chat_id, message_id, error.message)
                return False
            except TelegramError as error:
                log.info("telegram: edit of %s/%s failed: %s", chat_id, message_id, error.message)
                return False
            return True
        return False

    def _messages(self, announcement: Announcement, language: str | None) -> list[Message]:
        if self._rendered is None or self._rendered[0] is not announcement:
            self._rendered = (announcement, {})
        spoken = words(language)
        rendered = self._rendered[1].get(spoken.tag)
        if rendered is None:
            game = self._game(announcement.game)
            rendered = announcement_messages(game, list(announcement.codes), words=spoken)
            self._rendered[1][spoken.tag] = rendered
        return rendered

    def _game(self, game_id: str) -> Game:
        try:
            return self.catalog.game(game_id)
        except CatalogError:
            return Game(id=game_id, name=game_id, pattern=".+")
