"""POSTs each announcement as signed JSON to a webhook and says what the answer means.

2xx is sent; 410 Gone ends the target's subscriptions; 429 waits for Retry-After; 408, 5xx
and network failures are retried through the outbox with backoff; any other answer fails
this message. Every attempt counts in the target's failure streak (notifiers/targets.py).
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable
from datetime import datetime

import httpx

from bot.core.catalog import Catalog, CatalogError
from bot.core.domain import Announcement, Game, Platform
from bot.store.outbox import Delivery
from notifiers.delivery import Failed, Gone, Outcome, RateLimited, Retry, Sent
from notifiers.limits import KeyedLimiter, Rate
from notifiers.targets import TargetBook
from notifiers.webhook.format import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    EVENTS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
    webhook_body,
)

log = logging.getLogger(__name__)

# At most this many POSTs per second to one target: a receiver is somebody's small server.
PER_TARGET = Rate(5, 1.0)
# A 429 without a usable Retry-After waits this long.
DEFAULT_RETRY_AFTER = 60.0
# Answers retried later rather than failed: the receiver may well take it then.
RETRIED_STATUSES = frozenset({408, 425})
NOT_READY_RETRY = 10.0


def classify_answer(response: httpx.Response) -> Outcome:
    """What a receiver's answer means for the delivery; the one place that decides it.

    Never the URL in the text: it is a secret."""
    status = response.status_code
    if 200 <= status < 300:
        return Sent(None)
    if status == 410:
        return Gone("the receiver answered 410 Gone")
    if status == 429:
        return RateLimited(_retry_after(response.headers.get("Retry-After")), scope="chat")
    if status >= 500 or status in RETRIED_STATUSES:
        return Retry(f"HTTP {status}")
    if 300 <= status < 400:
        return Failed(f"HTTP {status}: redirects are not followed")
    return Failed(f"HTTP {status}")


def classify_error(error: httpx.HTTPError) -> Outcome:
    return Retry(f"network: {type(error).__name__}")


def _retry_after(header: str | None) -> float:
    try:
        return max(0.0, float(header)) if header else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER


class WebhookSender:
    """The `Sender` the delivery worker drives for JSON webhooks."""

    platform = Platform.WEBHOOK

    def __init__(
        self,
        catalog: Catalog,
        book: TargetBook,
        *,
        clock: Callable[[], datetime],
        timeout: float = 10.0,
        user_agent: str = "codecast",
        tls: ssl.SSLContext | bool = True,
    ) -> None:
        self.catalog = catalog
        self.book = book
        self.clock = clock
        self.timeout = timeout
        self.user_agent = user_agent
        self.tls = tls
        self.ready = False
        self._http: httpx.AsyncClient | None = None
        self._targets = KeyedLimiter(PER_TARGET)

    async def open(self) -> None:
        if self._http is None:
            # No redirects: a URL that moved should be changed by whoever added it, and a
            # redirect must not carry a signed body somewhere else.
            self._http = httpx.AsyncClient(
                verify=self.tls,
                timeout=self.timeout,
                follow_redirects=False,
                headers={"User-Agent": self.user_agent},
            )

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def send(self, delivery: Delivery, announcement: Announcement) -> Outcome:
        if not self.ready or self._http is None:
            return RateLimited(NOT_READY_RETRY, scope="global")
        target = await self.book.target(delivery.chat_id)
        if target is None or target.disabled_at is not None:
            return Gone("target removed or disabled")
        body = webhook_body(
            announcement,
            self._game(announcement.game),
            delivery_id=delivery.id,
            sent_at=self.clock(),
        )
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: EVENTS[announcement.kind],
            DELIVERY_HEADER: str(delivery.id),
            TIMESTAMP_HEADER: str(timestamp),
        }
        if target.signing_key:
            headers[SIGNATURE_HEADER] = signature(target.signing_key, timestamp, body)
        await self._targets.limiter(target.key).acquire()
        try:
            response = await self._http.post(target.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            outcome = classify_error(error)
        else:
            outcome = classify_answer(response)
        if not isinstance(outcome, Sent):
            log.info("webhook %s: delivery %d: %s", target.label, delivery.id, outcome)
        return await self.book.settle(target, outcome)

    def _game(self, game_id: str) -> Game:
        try:
            return self.catalog.game(game_id)
        except CatalogError:
            return Game(id=game_id, name=game_id, pattern=".+")
