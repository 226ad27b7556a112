"""Reports on Telegram: /submit and /moderation, moderators' taps, and the moderation chat.

The handlers hand reports and decisions to the shared `ReportDesk`; what they say is built
by `report_format`. `TelegramBoard` is the `ModerationBoard` the moderation watcher posts
through. Every call goes through the bot, so through codecast's rate limiter.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, ExtBot, filters

from bot.core.catalog import Catalog
from bot.core.domain import Platform
from bot.core.submission import Action, Decider, Refusal, Reporter, SubmissionView
from notifiers.reports import Receipt, ReportDesk
from notifiers.telegram import report_format as words
from notifiers.telegram.arguments import read_submission
from notifiers.telegram.format import (
    MOD_APPROVE,
    MOD_BLOCK,
    Message,
    decode_callback,
)
from notifiers.telegram.sender import NO_PREVIEW, to_markup

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
_COMMAND_UPDATES = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
# Moderators' taps carry these callback actions (format.MOD_ACTIONS).
_MODERATION_TAP = r"^m[arb]\|"
_ACTIONS = {MOD_APPROVE: Action.APPROVE, MOD_BLOCK: Action.BLOCK}


class TelegramReports:
    """The report handlers of the bot, registered before the other commands."""

    def __init__(self, desk: ReportDesk, catalog: Catalog) -> None:
        self.desk = desk
        self.catalog = catalog

    def register(self, app: Any) -> None:
        app.add_handler(CommandHandler("submit", self.submit, filters=_COMMAND_UPDATES))
        app.add_handler(CommandHandler("moderation", self.moderation, filters=_COMMAND_UPDATES))
        app.add_handler(CallbackQueryHandler(self.tap, pattern=_MODERATION_TAP))

    async def submit(self, update: Update, context: Context) -> None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            await _reply(
                update, words.refusal_text(Receipt(refusal=Refusal.NO_REPORTER), self.catalog)
            )
            return
        args = read_submission(self.catalog, context.args or [])
        if args is None:
            await _reply(update, words.SUBMIT_USAGE)
            return
        if args.unknown is not None:
            receipt = Receipt(code=args.text, refusal=Refusal.UNKNOWN_GAME)
        else:
            reporter = Reporter(
                platform=Platform.TELEGRAM,
                user_id=str(user.id),
                chat_id=str(chat.id),
                name=user.full_name,
            )
            receipt = await self.desk.submit(
                reporter, args.game, args.text, rewards=args.rewards, credit=args.credit
            )
        await _reply(update, words.receipt_text(receipt, self.catalog))

    async def moderation(self, update: Update, context: Context) -> None:
        user = update.effective_user
        if user is None or not self._moderator(user.id):
            await _reply(update, words.MODERATORS_ONLY)
            return
        reports = await self.desk.waiting()
        message = words.waiting_list(reports, self.catalog)
        target = update.effective_message
        if target is not None:
            await target.reply_text(
                message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=to_markup(message.keyboard),
                link_preview_options=NO_PREVIEW,
            )

    async def tap(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        request = decode_callback(query.data)
        if request is None or not request.target.isdigit():
            await query.answer("This button no longer works.")
            return
        if not self._moderator(query.from_user.id):
            # Nothing changes; the tapper is told why.
            await query.answer(words.NOT_A_MODERATOR, show_alert=True)
            return
        action = _ACTIONS.get(request.action, Action.REJECT)
        moderator = Decider(f"{Platform.TELEGRAM}:{query.from_user.id}", query.from_user.full_name)
        in_list = request.game == words.LIST
        decided = await self.desk.decide(
            int(request.target),
            action,
            moderator,
            shown_on=None if in_list else str(Platform.TELEGRAM),
        )
        await query.answer(
            words.tap_answer(decided.submission, decided.changed, action is Action.BLOCK)
        )
        if in_list:
            message = words.waiting_list(await self.desk.waiting(), self.catalog)
        else:
            message = words.report_post(decided.submission, self.catalog)
        await _edit(query.edit_message_text, message)

    def _moderator(self, user_id: int) -> bool:
        return self.desk.rules.moderators.is_moderator(Platform.TELEGRAM, str(user_id))


class TelegramBoard:
    """The Telegram moderation chat (CODECAST_MODERATION_TELEGRAM_CHAT)."""

    platform = str(Platform.TELEGRAM)

    def __init__(self, bot: ExtBot[Any], catalog: Catalog, chat_id: str) -> None:
        self.bot = bot
        self.catalog = catalog
        self.chat_id = chat_id

    async def post(self, report: SubmissionView) -> str | None:
        message = words.report_post(report, self.catalog)
        try:
            sent = await self.bot.send_message(
                self.chat_id,
                message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=to_markup(message.keyboard),
                link_preview_options=NO_PREVIEW,
            )
        except TelegramError as error:
            log.warning("telegram: report #%d not posted for moderators: %s", report.id, error)
            return None
        return str(sent.message_id)

    async def show(self, chat_id: str, message_id: str, report: SubmissionView) -> bool:
        message = words.report_post(report, self.catalog)
        try:
            await self.bot.edit_message_text(
                message.text,
                chat_id=chat_id,
                message_id=int(message_id),
                parse_mode=ParseMode.HTML,
                reply_markup=to_markup(message.keyboard),
                link_preview_options=NO_PREVIEW,
            )
        except TelegramError as error:
            log.info("telegram: moderation post %s not updated: %s", message_id, error)
            return False
        return True


async def _reply(update: Update, text: str) -> None:
    target = update.effective_message
    if target is not None:
        await target.reply_text(text, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)


async def _edit(edit: Any, message: Message) -> None:
    try:
        await edit(
            message.text,
            parse_mode=ParseMode.HTML,
            reply_markup=to_markup(message.keyboard),
            link_preview_options=NO_PREVIEW,
        )
    except BadRequest as error:
        # Two quick taps can ask for the same text twice; that is not an error.
        if "not modified" not in error.message.lower():
            raise
