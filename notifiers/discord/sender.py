"""Sends announcements to Discord channels within Discord's limits and says what happened.

Works over REST alone (no gateway needed): a message create through discord.py's HTTP client,
so its own bucket and 429 handling stay in force underneath the limits enforced here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
from discord.http import Route

from bot.core.catalog import Catalog
from bot.core.domain import Announcement, Game, Platform
from bot.core.language import Words
from bot.store.outbox import Delivery
from bot.store.repository import SentMessage
from notifiers.boards import BoardEdit
from notifiers.delivery import Failed, Gone, Outcome, RateLimited, Retry, Sent
from notifiers.discord.format import announcement_message, role_to_ping
from notifiers.discord.languages import server_locale, subscription_words
from notifiers.limits import AnsweredWindow, KeyedLimiter, Pacer, PauseGate, Rate

log = logging.getLogger(__name__)

# Discord's published limits: 50 requests per second per bot, 5 messages per 5 s per channel.
GLOBAL_REQUESTS_PER_SECOND = 50
CHANNEL_MESSAGES = 5
CHANNEL_WINDOW_SECONDS = 5.0
# Sends are paced a little under the limits: requests reach Discord with some jitter, and a
# request that arrives early must not be the one over the line.
GLOBAL_HEADROOM = 0.96
CHANNEL_HEADROOM = 1.05
PACER_CATCH_UP = 0.1
GLOBAL_WINDOW_SECONDS = 1.0
# A channel whose own limit would hold a send longer than this is retried later instead,
# so that one busy channel does not hold a worker slot that other channels could use.
MAX_CHANNEL_WAIT_SECONDS = 10.0
# A 429 without Discord's `Via` header comes from Cloudflare: a ban of the whole bot (IP)
# that lasts far longer than any bucket. Everything pauses.
CLOUDFLARE_BAN_SECONDS = 600.0
DEFAULT_RETRY_AFTER_SECONDS = 5.0
NOT_READY_RETRY_SECONDS = 10.0

# Discord's JSON error codes that mean the bot can no longer post in the channel.
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
UNKNOWN_CHANNEL = 10003
UNKNOWN_GUILD = 10004
UNKNOWN_MESSAGE = 10008
GONE_CODES = {
    MISSING_ACCESS: "missing access",
    MISSING_PERMISSIONS: "missing permissions",
    UNKNOWN_CHANNEL: "unknown channel",
    UNKNOWN_GUILD: "unknown guild",
}

# A message create carries a nonce of at most 25 characters; Discord refuses a second
# message with the same nonce from the same bot for a few minutes and returns the first.
NONCE_PREFIX = "codecast-"
MAX_NONCE_CHARS = 25

# Channel type of announcement (news) channels, whose messages other servers can follow.
CHANNEL_TYPE_ANNOUNCEMENT = discord.ChannelType.news.value
MAX_REMEMBERED_CHANNELS = 10_000
# Message bodies kept, by (announcement, role, language): every channel of a fan-out with
# the same role and language gets the same embeds and buttons, rendered once.
RENDERED_CACHE_SIZE = 64


@dataclass(frozen=True)
class DiscordLimits:
    """The rates the sender keeps to; Discord's by default, smaller or larger in tests."""

    global_per_second: float = GLOBAL_REQUESTS_PER_SECOND
    channel_messages: int = CHANNEL_MESSAGES
    channel_window: float = CHANNEL_WINDOW_SECONDS


def delivery_nonce(delivery: Delivery) -> str:
    """The same delivery always gets the same nonce: a resend after a crash is a no-op."""
    nonce = f"{NONCE_PREFIX}{delivery.id}"
    return nonce if len(nonce) <= MAX_NONCE_CHARS else str(delivery.id)[-MAX_NONCE_CHARS:]


def classify(exc: BaseException) -> Outcome:
    """What a failed Discord request means for the delivery: the one place that decides."""
    match exc:
        case discord.RateLimited():
            return RateLimited(exc.retry_after)
        case discord.HTTPException() if exc.status == 429:
            # discord.py retried and gave up, or a 429 without `Via` (a Cloudflare ban).
            via = exc.response.headers.get("Via") if exc.response is not None else None
            if via is None:
                return RateLimited(CLOUDFLARE_BAN_SECONDS, scope="global")
            return RateLimited(_retry_after(exc), scope="chat")
        case discord.HTTPException() if exc.code in GONE_CODES and exc.status in (403, 404):
            return Gone(GONE_CODES[exc.code])
        case discord.DiscordServerError():
            return Retry(f"Discord {exc.status}")
        case discord.HTTPException() if exc.status == 401:
            # The token is wrong or revoked: nothing is wrong with this message or channel.
            return Retry("401 Unauthorized: check DISCORD_TOKEN")
        case discord.NotFound() if exc.code == 0:
            # Not Discord's JSON: a proxy (CODECAST_DISCORD_API_URL) without this route.
            return Retry(f"404 without a Discord error code: {exc.text[:100]}")
        case discord.HTTPException():
            return Failed(f"{exc.status} (code {exc.code}): {exc.text[:200]}")
        case aiohttp.ClientError() | OSError() | TimeoutError():
            return Retry(f"network: {type(exc).__name__}: {exc}"[:200])
    raise exc


def board_edit_outcome(exc: BaseException) -> BoardEdit:
    """A deleted message, channel or server ends a board; anything else is tried again."""
    if isinstance(exc, discord.HTTPException) and (
        exc.code == UNKNOWN_MESSAGE or (exc.code in GONE_CODES and exc.status in (403, 404))
    ):
        return BoardEdit.GONE
    return BoardEdit.FAILED


def _retry_after(exc: discord.HTTPException) -> float:
    header = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return max(0.0, float(header)) if header is not None else DEFAULT_RETRY_AFTER_SECONDS
    except ValueError:
        return DEFAULT_RETRY_AFTER_SECONDS


class DiscordSender:
    """The `Sender` of the shared delivery worker for Discord channels."""

    platform = Platform.DISCORD

    def __init__(
        self,
        client: discord.Client,
        catalog: Catalog,
        *,
        limits: DiscordLimits = DiscordLimits(),
        crosspost: bool = False,
    ) -> None:
        self.client = client
        # Set by the service once the client has logged in, cleared when it stops.
        self.ready = False
        self.catalog = catalog
        self.limits = limits
        self.crosspost = crosspost
        # Evenly spaced sends rather than a leaky bucket with bursts: a bucket that refills
        # while it drains admits up to twice its rate within one window, which Discord
        # counts as over. A tenth of an interval of catching up makes up for late timers
        # without bunching requests that arrive with network jitter.
        interval = 1 / (limits.global_per_second * GLOBAL_HEADROOM)
        self._global = Pacer(interval, early=interval * PACER_CATCH_UP)
        # And whatever the delays, never more in one second than Discord may count. (The
        # pacer's 4% below the limit leave room for answers up to ~40 ms late before this
        # window holds anything back.)
        window_limit = max(1, int(limits.global_per_second))
        self._window = AnsweredWindow(window_limit, GLOBAL_WINDOW_SECONDS)
        spacing = limits.channel_window / limits.channel_messages * CHANNEL_HEADROOM
        self._channels = KeyedLimiter(Rate(1, spacing))
        self._pause = PauseGate()
        self.source_names: Mapping[str, str] = {s.id: s.label for s in catalog.sources}
        self._channel_types: OrderedDict[int, int] = OrderedDict()
        self._held_until: OrderedDict[int, float] = OrderedDict()
        self._bodies: OrderedDict[tuple[int, str | None, str], dict[str, Any]] = OrderedDict()

    async def send(self, delivery: Delivery, announcement: Announcement) -> Outcome:
        if not self.ready:
            # Not logged in (yet, or again): a wait, not a failed attempt.
            return RateLimited(NOT_READY_RETRY_SECONDS, scope="global")
        game = self.catalog.games.get(announcement.game)
        if game is None:
            return Failed(f"game {announcement.game!r} is not in the catalog")
        channel_id = int(delivery.chat_id)
        # The nonce is the delivery's own; the rest is shared (never changed once made).
        payload = {
            **self._body(announcement, game, delivery),
            "nonce": delivery_nonce(delivery),
            "enforce_nonce": True,
        }
        limiter = self._channels.limiter(str(channel_id))
        if limiter.has_capacity():
            # The common case (a channel's first message in a while) without wait_for's task.
            await limiter.acquire()
        else:
            try:
                # asyncio.timeout, not wait_for, which on Python 3.11 loses a cancellation
                # that comes as the turn does (bot/core/waiting.py).
                async with asyncio.timeout(MAX_CHANNEL_WAIT_SECONDS):
                    await limiter.acquire()
            except TimeoutError:
                return RateLimited(self.limits.channel_window)
        # Checked after the channel's turn came: the send before it may just have met a 429.
        held = self._held_until.get(channel_id, 0.0) - time.monotonic()
        if held > 0:
            # Asking again before Discord's retry_after is over is an invalid request
            # (10,000 of those in 10 minutes ban the bot).
            return RateLimited(held)
        try:
            data = await self._request(
                Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id),
                json=payload,
            )
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            outcome = classify(exc)
            if isinstance(outcome, RateLimited):
                if outcome.scope == "global":
                    self._pause.pause(outcome.retry_after)
                else:
                    self._hold(channel_id, outcome.retry_after)
            return outcome
        message_id = str(data["id"])
        if self.crosspost:
            await self._publish(channel_id, message_id)
        return Sent(message_id)

    def _body(self, announcement: Announcement, game: Game, delivery: Delivery) -> dict[str, Any]:
        """The message create's body without its nonce, rendered once per announcement,
        role and language."""
        role = role_to_ping(delivery.options)
        spoken = subscription_words(
            delivery.options, server_locale(self.client, delivery.space_id), delivery.language
        )
        key = (announcement.id, role, spoken.tag)
        body = self._bodies.get(key)
        if body is None:
            message = announcement_message(
                announcement,
                game,
                role_id=role,
                source_names=self.source_names,
                words=spoken,
            )
            body = self._bodies[key] = message.payload()
            while len(self._bodies) > RENDERED_CACHE_SIZE:
                self._bodies.popitem(last=False)
        else:
            self._bodies.move_to_end(key)
        return body

    async def edit(
        self,
        chat_id: str,
        message_id: str,
        announcement: Announcement,
        words: Words | None = None,
    ) -> bool:
        """Show a sent announcement's codes as they are now: expired ones struck through,
        their redeem buttons gone, in the words it was sent in. Best effort: False when
        Discord refused or failed."""
        game = self.catalog.games.get(announcement.game)
        if game is None or not self.ready:
            return False
        message = announcement_message(
            announcement, game, source_names=self.source_names, words=words
        )
        try:
            await self._edit_message(chat_id, message_id, message.edit_payload())
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            # A deleted message or channel is nothing to fix; the next send finds a gone one.
            log.info("discord: message %s in %s not edited: %s", message_id, chat_id, exc)
            return False
        return True

    async def edit_board(
        self, chat_id: str, message_id: str, payload: dict[str, Any]
    ) -> BoardEdit:
        """Edit a board's message within the channel's limits (notifiers/discord/boards.py)."""
        try:
            await self._edit_message(chat_id, message_id, payload)
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            outcome = board_edit_outcome(exc)
            log.info(
                "discord: board %s in %s not edited (%s): %s", message_id, chat_id, outcome, exc
            )
            return outcome
        return BoardEdit.EDITED

    async def _edit_message(self, chat_id: str, message_id: str, payload: dict[str, Any]) -> None:
        """PATCH one of codecast's messages, within its channel's limits."""
        channel_id = int(chat_id)
        await self._channels.limiter(str(channel_id)).acquire()
        await self._request(
            Route(
                "PATCH",
                "/channels/{channel_id}/messages/{message_id}",
                channel_id=channel_id,
                message_id=message_id,
            ),
            json=payload,
        )

    async def post_message(self, chat_id: str, payload: dict[str, Any]) -> str | None:
        """Send a message of codecast's own (a moderation post) within the limits; its id,
        or None when Discord refused or failed (logged)."""
        if not self.ready:
            return None
        channel_id = int(chat_id)
        await self._channels.limiter(str(channel_id)).acquire()
        try:
            data = await self._request(
                Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id),
                json=payload,
            )
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("discord: message to %s not sent: %s", chat_id, exc)
            return None
        return str(data["id"])

    async def edit_message(self, chat_id: str, message_id: str, payload: dict[str, Any]) -> bool:
        """Edit a message of codecast's own within the limits; False when it failed."""
        if not self.ready:
            return False
        return await self.edit_board(chat_id, message_id, payload) is BoardEdit.EDITED

    async def edit_sent(self, sent: SentMessage, announcement: Announcement) -> int:
        """The `MessageEditor` of the expiry watcher: one message per delivery on Discord."""
        if not sent.message_id:
            return 0
        spoken = subscription_words(
            sent.options, server_locale(self.client, sent.space_id), sent.language
        )
        return int(await self.edit(sent.chat_id, sent.message_id, announcement, spoken))

    def _hold(self, channel_id: int, seconds: float) -> None:
        self._held_until[channel_id] = time.monotonic() + seconds
        self._held_until.move_to_end(channel_id)
        while len(self._held_until) > MAX_REMEMBERED_CHANNELS:
            self._held_until.popitem(last=False)

    async def _request(self, route: Route, **kwargs: Any) -> Any:
        await self._pause.wait()
        await self._global.acquire()
        async with self._window.slot():
            return await self.client.http.request(route, **kwargs)

    async def _publish(self, channel_id: int, message_id: str) -> None:
        """Crosspost in announcement channels; the message is sent whatever happens here."""
        try:
            if await self._channel_type(channel_id) != CHANNEL_TYPE_ANNOUNCEMENT:
                return
            await self._request(
                Route(
                    "POST",
                    "/channels/{channel_id}/messages/{message_id}/crosspost",
                    channel_id=channel_id,
                    message_id=message_id,
                )
            )
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning(
                "discord: message %s in channel %s sent but not published: %s",
                message_id,
                channel_id,
                exc,
            )

    async def _channel_type(self, channel_id: int) -> int:
        channel = self.client.get_channel(channel_id)
        if isinstance(channel, discord.abc.GuildChannel):
            return int(channel.type.value)
        known = self._channel_types.get(channel_id)
        if known is not None:
            return known
        # Without the gateway's cache (a one-shot run) the type is asked for once.
        data = await self._request(Route("GET", "/channels/{channel_id}", channel_id=channel_id))
        kind = int(data["type"])
        self._channel_types[channel_id] = kind
        while len(self._channel_types) > MAX_REMEMBERED_CHANNELS:
            self._channel_types.popitem(last=False)
        return kind
