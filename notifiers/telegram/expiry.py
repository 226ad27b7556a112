"""Marks codes as expired in announcements already sent: the messages are edited in place.

Runs in the process that listens for commands (there is one per bot: Telegram allows one
getUpdates consumer), every `interval` seconds: it pages through the sent announcements
holding a code that expired since the last look, renders them again (an expired code is
marked and loses its Redeem button) and edits each message within the sending limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot import repository
from bot.catalog import Catalog, CatalogError
from bot.domain import Game, Platform
from notifiers.telegram.format import Message, announcement_messages
from notifiers.telegram.limits import SendLimits
from notifiers.telegram.sender import NO_PREVIEW, retry_after_seconds, to_markup

log = logging.getLogger(__name__)

# How often to look for newly expired codes.
EXPIRY_CHECK_SECONDS = 60.0
# On start, codes that expired this long before are looked at too (the process may have been
# down when they did); editing a message again to the same text is harmless.
EXPIRY_LOOKBACK = timedelta(hours=1)
# Sent messages read from the database at once.
PAGE_SIZE = 500
# Renderings kept: one per announcement being edited.
RENDERED_CACHE_SIZE = 32


class ExpiryEditor:
    """Edits sent announcements when one of their codes expires."""

    def __init__(
        self,
        bot: Bot,
        catalog: Catalog,
        sessions: async_sessionmaker[AsyncSession],
        limits: SendLimits,
        *,
        clock: Callable[[], datetime],
        interval: float = EXPIRY_CHECK_SECONDS,
    ) -> None:
        self.bot = bot
        self.catalog = catalog
        self.sessions = sessions
        self.limits = limits
        self.clock = clock
        self.interval = interval
        self.edited = 0
        self._since: datetime | None = None
        self._rendered: OrderedDict[int, list[Message]] = OrderedDict()

    async def run(self) -> None:
        """Look every `interval` seconds, forever; a failed look is logged and retried."""
        while True:
            try:
                await self.check()
            except (SQLAlchemyError, OSError) as error:
                log.warning("telegram: cannot look for expired codes: %s", type(error).__name__)
            except Exception:
                # A background loop must outlive its bugs: log, and look again next time.
                log.exception("telegram: looking for expired codes failed")
            await asyncio.sleep(self.interval)

    async def check(self) -> int:
        """One look: edit what expired since the last one. Returns how many messages."""
        now = self.clock()
        since = self._since or now - EXPIRY_LOOKBACK
        edited, after = 0, 0
        self._rendered.clear()
        while True:
            async with self.sessions() as session:
                page = await repository.sent_with_codes_expired_since(
                    session, Platform.TELEGRAM, since, after_id=after, limit=PAGE_SIZE
                )
            for sent in page:
                edited += await self._edit(sent)
            if len(page) < PAGE_SIZE:
                break
            after = page[-1].delivery_id
        self._since = now
        self.edited += edited
        if edited:
            log.info("telegram: %d sent messages marked with expired codes", edited)
        return edited

    async def _edit(self, sent: repository.SentMessage) -> int:
        messages = await self._messages(sent.announcement_id)
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
            turn = await self.limits.wait_turn(chat_id)
            try:
                await self.bot.edit_message_text(
                    message.text,
                    chat_id=chat_id,
                    message_id=message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=to_markup(message.keyboard),
                    link_preview_options=NO_PREVIEW,
                )
            except RetryAfter as error:
                wait = retry_after_seconds(error)
                self.limits.rate_limited(chat_id, wait)
                await asyncio.sleep(wait)
                continue
            except (BadRequest, Forbidden) as error:
                # Not modified (edited before), deleted, or the chat is gone: nothing to do;
                # a gone chat is ended by the next delivery to it.
                log.debug("telegram: no edit of %s/%s: %s", chat_id, message_id, error.message)
                return False
            except TelegramError as error:
                log.info("telegram: edit of %s/%s failed: %s", chat_id, message_id, error.message)
                return False
            finally:
                self.limits.done(turn)
            return True
        return False

    async def _messages(self, announcement_id: int) -> list[Message]:
        messages = self._rendered.get(announcement_id)
        if messages is None:
            async with self.sessions() as session:
                codes = await repository.announcement_codes(session, announcement_id)
            game = codes[0].game if codes else ""
            messages = announcement_messages(self._game(game), codes) if codes else []
            self._rendered[announcement_id] = messages
            while len(self._rendered) > RENDERED_CACHE_SIZE:
                self._rendered.popitem(last=False)
        return messages

    def _game(self, game_id: str) -> Game:
        try:
            return self.catalog.game(game_id)
        except CatalogError:
            return Game(id=game_id, name=game_id, pattern=".+")


async def stop_task(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
