"""JSON webhooks wired from their settings: a sender over one HTTP client, no bot."""

from __future__ import annotations

from bot.core.domain import Platform
from notifiers.registry import PlatformParts
from notifiers.targets import TargetBook, TargetService
from notifiers.webhook.sender import WebhookSender
from notifiers.webhook.settings import WebhookSettings


def build(settings: WebhookSettings, parts: PlatformParts) -> TargetService:
    """The registry's entry. A JSON POST cannot be edited: expired codes are not struck."""
    book = TargetBook(
        parts.sessions,
        Platform.WEBHOOK,
        clock=parts.clock,
        max_failures=parts.target_max_failures,
    )
    sender = WebhookSender(
        parts.catalog, book, clock=parts.clock, timeout=settings.webhook_timeout, tls=parts.tls
    )
    return TargetService(sender, can_edit=False)
