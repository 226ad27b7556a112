"""Helpers for tests of the targets named by a URL: the kinds built as the daemon builds
them, an announcement queued, the outbox drained."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.settings import Settings
from bot.core.catalog import load_catalog
from bot.core.domain import AnnouncementKind, Platform
from bot.store import repository
from notifiers.delivery import DeliveryWorker, RetryPolicy, WorkerStats
from notifiers.registry import PLATFORMS, PlatformParts
from notifiers.service import ChatService
from tests.seed import add_code

Sessions = async_sessionmaker[AsyncSession]
CATALOG = load_catalog()


def utc_now() -> datetime:
    return datetime.now(UTC)


@contextlib.asynccontextmanager
async def url_kinds(
    sessions: Sessions, *, max_failures: int = 20, expiry_check: float = 3600.0
) -> AsyncIterator[dict[Platform, ChatService]]:
    """The Discord webhook, JSON webhook and Apprise services, started."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    parts = PlatformParts(
        CATALOG, sessions, utc_now, expiry_check, target_max_failures=max_failures
    )
    services = {
        kind.platform: kind.service(settings, parts)
        for kind in PLATFORMS
        if kind.platform in (Platform.DISCORD_WEBHOOK, Platform.WEBHOOK, Platform.APPRISE)
    }
    for service in services.values():
        await service.start(commands=False)
    try:
        yield services
    finally:
        for service in services.values():
            await service.stop()


async def announce(
    sessions: Sessions,
    code: str = "GENSHINGIFT",
    *,
    expires_in: timedelta | None = None,
    kind: AnnouncementKind = AnnouncementKind.NEW,
) -> int:
    now = utc_now()
    async with sessions.begin() as session:
        row = await add_code(session, game="genshin", code=code, now=now, rewards="Primogem ×60")
        if expires_in is not None:
            row.expires_at = now + expires_in
        await session.flush()
        announcement, _ = await repository.create_announcement(
            session, "genshin", [row.id], now, kind=kind
        )
    return announcement


async def deliver(sessions: Sessions, service: ChatService, *, attempts: int = 3) -> WorkerStats:
    worker = DeliveryWorker(
        sessions,
        service.sender,
        clock=utc_now,
        retry=RetryPolicy(max_attempts=attempts, base_delay=0.05, max_delay=0.2),
    )
    return await worker.drain()
