"""Sends announcements to any service Apprise knows, named by an Apprise URL.

Apprise only says whether a service took a notification, not why not, so every refusal is
a failed attempt, retried through the outbox with backoff and counted in the target's
streak; a target refusing `max_failures` times in a row is disabled (notifiers/targets.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

from bot.core.catalog import Catalog, CatalogError
from bot.core.domain import Announcement, Game, Platform
from bot.store.outbox import Delivery
from notifiers.apprise.format import notification
from notifiers.delivery import Gone, Outcome, RateLimited, Retry, Sent
from notifiers.targets import TargetBook

log = logging.getLogger(__name__)

NOT_READY_RETRY = 10.0
# Apprise objects kept ready, by target (parsing the URL again for every send is waste).
CLIENT_CACHE_SIZE = 256


class NotAnAppriseUrl(ValueError):
    """Apprise does not know the URL's service, or the URL is malformed for it."""


def apprise_service(url: str) -> Any:
    """The Apprise plugin a URL names (loads Apprise); NotAnAppriseUrl when there is none."""
    import apprise

    service = apprise.Apprise.instantiate(url)
    if service is None:
        raise NotAnAppriseUrl(
            "Apprise does not know this URL (see Apprise's list of services and their URLs)"
        )
    return service


def apprise_label(url: str) -> str:
    """The URL with its secrets hidden, as Apprise writes it for people, less its query
    (Apprise's defaults spelled out, or a service's own parameters, which may hold keys)."""
    return str(apprise_service(url).url(privacy=True)).split("?", 1)[0]


class AppriseSender:
    """The `Sender` the delivery worker drives for Apprise targets."""

    platform = Platform.APPRISE

    def __init__(self, catalog: Catalog, book: TargetBook, *, timeout: float = 30.0) -> None:
        self.catalog = catalog
        self.book = book
        self.timeout = timeout
        self.ready = False
        self._clients: OrderedDict[str, Any] = OrderedDict()

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        self._clients.clear()

    def _client(self, key: str, url: str) -> Any:
        client = self._clients.get(key)
        if client is None:
            # Apprise is imported when a message first goes to one of its services.
            import apprise

            client = apprise.Apprise()
            if not client.add(url):
                return None
            self._clients[key] = client
            while len(self._clients) > CLIENT_CACHE_SIZE:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(key)
        return client

    async def send(self, delivery: Delivery, announcement: Announcement) -> Outcome:
        if not self.ready:
            return RateLimited(NOT_READY_RETRY, scope="global")
        target = await self.book.target(delivery.chat_id)
        if target is None or target.disabled_at is not None:
            return Gone("target removed or disabled")
        client = self._client(target.key, target.url)
        if client is None:
            return await self.book.settle(target, Gone("Apprise no longer knows this URL"))
        message = notification(announcement, self._game(announcement.game))
        from apprise import NotifyFormat

        try:
            async with asyncio.timeout(self.timeout):
                result = await client.async_notify(
                    body=message.body, title=message.title, body_format=NotifyFormat.MARKDOWN
                )
        except TimeoutError:
            outcome: Outcome = Retry(f"no answer within {self.timeout:g}s")
        else:
            outcome = (
                Sent(None)
                if result
                else Retry(f"{_service_name(client)} did not take the notification")
            )
        if not isinstance(outcome, Sent):
            log.info("apprise %s: delivery %d: %s", target.label, delivery.id, outcome)
        return await self.book.settle(target, outcome)

    def _game(self, game_id: str) -> Game:
        try:
            return self.catalog.game(game_id)
        except CatalogError:
            return Game(id=game_id, name=game_id, pattern=".+")


def _service_name(client: Any) -> str:
    for service in client:
        return str(getattr(service, "service_name", "the service"))
    return "the service"
