"""Sends one announcement to one Telegram chat within Telegram's limits; says what happened.

Limits (`notifiers.telegram.limits`) are kept before each send by the bot's rate limiter
(`notifiers.telegram.ratelimit`), so that a 429 is an exception rather than the signal to
slow down; sends go as broadcasts, after any reply a person waits for. Every error the Bot
API can answer is turned into an `Outcome` by `classify`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import ExtBot

from bot.core.catalog import Catalog, CatalogError
from bot.core.domain import Announcement, Game, Platform
from bot.core.language import words
from bot.store import repository
from bot.store.outbox import Delivery
from notifiers.delivery import Failed, Gone, Outcome, RateLimited, Retry, Sent
from notifiers.telegram.format import Keyboard, Message, announcement_messages
from notifiers.telegram.limits import PaidBroadcast, Priority, SendLimits, retry_after_seconds
from notifiers.telegram.paid import PaidBudget

log = logging.getLogger(__name__)

# Parts after the first of a split announcement are retried in place this often, and wait at
# most this long for a rate limit, since the outbox can only redo a delivery whole.
PART_ATTEMPTS = 3
MAX_PART_WAIT = 30.0
# Rendered announcements kept: every subscriber of one gets the same text.
RENDERED_CACHE_SIZE = 32
# Before the bot has logged in (Telegram unreachable at start-up), deliveries come back this
# many seconds later, without counting an attempt against them.
NOT_READY_RETRY = 10.0

# Bot API 400 answers that mean the bot can no longer write to the chat at all.
_GONE_MARKERS = (
    "chat not found",
    "user not found",
    "user is deactivated",
    "bot was kicked",
    "bot was blocked",
    "bot is not a member",
    "group chat was deactivated",
    "have no rights to send",
    "not enough rights to send",
    "need administrator rights",
    "chat_write_forbidden",
    "peer_id_invalid",
)


# --- classification ---------------------------------------------------------------------


@dataclass(frozen=True)
class Migrated:
    """The group became a supergroup with a new id (Bot API 400 with migrate_to_chat_id)."""

    new_chat_id: str


def classify(error: Exception) -> Outcome | Migrated:
    """What a Bot API error means for a delivery. The one place that decides it."""
    match error:
        case ChatMigrated():
            return Migrated(str(error.new_chat_id))
        case RetryAfter():
            return RateLimited(retry_after_seconds(error))
        case Forbidden():
            return Gone(error.message)
        # BadRequest and TimedOut are NetworkError subclasses: the order of these cases matters.
        case BadRequest() if any(m in error.message.lower() for m in _GONE_MARKERS):
            return Gone(error.message)
        case BadRequest():
            return Failed(error.message)
        case NetworkError():
            return Retry(error.message)
        case TelegramError():
            # InvalidToken, Conflict, an answer that is not JSON: not this message's fault,
            # so retried with backoff until the cap, which leaves the row visibly failed.
            return Retry(f"{type(error).__name__}: {error.message}")
        case _:
            return Retry(f"{type(error).__name__}: {error}")


# --- the sender -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    """One message of an announcement as sendMessage parameters, serialised once.

    Every subscriber gets the same text and keyboard: encoding them to JSON once per
    announcement instead of once per chat is a good part of the sender's speed.
    """

    parameters: dict[str, str]

    @classmethod
    def of(cls, message: Message) -> _Part:
        parameters = {
            "text": message.text,
            "parse_mode": ParseMode.HTML.value,
            "link_preview_options": NO_PREVIEW.to_json(),
        }
        markup = to_markup(message.keyboard)
        if markup is not None:
            parameters["reply_markup"] = markup.to_json()
        return cls(parameters)


def to_markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.text, url=b.url, callback_data=b.callback_data) for b in row]
            for row in keyboard
        ]
    )


NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# sendMessage through `Bot.do_api_request`, which returns the raw answer: building a full
# `telegram.Message` from it costs as much CPU as the rest of the send. Bot API method names
# are case-insensitive; the lower-case spelling is not a `Bot` attribute, so PTB does not
# suggest `send_message` instead.
SEND_MESSAGE = "sendmessage"


class TelegramSender:
    """The `Sender` the delivery worker drives for Telegram."""

    platform = Platform.TELEGRAM

    def __init__(
        self,
        bot: ExtBot[Any],
        catalog: Catalog,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime],
        limits: SendLimits,
        paid: PaidBudget | None = None,
    ) -> None:
        # `limits` are the ones the bot's rate limiter keeps; the sender reads what a 429 did.
        self.bot = bot
        # Paid broadcasts' budget: None when they are off.
        self.paid = paid
        self.catalog = catalog
        self.sessions = sessions
        self.clock = clock
        self.limits = limits
        # Set by the service once the bot has logged in, cleared when it stops.
        self.ready = False
        # By (announcement, language): each chat gets it in its own language.
        self._rendered: OrderedDict[tuple[int, str], tuple[_Part, ...]] = OrderedDict()

    async def send(self, delivery: Delivery, announcement: Announcement) -> Outcome:
        if not self.ready:
            return RateLimited(NOT_READY_RETRY, scope="global")
        parts = self._parts(announcement, delivery.language)
        chat_id = delivery.chat_id
        message_ids: list[str] = []
        for number, part in enumerate(parts, start=1):
            result = await self._send_part(delivery, chat_id, part)
            if isinstance(result, Migrated):
                moved = await self._migrate(delivery, chat_id, result.new_chat_id)
                if moved is not None:
                    return moved
                chat_id = result.new_chat_id
                result = await self._send_part(delivery, chat_id, part)
            if isinstance(result, Migrated):
                return Retry(f"chat {chat_id} migrated twice")
            if isinstance(result, str):
                message_ids.append(result)
                continue
            if not message_ids or isinstance(result, Gone):
                return result
            # Earlier parts are in the chat already: redoing the whole delivery later would
            # repeat them, so this part gets its retries here.
            result = await self._retry_part(delivery, chat_id, part, result)
            if isinstance(result, str):
                message_ids.append(result)
                continue
            log.warning(
                "telegram delivery %d to %s: part %d of %d not delivered: %s",
                delivery.id,
                chat_id,
                number,
                len(parts),
                result,
            )
            break
        return Sent(",".join(message_ids))

    async def _send_part(
        self, delivery: Delivery, chat_id: str, part: _Part
    ) -> str | Outcome | Migrated:
        ticket = await self.paid.take(delivery.announcement_id) if self.paid else None
        call = PaidBroadcast() if ticket is not None else Priority.BROADCAST
        try:
            answer = await self.bot.do_api_request(
                SEND_MESSAGE,
                {"chat_id": chat_id, **part.parameters},
                rate_limit_args=call,
            )
        except TelegramError as error:
            if ticket is not None and self.paid is not None:
                # Refused messages cost nothing; one whose answer never came may have gone.
                unknown = isinstance(error, NetworkError) and not isinstance(error, BadRequest)
                if isinstance(call, PaidBroadcast) and call.paid and unknown:
                    self.paid.spent(ticket)
                else:
                    self.paid.give_back(ticket)
            result = classify(error)
            if isinstance(result, RateLimited):
                # The rate limiter recorded the 429: a bot-wide one closed the gate.
                scope = "global" if self.limits.pause.paused else "chat"
                result = RateLimited(result.retry_after, scope=scope)
                log.info(
                    "telegram delivery %d to %s: 429, retry after %gs (%s)",
                    delivery.id,
                    chat_id,
                    result.retry_after,
                    scope,
                )
            return result
        if ticket is not None and self.paid is not None:
            if isinstance(call, PaidBroadcast) and call.paid:
                self.paid.spent(ticket)
            else:
                self.paid.give_back(ticket)
        return str(answer["message_id"])

    async def _retry_part(
        self, delivery: Delivery, chat_id: str, part: _Part, result: Outcome | Migrated
    ) -> str | Outcome | Migrated:
        for attempt in range(1, PART_ATTEMPTS):
            match result:
                case RateLimited(retry_after) if retry_after <= MAX_PART_WAIT:
                    await asyncio.sleep(retry_after)
                case Retry():
                    await asyncio.sleep(float(attempt))
                case _:
                    return result
            again = await self._send_part(delivery, chat_id, part)
            if isinstance(again, str):
                return again
            result = again
        return result

    async def _migrate(self, delivery: Delivery, old: str, new: str) -> Outcome | None:
        """Move the chat's subscriptions to its new id; an Outcome when not to send there."""
        async with self.sessions.begin() as session:
            old_games = {
                s.game
                for s in await repository.chat_subscriptions(session, Platform.TELEGRAM, old)
            }
            new_games = {
                s.game
                for s in await repository.chat_subscriptions(session, Platform.TELEGRAM, new)
            }
            moved = await repository.migrate_chat(
                session, Platform.TELEGRAM, old, new, now=self.clock()
            )
        log.info("telegram chat %s migrated to %s: %d subscriptions moved", old, new, moved)
        if delivery.game in old_games and delivery.game in new_games:
            # The supergroup had its own subscription, hence its own delivery of this.
            return Gone(f"migrated to {new}, which gets this announcement itself")
        return None

    def _parts(self, announcement: Announcement, language: str | None) -> tuple[_Part, ...]:
        spoken = words(language)
        key = (announcement.id, spoken.tag)
        parts = self._rendered.get(key)
        if parts is None:
            messages = announcement_messages(
                self._game(announcement.game),
                announcement.codes,
                self.clock(),
                spoken,
                announcement.kind,
            )
            parts = tuple(_Part.of(m) for m in messages)
            self._rendered[key] = parts
            while len(self._rendered) > RENDERED_CACHE_SIZE:
                self._rendered.popitem(last=False)
        return parts

    def _game(self, game_id: str) -> Game:
        try:
            return self.catalog.game(game_id)
        except CatalogError:
            # A game removed from the catalog after its announcement: still say something.
            return Game(id=game_id, name=game_id, pattern=".+")
