"""Telegram wired from its settings: the Application, its handlers, sender and expiry editor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import Application, ApplicationBuilder, Job

from bot.core.catalog import Catalog
from notifiers.boards import BoardKeeper
from notifiers.expiry import EXPIRY_CHECK_SECONDS, ExpiryWatcher
from notifiers.limits import Rate
from notifiers.moderation import MODERATION_CHECK_SECONDS, ModerationWatcher
from notifiers.registry import PlatformParts, build_bot
from notifiers.reports import Announced, ReportDesk, ReportRules
from notifiers.telegram.admin import AdminCache
from notifiers.telegram.board_commands import BoardCommands
from notifiers.telegram.boards import TelegramBoards
from notifiers.telegram.expiry import TelegramEditor
from notifiers.telegram.handlers import TelegramApp, TelegramCommands
from notifiers.telegram.languages import ChatLanguages
from notifiers.telegram.limits import SendLimits, TelegramLimits
from notifiers.telegram.paid import PaidBudget, PaidPolicy, messages_for_stars
from notifiers.telegram.ratelimit import TelegramRateLimiter
from notifiers.telegram.reports import TelegramBoard, TelegramReports
from notifiers.telegram.sender import TelegramSender
from notifiers.telegram.service import TelegramService, Webhook, webhook_secret
from notifiers.telegram.settings import TelegramSettings
from notifiers.telegram.transport import AiohttpRequest
from notifiers.telegram.updates import ChatOrderedUpdates, FloodRule


class CodecastApplication(Application[Any, Any, Any, Any, Any, Any]):
    """PTB's Application, less a set that only grows.

    After each update the Application notes its chat and user ids, so that a persistence
    saves their data at its next run. codecast has no persistence (its state is in its own
    database), so no run ever comes to empty those sets: every chat and user that ever wrote
    to the bot would stay in them for the life of the process.
    """

    def _mark_for_persistence_update(
        self, *, update: object | None = None, job: Job[Any] | None = None
    ) -> None:
        if self.persistence is not None:
            super()._mark_for_persistence_update(update=update, job=job)


def file_url_for(api_url: str) -> str:
    """A local Bot API server serves files next to the API: …/bot → …/file/bot."""
    base = api_url.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("/bot")] + "/file/bot"
    return base + "/file/bot"


def limits_from(settings: TelegramSettings) -> TelegramLimits:
    """The sending limits in the settings; 0 turns one off."""

    def rate(count: float, seconds: float) -> Rate | None:
        return Rate(count, seconds) if count > 0 else None

    return TelegramLimits(
        overall=rate(settings.telegram_rate_overall, 1.0),
        per_chat=rate(settings.telegram_rate_per_chat, 1.0),
        per_group=rate(settings.telegram_rate_per_group, 60.0),
        paid=rate(settings.telegram_paid_rate, 1.0) if settings.telegram_paid_broadcast else None,
    )


def paid_policy(settings: TelegramSettings) -> PaidPolicy | None:
    """The paid broadcasts' budget in the settings; None when they are off."""
    if not settings.telegram_paid_broadcast:
        return None
    per_day = messages_for_stars(settings.telegram_paid_stars_per_day)
    return PaidPolicy(
        per_announcement=settings.telegram_paid_per_announcement or None,
        messages_per_day=per_day or None,
        min_chats=settings.telegram_paid_min_chats,
    )


def build_application(
    settings: TelegramSettings,
    send: AiohttpRequest,
    poll: AiohttpRequest | None,
    limits: SendLimits,
    flood: FloodRule | None = None,
) -> TelegramApp:
    """The Application on codecast's transport; without `poll`, updates come by webhook.

    Every call of its bot goes through `limits` (the rate limiter), and its updates run in
    parallel across chats, in order within each (the update processor).
    """
    if settings.telegram_token is None:
        raise ValueError("TELEGRAM_TOKEN is not set")
    # No `Defaults`: every call states its parse mode, and without them ExtBot skips a pass
    # over the arguments of each of the many sends.
    builder = (
        ApplicationBuilder()
        .application_class(CodecastApplication)
        .token(settings.telegram_token.get_secret_value())
        .request(send)
        .rate_limiter(TelegramRateLimiter(limits))
        .concurrent_updates(ChatOrderedUpdates(flood=flood))
        .job_queue(None)
    )
    if settings.telegram_api_url:
        builder = builder.base_url(settings.telegram_api_url).base_file_url(
            file_url_for(settings.telegram_api_url)
        )
    builder = builder.updater(None) if poll is None else builder.get_updates_request(poll)
    return builder.build()


def build_service(
    settings: TelegramSettings,
    catalog: Catalog,
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    *,
    limits: TelegramLimits | None = None,
    expiry_check: float = EXPIRY_CHECK_SECONDS,
    flood: FloodRule | None = None,
    reports: ReportRules | None = None,
    moderation_check: float = MODERATION_CHECK_SECONDS,
    on_announced: Announced | None = None,
) -> TelegramService:
    """Wire the bot once; nothing connects until `start()`."""
    webhook = None
    if settings.telegram_webhook_url:
        configured = settings.telegram_webhook_secret
        webhook = Webhook(
            url=settings.telegram_webhook_url,
            secret=webhook_secret(configured.get_secret_value() if configured else None),
            listen=settings.telegram_webhook_listen,
            port=settings.telegram_webhook_port,
        )
    send = AiohttpRequest(pool_size=settings.telegram_connections)
    # Long polls get their own connection, so they never hold one that sends need.
    poll = AiohttpRequest(pool_size=1) if webhook is None else None
    send_limits = SendLimits(limits or limits_from(settings))
    application = build_application(settings, send, poll, send_limits, flood)
    policy = paid_policy(settings)
    paid = PaidBudget(policy, sessions, clock=clock) if policy is not None else None
    sender = TelegramSender(
        application.bot, catalog, sessions, clock=clock, limits=send_limits, paid=paid
    )
    desk = ReportDesk(
        catalog, sessions, clock=clock, rules=reports or ReportRules(), on_announced=on_announced
    )
    languages = ChatLanguages(sessions, clock)
    # First: the other commands end with a catch-all for commands they do not know.
    TelegramReports(desk, catalog, languages).register(application)
    commands = TelegramCommands(
        catalog,
        sessions,
        clock=clock,
        admins=AdminCache(application.bot),
        languages=languages,
    )
    boards = TelegramBoards(application.bot, commands.languages)
    commands.more.update(BoardCommands(commands, boards).handlers())
    commands.register(application)
    chat = settings.telegram_moderation_chat
    moderation = ModerationWatcher(
        desk,
        sessions,
        board=TelegramBoard(application.bot, catalog, chat, languages) if chat else None,
        clock=clock,
        interval=moderation_check,
    )
    expiry = ExpiryWatcher(
        TelegramEditor(application.bot, catalog),
        sessions,
        clock=clock,
        interval=expiry_check,
    )
    keeper = BoardKeeper(boards, catalog, sessions, clock=clock, interval=expiry_check)
    return TelegramService(
        application,
        sender,
        commands,
        expiry=expiry,
        boards=keeper,
        webhook=webhook,
        moderation=moderation,
    )


def build(settings: TelegramSettings, parts: PlatformParts) -> TelegramService:
    """The registry's entry: the bot as the settings describe it."""
    return build_bot(build_service, settings, parts)
