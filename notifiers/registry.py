"""The kinds of delivery target codecast can announce to: one line each, built when on.

A kind is one package under notifiers/ with a settings section (`settings.py`, read with
the others into one `Settings`), a `wiring.build` that makes its `ChatService` from that
section, and a line here. Its client library is imported only when it is on (or, for the
kinds named by a URL, when a message first goes to one), so a Telegram-only daemon never
loads discord.py.
"""

from __future__ import annotations

import importlib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.catalog import Catalog
from bot.core.domain import Platform
from notifiers.apprise.settings import AppriseSettings
from notifiers.discord.settings import DiscordSettings
from notifiers.discord_webhook.settings import DiscordWebhookSettings
from notifiers.moderation import MODERATION_CHECK_SECONDS
from notifiers.reports import Announced, ReportRules
from notifiers.service import ChatService
from notifiers.targets import MAX_FAILURES
from notifiers.telegram.settings import TelegramSettings
from notifiers.webhook.settings import WebhookSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlatformParts:
    """What every platform is built from, besides its own settings section."""

    catalog: Catalog
    sessions: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime]
    expiry_check: float
    # Failed attempts in a row after which a target named by a URL is disabled.
    target_max_failures: int = MAX_FAILURES
    # How players' reports are taken and moderated, and how often the moderation chat is
    # looked after; `on_announced` is told of the deliveries an approval queued.
    reports: ReportRules = field(default_factory=ReportRules)
    moderation_check: float = MODERATION_CHECK_SECONDS
    on_announced: Announced | None = None
    # The certificate authorities the process's HTTP clients share (each client loads its
    # own without it).
    tls: ssl.SSLContext | bool = True


ServiceT = TypeVar("ServiceT", covariant=True)


class BotBuilder(Protocol[ServiceT]):
    """A bot's `wiring.build_service` (Telegram's, Discord's): its settings, the parts every
    platform shares, and what a bot does besides delivering (expiry edits, reports)."""

    def __call__(
        self,
        settings: Any,
        catalog: Catalog,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        /,
        *,
        expiry_check: float,
        reports: ReportRules | None,
        moderation_check: float,
        on_announced: Announced | None,
    ) -> ServiceT: ...


def build_bot(
    build_service: BotBuilder[ServiceT], settings: Any, parts: PlatformParts
) -> ServiceT:
    """The registry's entry for a bot: its `build_service` given what the parts hold, so a
    part every bot takes is passed in one place."""
    return build_service(
        settings,
        parts.catalog,
        parts.sessions,
        parts.clock,
        expiry_check=parts.expiry_check,
        reports=parts.reports,
        moderation_check=parts.moderation_check,
        on_announced=parts.on_announced,
    )


@dataclass(frozen=True)
class PlatformKind:
    platform: Platform
    # The settings section this platform reads (the composed Settings includes it).
    settings: type[Any]
    # Why the platform is off in these settings (None: it is on).
    off: Callable[[Any], str | None]
    # "module:function" that builds the service from (settings, parts); imported when on.
    build: str

    def service(self, settings: Any, parts: PlatformParts) -> ChatService:
        module, _, name = self.build.partition(":")
        build = getattr(importlib.import_module(module), name)
        return cast(ChatService, build(settings, parts))


PLATFORMS: tuple[PlatformKind, ...] = (
    PlatformKind(
        Platform.TELEGRAM,
        TelegramSettings,
        TelegramSettings.telegram_off,
        "notifiers.telegram.wiring:build",
    ),
    PlatformKind(
        Platform.DISCORD,
        DiscordSettings,
        DiscordSettings.discord_off,
        "notifiers.discord.wiring:build",
    ),
    PlatformKind(
        Platform.DISCORD_WEBHOOK,
        DiscordWebhookSettings,
        DiscordWebhookSettings.discord_webhook_off,
        "notifiers.discord_webhook.wiring:build",
    ),
    PlatformKind(
        Platform.WEBHOOK,
        WebhookSettings,
        WebhookSettings.webhook_off,
        "notifiers.webhook.wiring:build",
    ),
    PlatformKind(
        Platform.APPRISE,
        AppriseSettings,
        AppriseSettings.apprise_off,
        "notifiers.apprise.wiring:build",
    ),
)


def build_platforms(settings: Any, parts: PlatformParts) -> list[ChatService]:
    """The platforms that are on in `settings`; the others are off, with one line each."""
    services = []
    for kind in PLATFORMS:
        reason = kind.off(settings)
        if reason is not None:
            log.info("%s is off: %s", kind.platform.value.capitalize(), reason)
            continue
        services.append(kind.service(settings, parts))
    return services
