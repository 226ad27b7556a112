"""Discord webhooks wired from their settings: a sender that also edits, no bot."""

from __future__ import annotations

from bot.core.domain import Platform
from notifiers.discord_webhook.sender import DiscordWebhookSender
from notifiers.discord_webhook.settings import DiscordWebhookSettings
from notifiers.expiry import ExpiryWatcher
from notifiers.registry import PlatformParts
from notifiers.targets import TargetBook, TargetService


def build(settings: DiscordWebhookSettings, parts: PlatformParts) -> TargetService:
    """The registry's entry: a webhook's messages can be edited, so expired codes are struck."""
    book = TargetBook(
        parts.sessions,
        Platform.DISCORD_WEBHOOK,
        clock=parts.clock,
        max_failures=parts.target_max_failures,
    )
    sender = DiscordWebhookSender(
        parts.catalog, book, timeout=settings.discord_webhook_timeout, tls=parts.tls
    )
    expiry = ExpiryWatcher(sender, parts.sessions, clock=parts.clock, interval=parts.expiry_check)
    return TargetService(sender, can_edit=True, expiry=expiry)
