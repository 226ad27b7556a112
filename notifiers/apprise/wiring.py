"""Apprise targets wired from their settings: one sender, no bot, no edits."""

from __future__ import annotations

from bot.core.domain import Platform
from notifiers.apprise.sender import AppriseSender
from notifiers.apprise.settings import AppriseSettings
from notifiers.registry import PlatformParts
from notifiers.targets import TargetBook, TargetService


def build(settings: AppriseSettings, parts: PlatformParts) -> TargetService:
    """The registry's entry. A notification cannot be edited once sent."""
    book = TargetBook(
        parts.sessions,
        Platform.APPRISE,
        clock=parts.clock,
        max_failures=parts.target_max_failures,
    )
    sender = AppriseSender(parts.catalog, book, timeout=settings.apprise_timeout)
    return TargetService(sender, can_edit=False)
