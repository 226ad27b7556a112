"""Telegram's boards: post one (pinned without a sound), and edit it as the codes change.

Every call goes through the bot's rate limiter: the post and the pin answer a person's
/board (replies first), the edits of the keeper go as broadcasts. Edits never notify, and
the pin asks Telegram not to either (`disable_notification`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.core.domain import CodeView, Game, Platform
from bot.store import repository
from notifiers.boards import BoardEdit, BoardView, digest
from notifiers.telegram.format import Message, board_message
from notifiers.telegram.languages import ChatLanguages
from notifiers.telegram.limits import Priority, retry_after_seconds
from notifiers.telegram.sender import NO_PREVIEW, to_markup

log = logging.getLogger(__name__)

# Answers to an edit that mean the board's message is gone for good.
_GONE_MARKERS = ("message to edit not found", "chat not found", "message can't be edited")


def view_of(message: Message) -> BoardView:
    markup = to_markup(message.keyboard)
    keyboard = json.dumps(markup.to_dict() if markup else None, sort_keys=True)
    return BoardView(message, digest(message.text, keyboard))


class TelegramBoards:
    """The `BoardEditor` for Telegram, and the post of a new board."""

    platform = Platform.TELEGRAM

    def __init__(self, bot: ExtBot[Any], languages: ChatLanguages) -> None:
        self.bot = bot
        self.languages = languages

    async def render(
        self, board: repository.Board, game: Game, codes: Sequence[CodeView]
    ) -> BoardView:
        words = await self.languages.words_of_chat(board.chat_id)
        return view_of(board_message(game, codes, words))

    async def post(self, chat_id: int, message: Message) -> tuple[str, bool]:
        """Send the board and pin it; returns its message id and whether it is pinned."""
        sent = await self.bot.send_message(
            chat_id,
            message.text,
            parse_mode=ParseMode.HTML,
            reply_markup=to_markup(message.keyboard),
            link_preview_options=NO_PREVIEW,
            disable_notification=True,
        )
        try:
            await self.bot.pin_chat_message(chat_id, sent.message_id, disable_notification=True)
        except (BadRequest, Forbidden) as error:
            # No right to pin here: the board works all the same.
            log.info("telegram: board in %s not pinned: %s", chat_id, error.message)
            return str(sent.message_id), False
        return str(sent.message_id), True

    async def remove(self, chat_id: str, message_id: str) -> None:
        """A replaced board's message goes (best effort: it may be gone already)."""
        try:
            await self.bot.delete_message(chat_id, int(message_id))
        except TelegramError as error:
            log.debug("telegram: old board %s/%s stays: %s", chat_id, message_id, error.message)

    async def edit(self, board: repository.Board, view: BoardView) -> BoardEdit:
        message = view.payload
        assert isinstance(message, Message)
        for _ in range(2):
            try:
                await self.bot.edit_message_text(
                    message.text,
                    chat_id=board.chat_id,
                    message_id=int(board.message_id),
                    parse_mode=ParseMode.HTML,
                    reply_markup=to_markup(message.keyboard),
                    link_preview_options=NO_PREVIEW,
                    rate_limit_args=Priority.BROADCAST,
                )
            except RetryAfter as error:
                await asyncio.sleep(retry_after_seconds(error))
                continue
            except BadRequest as error:
                text = error.message.lower()
                if "not modified" in text:
                    return BoardEdit.UNCHANGED
                if any(marker in text for marker in _GONE_MARKERS):
                    return BoardEdit.GONE
                log.info("telegram: board %d not edited: %s", board.id, error.message)
                return BoardEdit.FAILED
            except Forbidden:
                return BoardEdit.GONE
            except TelegramError as error:
                log.info("telegram: board %d not edited: %s", board.id, error.message)
                return BoardEdit.FAILED
            return BoardEdit.EDITED
        return BoardEdit.FAILED
