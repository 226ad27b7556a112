"""Reports on Telegram: /submit and /moderation, moderators' taps, and the moderation chat.

The handlers hand reports and decisions to the shared `ReportDesk`; what they say is built
by `report_format` (with `report_words`), in the language of the chat they come from (a
player's app, a chat's choice). `TelegramBoard` is the `ModerationBoard` the moderation
watcher posts through, in the moderation chat's language. Every call goes through the bot, so
through codecast's rate limiter.
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
from bot.core.language import Words, english, words
from bot.core.submission import Action, Decider, Refusal, Reporter, SubmissionView
from notifiers import report_words
from notifiers.reports import Receipt, ReportDesk
from notifiers.telegram import report_format as texts
from notifiers.telegram.arguments import read_submission
from notifiers.telegram.format import (
    MOD_APPROVE,
    MOD_BLOCK,
    Message,
    decode_callback,
    stale_button,
)
from notifiers.telegram.languages import ChatLanguages
from notifiers.telegram.sender import NO_PREVIEW, to_markup

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
_COMMAND_UPDATES = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
# Moderators' taps carry these callback actions (format.MOD_ACTIONS).
_MODERATION_TAP = r"^m[arb]\|"
_ACTIONS = {MOD_APPROVE: Action.APPROVE, MOD_BLOCK: Action.BLOCK}


class TelegramReports:
    """The report handlers of the bot, registered before the other commands."""

    def __init__(self, desk: ReportDesk, catalog: Catalog, languages: ChatLanguages) -> None:
        self.desk = desk
        self.catalog = catalog
        self.languages = languages

    def register(self, app: Any) -> None:
        app.add_handler(CommandHandler("submit", self.submit, filters=_COMMAND_UPDATES))
        app.add_handler(CommandHandler("moderation", self.moderation, filters=_COMMAND_UPDATES))
        app.add_handler(CallbackQueryHandler(self.tap, pattern=_MODERATION_TAP))

    async def submit(self, update: Update, context: Context) -> None:
        user, chat = update.effective_user, update.effective_chat
        w = await self.languages.words_for(chat, user)
        if user is None or chat is None:
            refusal = Receipt(refusal=Refusal.NO_REPORTER)
            await _reply(update, texts.receipt_text(refusal, self.catalog, w))
            return
        args = read_submission(self.catalog, context.args or [])
        if args is None:
            await _reply(update, texts.submit_usage(w))
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
        await _reply(update, texts.receipt_text(receipt, self.catalog, w))

    async def moderation(self, update: Update, context: Context) -> None:
        user = update.effective_user
        w = await self.languages.words_for(update.effective_chat, user)
        if user is None or not self._moderator(user.id):
            await _reply(update, report_words.moderators_only(w))
            return
        reports = await self.desk.waiting()
        message = texts.waiting_list(reports, self.catalog, w)
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
        # The tapper is answered in their app's language; the post stays in its chat's.
        tapper = words(query.from_user.language_code)
        request = decode_callback(query.data)
        if request is None or not request.target.isdigit():
            await query.answer(stale_button(tapper))
            return
        if not self._moderator(query.from_user.id):
            # Nothing changes; the tapper is told why.
            await query.answer(report_words.not_a_moderator(tapper), show_alert=True)
            return
        chat = query.message.chat if query.message is not None else None
        w = await self.languages.words_for(chat, None) if chat is not None else english()
        action = _ACTIONS.get(request.action, Action.REJECT)
        moderator = Decider(f"{Platform.TELEGRAM}:{query.from_user.id}", query.from_user.full_name)
        in_list = request.game == texts.LIST
        decided = await self.desk.decide(
            int(request.target),
            action,
            moderator,
            shown_on=None if in_list else str(Platform.TELEGRAM),
        )
        await query.answer(
            texts.tap_answer(decided.submission, decided.changed, action is Action.BLOCK, tapper)
        )
        if in_list:
            message = texts.waiting_list(await self.desk.waiting(), self.catalog, w)
        else:
            message = texts.report_post(decided.submission, self.catalog, w)
        await _edit(query.edit_message_text, message)

    def _moderator(self, user_id: int) -> bool:
        return self.desk.rules.moderators.is_moderator(Platform.TELEGRAM, str(user_id))


class TelegramBoard:
    """The Telegram moderation chat (CODECAST_MODERATION_TELEGRAM_CHAT)."""

    platform = str(Platform.TELEGRAM)

    def __init__(
        self, bot: ExtBot[Any], catalog: Catalog, chat_id: str, languages: ChatLanguages
    ) -> None:
        self.bot = bot
        self.catalog = catalog
        self.chat_id = chat_id
        self.languages = languages

    async def _words(self, chat_id: str) -> Words:
        """The moderation chat's language (chosen with /language there), else English."""
        stored = await self.languages.stored(chat_id)
        return words(stored.language) if stored is not None else english()

    async def post(self, report: SubmissionView) -> str | None:
        message = texts.report_post(report, self.catalog, await self._words(self.chat_id))
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
        message = texts.report_post(report, self.catalog, await self._words(chat_id))
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
