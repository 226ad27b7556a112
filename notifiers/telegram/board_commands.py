"""`/board game` and `/remind on|off [game…]`: a live board, and reminders before codes expire.

Both change what a chat gets, so only those who speak for it may use them (the user in a
private chat, administrators in groups and channels), as with /subscribe.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.error import Forbidden

from bot.core.domain import Platform
from bot.store import repository
from bot.store.repository.announcements import REMIND_OPTION
from notifiers.telegram import format as fmt
from notifiers.telegram.arguments import choose_games, unknown_games_text
from notifiers.telegram.boards import TelegramBoards, view_of
from notifiers.telegram.handlers import Context, TelegramCommands, refusal, reply_text

log = logging.getLogger(__name__)


class BoardCommands:
    """The handlers of /board and /remind, on top of the bot's other commands."""

    def __init__(self, commands: TelegramCommands, boards: TelegramBoards) -> None:
        self.commands = commands
        self.boards = boards

    def handlers(self) -> dict[str, Any]:
        return {"board": self.board, "remind": self.remind}

    async def board(self, update: Update, context: Context) -> None:
        c = self.commands
        w = await c.words(update)
        chat = update.effective_chat
        if chat is None:
            return
        if not await c.may_change_here(update):
            await reply_text(update, refusal(w))
            return
        args = context.args or []
        choice = choose_games(c.catalog, args) if args else None
        if choice is None or choice.unknown or len(choice.games) != 1:
            text = (
                fmt.escape(unknown_games_text(c.catalog, choice.unknown, w))
                if choice is not None and choice.unknown
                else fmt.board_usage(w)
            )
            await reply_text(update, text)
            return
        game = choice.games[0]
        now = c.clock()
        async with c.sessions() as session:
            codes = await repository.board_codes(session, game.id, now)
        message = fmt.board_message(game, codes, w)
        try:
            message_id, pinned = await self.boards.post(chat.id, message)
        except Forbidden:
            return  # the bot was removed meanwhile: nobody to tell
        async with c.sessions.begin() as session:
            _, replaced = await repository.add_board(
                session,
                Platform.TELEGRAM,
                str(chat.id),
                game.id,
                message_id,
                now=now,
                shown=view_of(message).digest,
            )
        for old in replaced:
            await self.boards.remove(old.chat_id, old.message_id)
        if not pinned and chat.type != ChatType.CHANNEL:
            await reply_text(update, fmt.board_not_pinned(w))

    async def remind(self, update: Update, context: Context) -> None:
        """`/remind on|off [game…]`: reminders of codes about to expire, per subscription."""
        c = self.commands
        w = await c.words(update)
        where = await c.target(update, None, w)
        if where is None:
            return
        async with c.sessions() as session:
            found = await repository.chat_subscriptions(session, Platform.TELEGRAM, where.id)
        subscribed = c.games_named(s.game for s in found)
        args = context.args or []
        switch = args[0].casefold() if args else ""
        if switch not in ("on", "off"):
            reminded = [s.game for s in found if s.options.get(REMIND_OPTION) is True]
            await reply_text(update, fmt.reminders_text(subscribed, reminded, where.name, w))
            return
        if not await c.may_change_here(update):
            await reply_text(update, refusal(w))
            return
        games: list[str] | None = None
        if args[1:]:
            choice = choose_games(c.catalog, args[1:])
            if choice.unknown or not choice.games:
                text = unknown_games_text(c.catalog, choice.unknown, w)
                await reply_text(update, fmt.escape(text))
                return
            games = [g.id for g in choice.games]
        on = switch == "on"
        async with c.sessions.begin() as session:
            changed = await repository.set_option(
                session,
                Platform.TELEGRAM,
                where.id,
                REMIND_OPTION,
                True if on else None,
                games=games,
                now=c.clock(),
            )
        text = fmt.reminders_changed_text(on, c.games_named(changed), where.name, w)
        await reply_text(update, text)
