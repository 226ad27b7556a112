"""The bot's conversation: commands, keyboard taps, membership changes and errors.

Handlers read and write subscriptions through `bot.store.repository` only; what they say is built
by `format` and what they understood by `commands`. Each handler is a method of
`TelegramCommands`, registered on the Application by `register`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Chat, ChatFullInfo, Message, Update, User
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.core.catalog import Catalog
from bot.core.domain import Game, Platform
from bot.core.glossary import game_name
from bot.core.language import BY_TAG, Words, find, negotiate, words
from bot.store import repository
from notifiers.telegram import format as fmt
from notifiers.telegram.admin import AdminCache, may_change
from notifiers.telegram.arguments import (
    choose_games,
    split_target,
    unknown_games_text,
)
from notifiers.telegram.languages import ChatLanguages
from notifiers.telegram.limits import is_group
from notifiers.telegram.sender import NO_PREVIEW, to_markup

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
TelegramApp = Application[Any, Any, Any, Any, Any, Any]

# Commands arrive as messages in chats and groups, and as posts in channels; edits of old
# commands are not commands again.
_COMMAND_UPDATES = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
# /codes names at most this many games at once, so a reply stays a few messages.
MAX_CODES_GAMES = 5
_GONE_STATUSES = frozenset({ChatMemberStatus.LEFT, ChatMemberStatus.BANNED})
_ADMIN_STATUSES = frozenset({ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})


def refusal(w: Words) -> str:
    return w._("Only this group's administrators can change what it gets.")


def sorry(w: Words) -> str:
    return w._("Sorry, something went wrong on my side. Please try again in a minute.")


@dataclass(frozen=True)
class ChatRef:
    """The chat a command acts on, and how to name it in replies."""

    id: str
    name: str
    # Set when the chat is not the one the command was sent in (a channel named by @username).
    remote: bool = False


def describe(chat: Chat) -> str:
    """How replies name the chat itself (format.chat_subject words it)."""
    if chat.type == ChatType.PRIVATE:
        return fmt.CHAT
    if chat.type == ChatType.CHANNEL:
        return fmt.CHANNEL
    return fmt.GROUP


class TelegramCommands:
    """Every handler of the bot, sharing the catalog, the database and the admin cache."""

    def __init__(
        self,
        catalog: Catalog,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Any,
        admins: AdminCache,
        languages: ChatLanguages | None = None,
    ) -> None:
        self.catalog = catalog
        self.sessions = sessions
        self.clock = clock
        self.admins = admins
        self.languages = languages or ChatLanguages(sessions, clock)
        self.games: tuple[Game, ...] = tuple(catalog.games.values())
        self._migrating = asyncio.Lock()
        # More commands by name (/board, /remind), registered before the unknown-command
        # catch-all.
        self.more: dict[str, Any] = {}

    def register(self, app: TelegramApp) -> None:
        def command(name: str, callback: Any) -> None:
            app.add_handler(CommandHandler(name, callback, filters=_COMMAND_UPDATES))

        command("start", self.start)
        command("help", self.start)
        command("codes", self.codes)
        command("subscribe", self.subscribe)
        command("unsubscribe", self.unsubscribe)
        command("subscriptions", self.subscriptions)
        command("language", self.language)
        for name, callback in self.more.items():
            command(name, callback)
        app.add_handler(CallbackQueryHandler(self.button))
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self.migrated))
        app.add_handler(ChatMemberHandler(self.membership, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_handler(MessageHandler(filters.COMMAND & _COMMAND_UPDATES, self.unknown_command))
        app.add_handler(
            MessageHandler(
                filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, self.chatter
            )
        )
        app.add_error_handler(self.error)

    # --- commands ---------------------------------------------------------------------------

    async def words(self, update: Update) -> Words:
        return await self.languages.words_for(update.effective_chat, update.effective_user)

    async def start(self, update: Update, context: Context) -> None:
        await _reply(update, fmt.start_message(self.games, await self.words(update)))

    async def codes(self, update: Update, context: Context) -> None:
        w = await self.words(update)
        args = context.args or []
        if not args:
            menu = fmt.Message(w._("Which game?"), fmt.pick_game_keyboard(self.games, w))
            await _reply(update, menu)
            return
        choice = choose_games(self.catalog, args)
        if choice.unknown or not choice.games:
            await reply_text(
                update, fmt.escape(unknown_games_text(self.catalog, choice.unknown, w))
            )
            return
        for game in choice.games[:MAX_CODES_GAMES]:
            await _reply(update, await self._codes_message(game, w))

    async def subscribe(self, update: Update, context: Context) -> None:
        await self._change(update, context.args or [], on=True)

    async def unsubscribe(self, update: Update, context: Context) -> None:
        await self._change(update, context.args or [], on=False)

    async def subscriptions(self, update: Update, context: Context) -> None:
        w = await self.words(update)
        where = await self.target(update, split_target(context.args or []).username, w)
        if where is None:
            return
        games = await self._subscribed(where.id)
        await reply_text(update, fmt.subscriptions_text(self.games_named(games), where.name, w))

    async def language(self, update: Update, context: Context) -> None:
        """/language: a keyboard of languages, or `/language ja` to set one at once."""
        w = await self.words(update)
        chat = update.effective_chat
        if chat is None:
            return
        if not await self.may_change_here(update):
            await reply_text(update, refusal(w))
            return
        args = context.args or []
        if args:
            wanted = args[0].casefold()
            auto = wanted in ("auto", "automatic")
            language = None if auto else find(wanted)
            if language is not None or (auto and chat.type == ChatType.PRIVATE):
                await self._choose_language(update, chat, language.tag if language else None)
                return
        stored = await self.languages.stored(str(chat.id))
        current = stored.language if stored is not None and stored.chosen else None
        private = chat.type == ChatType.PRIVATE
        keyboard = fmt.language_keyboard(current, automatic=private, words=w)
        await _reply(update, fmt.Message(fmt.language_prompt(w), keyboard))

    async def _choose_language(self, update: Update, chat: Chat, tag: str | None) -> str:
        user = update.effective_user
        fallback = negotiate(user.language_code if user else None).tag
        await self.languages.choose(str(chat.id), tag, fallback=fallback)
        w = words(tag or fallback)
        text = fmt.language_set_text(BY_TAG[tag].name if tag else None, w)
        await reply_text(update, text)
        return text

    async def _change(self, update: Update, args: Sequence[str], *, on: bool) -> None:
        w = await self.words(update)
        target = split_target(args)
        where = await self.target(update, target.username, w)
        if where is None:
            return
        if not where.remote and not await self.may_change_here(update):
            await reply_text(update, refusal(w))
            return
        await self.languages.follow(where.id, w.tag)
        current = await self._subscribed(where.id)
        if not target.rest:
            text = fmt.subscription_prompt(self.games, current, where.name, w)
            keyboard = fmt.subscription_keyboard(
                self.games, current, where.id if where.remote else "", w
            )
            await _reply(update, fmt.Message(text, keyboard))
            return
        choice = choose_games(self.catalog, target.rest)
        if choice.unknown or not choice.games:
            await reply_text(
                update, fmt.escape(unknown_games_text(self.catalog, choice.unknown, w))
            )
            return
        ids = [g.id for g in choice.games]
        await self._set(where.id, on=ids if on else (), off=() if on else ids)
        await reply_text(update, fmt.changed_text(where.name, choice.games, on=on, words=w))

    async def unknown_command(self, update: Update, context: Context) -> None:
        message = update.effective_message
        chat = update.effective_chat
        if message is None or chat is None or not message.text:
            return
        word = message.text.split()[0]
        name, _, addressee = word.partition("@")
        if addressee and addressee.casefold() != (context.bot.username or "").casefold():
            return  # another bot's command
        if not addressee and chat.type != ChatType.PRIVATE:
            return  # in a group, a bare unknown command may well be for another bot
        w = await self.words(update)
        text = w._("I don't know %(command)s.", command=fmt.escape(fmt.clip(name, 40)))
        await reply_text(update, f"{text} {fmt.help_hint(w)}")

    async def chatter(self, update: Update, context: Context) -> None:
        w = await self.words(update)
        await reply_text(update, f"{w._('I only understand commands.')} {fmt.help_hint(w)}")

    # --- keyboards ------------------------------------------------------------------------

    async def button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        request = fmt.decode_callback(query.data)
        message = query.message
        chat = message.chat if message is not None else None
        w = await self.languages.words_for(chat, query.from_user)
        if request is None or message is None or chat is None:
            await query.answer(w._("This button no longer works. Send the command again."))
            return
        if request.action == fmt.SHOW_CODES:
            game = self.catalog.games.get(request.game)
            if game is None:
                await query.answer(w._("I no longer know that game."))
                return
            await query.answer()
            await _edit(query.edit_message_text, await self._codes_message(game, w))
            return
        if request.target:
            allowed = await self.admins.is_admin(int(request.target), query.from_user.id)
            where = await self._name_of(request.target, w)
        else:
            allowed = await may_change(self.admins, chat, query.from_user)
            where = describe(chat)
        if not allowed:
            await query.answer(refusal(w), show_alert=True)
            return
        chat_id = request.target or str(chat.id)
        if request.action == fmt.LANGUAGE:
            await self._language_tapped(query, chat, request.game)
            return
        await self.languages.follow(chat_id, w.tag)
        current = set(await self._subscribed(chat_id))
        known = [g.id for g in self.games]
        if request.action == fmt.ALL_ON:
            await self._set(chat_id, on=[g for g in known if g not in current], off=())
            current |= set(known)
            answer = w._("All games on")
        elif request.action == fmt.ALL_OFF:
            await self._set(chat_id, on=(), off=sorted(current))
            current = set()
            answer = w._("All games off")
        elif request.game in current:
            await self._set(chat_id, on=(), off=[request.game])
            current.discard(request.game)
            answer = w._("%(game)s: off", game=self._name(request.game, w))
        else:
            await self._set(chat_id, on=[request.game], off=())
            current.add(request.game)
            answer = w._("%(game)s: on", game=self._name(request.game, w))
        await query.answer(answer)
        text = fmt.subscription_prompt(self.games, current, where, w)
        keyboard = fmt.subscription_keyboard(self.games, current, request.target, w)
        await _edit(query.edit_message_text, fmt.Message(text, keyboard))

    async def _language_tapped(self, query: Any, chat: Chat, tag: str) -> None:
        """A tap on the /language keyboard: the chat speaks that language from now on ("":
        the app's language again, in a private chat)."""
        language = BY_TAG.get(tag)
        if tag and language is None:
            await query.answer()
            return
        fallback = negotiate(query.from_user.language_code).tag
        await self.languages.choose(str(chat.id), tag or None, fallback=fallback)
        w = words(tag or fallback)
        text = fmt.language_set_text(language.name if language else None, w)
        await query.answer(text if len(text) <= 200 else None)
        await _edit(query.edit_message_text, fmt.Message(text))

    # --- chats changing -------------------------------------------------------------------

    async def migrated(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        if message.migrate_to_chat_id is not None:
            old, new = message.chat.id, message.migrate_to_chat_id
        elif message.migrate_from_chat_id is not None:
            old, new = message.migrate_from_chat_id, message.chat.id
        else:
            return
        # The old group and the new supergroup both announce the move, and updates are
        # handled concurrently: one migration at a time.
        async with self._migrating, self.sessions.begin() as session:
            moved = await repository.migrate_chat(
                session, Platform.TELEGRAM, str(old), str(new), now=self.clock()
            )
        self.admins.forget(old)
        self.languages.moved(str(old), str(new))
        if moved:
            log.info("telegram chat %s became %s: %d subscriptions moved", old, new, moved)

    async def membership(self, update: Update, context: Context) -> None:
        change = update.my_chat_member
        if change is None:
            return
        chat, status = change.chat, change.new_chat_member.status
        self.admins.forget(chat.id)
        if status in _GONE_STATUSES:
            self.languages.forget(str(chat.id))
            reason = "bot blocked" if chat.type == ChatType.PRIVATE else f"bot removed ({status})"
            async with self.sessions.begin() as session:
                ended = await repository.deactivate_chat(
                    session, Platform.TELEGRAM, str(chat.id), reason=reason, now=self.clock()
                )
                await repository.end_chat_boards(
                    session, Platform.TELEGRAM, str(chat.id), reason=reason, now=self.clock()
                )
            log.info("telegram chat %s: %s, %d subscriptions ended", chat.id, reason, ended)
            return
        old = change.old_chat_member.status
        if (
            chat.type == ChatType.CHANNEL
            and status in _ADMIN_STATUSES
            and old not in _ADMIN_STATUSES
        ):
            await self._welcome_channel(context, chat, change.from_user)
        elif chat.type in (ChatType.GROUP, ChatType.SUPERGROUP) and old in _GONE_STATUSES:
            w = await self.languages.words_for(chat, change.from_user)
            with contextlib.suppress(TelegramError):
                await context.bot.send_message(
                    chat.id,
                    w._(
                        "👋 Thanks for adding me. An administrator can pick games with "
                        "/subscribe; /codes shows the active codes now; /language sets the "
                        "language I speak here."
                    ),
                    parse_mode=ParseMode.HTML,
                )

    async def _welcome_channel(self, context: Context, channel: Chat, adder: User) -> None:
        w = words(adder.language_code)
        handle = f"@{channel.username}" if channel.username else w._("your channel")
        text = w._(
            "I can post in <b>%(channel)s</b> now. To pick its games, post /subscribe in the "
            "channel, or send me <code>/subscribe %(handle)s</code> here.",
            channel=fmt.escape(channel.title or handle),
            handle=fmt.escape(handle),
        )
        # The user may never have opened a chat with the bot: then there is no one to tell.
        with contextlib.suppress(Forbidden, BadRequest):
            await context.bot.send_message(adder.id, text, parse_mode=ParseMode.HTML)

    # --- errors ---------------------------------------------------------------------------

    async def error(self, update: object, context: Context) -> None:
        log.error(
            "telegram update %s failed",
            update.update_id if isinstance(update, Update) else "-",
            exc_info=context.error,
        )
        if not isinstance(update, Update):
            return
        # Only the user's app decides here: the database may be what failed.
        user = update.effective_user
        text = sorry(words(user.language_code if user else None))
        with contextlib.suppress(TelegramError):
            if update.callback_query is not None:
                await update.callback_query.answer(text)
            elif update.effective_message is not None:
                await update.effective_message.reply_text(text)

    # --- the parts ------------------------------------------------------------------------

    async def may_change_here(self, update: Update) -> bool:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return False
        return await may_change(self.admins, chat, update.effective_user, message.sender_chat)

    async def target(self, update: Update, username: str | None, w: Words) -> ChatRef | None:
        """The chat a command acts on: its own, or a channel named by @username."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None:
            return None
        if username is None:
            return ChatRef(str(chat.id), describe(chat))
        bot = update.get_bot()
        try:
            remote = await bot.get_chat(username)
        except (BadRequest, Forbidden):
            await reply_text(
                update,
                w._(
                    "I can't find %(chat)s. Add me to it as an administrator first, then try "
                    "again.",
                    chat=fmt.escape(username),
                ),
            )
            return None
        if user is None or not await self.admins.is_admin(remote.id, user.id):
            await reply_text(
                update,
                w._(
                    "Only administrators of %(chat)s can change what it gets.",
                    chat=fmt.escape(username),
                ),
            )
            return None
        if not await _can_post(update, remote):
            await reply_text(
                update,
                w._(
                    "I can't post in %(chat)s yet: make me an administrator who can post "
                    "messages there first.",
                    chat=fmt.escape(username),
                ),
            )
            return None
        return ChatRef(str(remote.id), username, remote=True)

    async def _subscribed(self, chat_id: str) -> list[str]:
        async with self.sessions() as session:
            found = await repository.chat_subscriptions(session, Platform.TELEGRAM, chat_id)
        return [s.game for s in found]

    async def _set(self, chat_id: str, *, on: Iterable[str], off: Iterable[str]) -> None:
        on = list(on)
        # Asked before the transaction: a call to Telegram holds no database lock.
        audience = await self._audience(chat_id) if on else None
        async with self.sessions.begin() as session:
            now: datetime = self.clock()
            for game in on:
                await repository.subscribe(
                    session, Platform.TELEGRAM, chat_id, game, now=now, audience=audience
                )
            for game in off:
                await repository.unsubscribe(session, Platform.TELEGRAM, chat_id, game, now=now)

    async def _audience(self, chat_id: str) -> int | None:
        """How many people a message to the chat reaches (who hears first goes by it): one
        in a private chat, else the member count Telegram gives; None when it gives none."""
        if not is_group(chat_id):
            return 1
        try:
            return await self.admins.bot.get_chat_member_count(int(chat_id))
        except TelegramError as exc:
            log.info("telegram chat %s: no member count (%s)", chat_id, exc)
            return None

    async def _codes_message(self, game: Game, w: Words) -> fmt.Message:
        async with self.sessions() as session:
            codes = await repository.current_codes(session, game.id)
        return fmt.codes_message(game, codes, self.clock(), w)

    async def _name_of(self, chat_id: str, w: Words) -> str:
        try:
            chat = await self.admins.bot.get_chat(int(chat_id))
        except TelegramError:
            return w._("That chat")
        return f"@{chat.username}" if chat.username else (chat.title or w._("That chat"))

    def games_named(self, ids: Iterable[str]) -> list[Game]:
        return [self.catalog.games.get(i) or Game(id=i, name=i, pattern=".+") for i in ids]

    def _name(self, game_id: str, w: Words) -> str:
        game = self.catalog.games.get(game_id)
        return game_name(w, game.name) if game else game_id


async def _can_post(update: Update, chat: Chat | ChatFullInfo) -> bool:
    bot = update.get_bot()
    try:
        member = await bot.get_chat_member(chat.id, bot.id)
    except TelegramError:
        return False
    if chat.type == ChatType.CHANNEL:
        return member.status == ChatMemberStatus.OWNER or bool(
            getattr(member, "can_post_messages", False)
        )
    return member.status not in _GONE_STATUSES


async def _reply(update: Update, message: fmt.Message) -> Message | None:
    target = update.effective_message
    if target is None:
        return None
    return await target.reply_text(
        message.text,
        parse_mode=ParseMode.HTML,
        reply_markup=to_markup(message.keyboard),
        link_preview_options=NO_PREVIEW,
    )


async def reply_text(update: Update, text: str) -> Message | None:
    return await _reply(update, fmt.Message(text))


async def _edit(edit: Any, message: fmt.Message) -> None:
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
