"""The Telegram bot's lifecycle on the shared event loop: log in, listen, send, stop."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy.exc import SQLAlchemyError
from telegram import BotCommand, Update
from telegram.error import InvalidToken

from bot.core.domain import Platform
from bot.core.language import LANGUAGES, words
from notifiers.boards import BoardKeeper
from notifiers.expiry import ExpiryWatcher, stop_task
from notifiers.moderation import ModerationWatcher, finish
from notifiers.telegram.format import commands as command_menu
from notifiers.telegram.handlers import TelegramApp, TelegramCommands
from notifiers.telegram.sender import TelegramSender

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger(__name__)

# The update kinds the bot handles; Telegram sends only these, which saves it and us work.
ALLOWED_UPDATES = ("message", "channel_post", "callback_query", "my_chat_member")
# Seconds one getUpdates call waits for news before answering empty (a long poll).
POLL_TIMEOUT = timedelta(seconds=10)
# Telegram's header carrying the webhook secret (Bot API setWebhook, secret_token).
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
# Telegram sends updates to a webhook over at most this many connections at once.
WEBHOOK_CONNECTIONS = 40
# What setWebhook accepts as secret_token: 1-256 of these characters.
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Bytes of randomness in a secret made up when none is configured (43 characters).
GENERATED_SECRET_BYTES = 32


class WebhookSecretError(ValueError):
    """The configured webhook secret is one Telegram would refuse."""


def webhook_secret(configured: str | None) -> str:
    """The secret Telegram must send with every update: the configured one, checked, or a new
    random one (Telegram is told it at every start, so it need not outlive the process)."""
    if configured is None or configured == "":
        log.info("telegram: no webhook secret configured; using a random one for this run")
        return secrets.token_urlsafe(GENERATED_SECRET_BYTES)
    if not _SECRET_SHAPE.fullmatch(configured):
        raise WebhookSecretError(
            "CODECAST_TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, "
            "_ and - (Telegram's rule for secret_token)"
        )
    return configured


@dataclass(frozen=True)
class Webhook:
    """Receive updates on `listen:port` at the path of `url`, which Telegram is told to call.

    Anybody who finds the URL can post to it, so an update is taken only with `secret` in
    Telegram's header; a webhook without one does not start.
    """

    url: str
    secret: str
    listen: str = "127.0.0.1"
    port: int = 8443

    def __post_init__(self) -> None:
        if not _SECRET_SHAPE.fullmatch(self.secret or ""):
            raise WebhookSecretError(
                "a Telegram webhook needs a secret of 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"


class TelegramService:
    """The `ChatService` for Telegram: a python-telegram-bot Application and its sender."""

    platform = Platform.TELEGRAM
    can_edit = True

    def __init__(
        self,
        application: TelegramApp,
        sender: TelegramSender,
        commands: TelegramCommands,
        *,
        expiry: ExpiryWatcher | None = None,
        boards: BoardKeeper | None = None,
        webhook: Webhook | None = None,
        poll_timeout: timedelta = POLL_TIMEOUT,
        moderation: ModerationWatcher | None = None,
    ) -> None:
        self.application = application
        self.sender = sender
        self.commands = commands
        self.expiry = expiry
        # Keeps the /board messages up to date; runs with the commands, like the expiry edits.
        self.boards = boards
        self._boards_task: asyncio.Task[None] | None = None
        self.webhook = webhook
        self.poll_timeout = poll_timeout
        self._initialized = False
        self._webhook_runner: web.AppRunner | None = None
        self._expiry_task: asyncio.Task[None] | None = None
        # Posts players' reports for moderators; with the commands, like the expiry edits.
        self.moderation = moderation
        self._moderation_task: asyncio.Task[None] | None = None

    async def start(self, *, commands: bool = True) -> None:
        app = self.application
        # getMe: fails fast on a wrong token or an unreachable API.
        try:
            await app.initialize()
        except InvalidToken:
            await app.bot.shutdown()
            # PTB's message repeats the token, and the caller logs it.
            raise InvalidToken("Telegram rejected the bot token (TELEGRAM_TOKEN)") from None
        except BaseException:
            # A failed log-in leaves the HTTP sessions open: PTB's Application.shutdown
            # only undoes a complete initialize.
            await app.bot.shutdown()
            raise
        self._initialized = True
        self.sender.ready = True
        me = app.bot.bot
        log.info("telegram: logged in as @%s", me.username)
        if not commands:
            return
        await self._set_commands()
        await app.start()
        if self.webhook is not None:
            await self._start_webhook(self.webhook)
            log.info("telegram: receiving updates at %s", self.webhook.url)
        elif app.updater is not None:
            await app.updater.start_polling(
                timeout=self.poll_timeout, allowed_updates=list(ALLOWED_UPDATES)
            )
            log.info("telegram: polling for updates")
        if self.expiry is not None:
            # With the commands: there is one such process per bot, so each edit is made once.
            self._expiry_task = asyncio.create_task(self.expiry.run(), name="telegram-expiry")
        if self.moderation is not None:
            self._moderation_task = asyncio.create_task(
                self.moderation.run(), name="telegram-moderation"
            )
        if self.boards is not None:
            self._boards_task = asyncio.create_task(self.boards.run(), name="telegram-boards")

    async def _set_commands(self) -> None:
        """The command menu in English for everyone, and in each language codecast speaks
        for users whose app is in it (Telegram picks by the user's language)."""
        bot = self.application.bot
        for language in LANGUAGES:
            menu = [BotCommand(name, text) for name, text in command_menu(words(language.tag))]
            await bot.set_my_commands(menu, language_code=language.telegram or None)

    async def stop(self) -> None:
        app = self.application
        self.sender.ready = False
        await stop_task(self._expiry_task)
        await stop_task(self._boards_task)
        self._expiry_task = self._boards_task = None
        if self.moderation is not None:
            await finish(self.moderation, self._moderation_task)
        self._moderation_task = None
        if self._webhook_runner is not None:
            await self._webhook_runner.cleanup()
            self._webhook_runner = None
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        if self._initialized:
            await app.shutdown()
            self._initialized = False
        if self.sender.paid is not None:
            try:
                await self.sender.paid.settle(final=True)
            except (SQLAlchemyError, OSError) as exc:
                # The reservation stays counted: the budget is never overspent, only unused.
                log.warning(
                    "telegram: paid sends not settled at the stop (%s)", type(exc).__name__
                )

    # --- webhook ----------------------------------------------------------------------------

    async def _start_webhook(self, webhook: Webhook) -> None:
        """Serve the webhook with aiohttp and tell Telegram where it is.

        PTB's own webhook server needs tornado; aiohttp is here already, and a handler that
        checks the secret and queues the update is all a webhook is (PTB's custom-webhook
        pattern: put `Update`s on `application.update_queue`). aiohttp's server is imported
        here, by a bot that serves a webhook: one that polls never needs it.
        """
        from aiohttp import web

        server = web.Application(client_max_size=1024 * 1024)
        server.router.add_post(webhook.path, self._receive)
        runner = web.AppRunner(server, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, webhook.listen, webhook.port).start()
        self._webhook_runner = runner
        await self.application.bot.set_webhook(
            url=webhook.url,
            secret_token=webhook.secret,
            allowed_updates=list(ALLOWED_UPDATES),
            max_connections=WEBHOOK_CONNECTIONS,
        )

    async def _receive(self, request: web.Request) -> web.Response:
        from aiohttp import web

        if self.webhook is None:
            return web.Response(status=404)
        given = request.headers.get(SECRET_HEADER, "")
        # A missing header and a wrong one are the same forgery.
        if not hmac.compare_digest(given.encode(), self.webhook.secret.encode()):
            return web.Response(status=403)
        try:
            data: Any = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.Response(status=400)
        if not isinstance(data, dict):
            return web.Response(status=400)
        update = Update.de_json(data, self.application.bot)
        await self.application.update_queue.put(update)
        return web.Response()
