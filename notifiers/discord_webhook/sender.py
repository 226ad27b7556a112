"""Posts announcements through Discord webhook URLs and edits them when codes expire.

The same embeds and redeem buttons as the bot's (notifiers/discord/format.py), sent with
`?wait=true` (the answer is the message, whose id is kept for edits) and
`with_components=true` (Discord takes link buttons from a webhook only when asked). Plain
httpx rather than discord.py's `Webhook`: that one accepts only discord.com URLs and sends
through `Route.BASE`, which the bot's service owns for the whole process.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from bot.core.catalog import Catalog
from bot.core.domain import Announcement, Platform
from bot.store.outbox import Delivery
from bot.store.repository import SentMessage
from notifiers.delivery import Failed, Gone, Outcome, RateLimited, Retry, Sent
from notifiers.limits import KeyedLimiter, Rate
from notifiers.targets import TargetBook

if TYPE_CHECKING:
    from notifiers.discord.format import AnnouncementMessage

log = logging.getLogger(__name__)

# Discord's bucket for one webhook: 5 requests per 2 seconds; kept a little under.
PER_WEBHOOK = Rate(1, 2.0 / 5 * 1.05)
NOT_READY_RETRY = 10.0
DEFAULT_RETRY_AFTER = 5.0
# Discord's JSON error codes that mean the webhook is gone for good.
UNKNOWN_WEBHOOK = 10015
INVALID_WEBHOOK_TOKEN = 50027
# The name the messages are posted under (a webhook's own name otherwise).
USERNAME = "codecast"

# …/api[/v10]/webhooks/<id>/<token>: Discord's own URLs, and any host serving its API.
_WEBHOOK_PATH = re.compile(r"/api(?:/v\d+)?/webhooks/(\d{1,20})/([A-Za-z0-9._-]{1,200})/?")


class NotAWebhook(ValueError):
    """The URL is not a Discord webhook's."""


def webhook_parts(url: str) -> tuple[str, str]:
    """The webhook id and token of a Discord webhook URL."""
    parts = urlsplit(url.strip())
    match = _WEBHOOK_PATH.fullmatch(parts.path)
    if parts.scheme not in ("http", "https") or not parts.netloc or match is None:
        raise NotAWebhook(
            "a Discord webhook URL looks like https://discord.com/api/webhooks/ID/TOKEN"
        )
    return match.group(1), match.group(2)


def is_discord_webhook(url: str) -> bool:
    try:
        webhook_parts(url)
    except NotAWebhook:
        return False
    return True


def webhook_label(url: str) -> str:
    """What may be shown of a webhook URL: its host and id, never the token."""
    webhook_id, _ = webhook_parts(url)
    return f"{urlsplit(url).hostname} webhook {webhook_id}"


def classify_answer(response: httpx.Response) -> Outcome:
    """What Discord's answer to a webhook request means; the one place that decides it."""
    status = response.status_code
    if 200 <= status < 300:
        message_id = _json(response).get("id")
        return Sent(str(message_id) if message_id is not None else None)
    body = _json(response)
    code = body.get("code")
    if status == 429:
        retry_after = body.get("retry_after", response.headers.get("Retry-After"))
        try:
            wait = max(0.0, float(retry_after)) if retry_after is not None else DEFAULT_RETRY_AFTER
        except (TypeError, ValueError):
            wait = DEFAULT_RETRY_AFTER
        return RateLimited(wait, scope="global" if body.get("global") else "chat")
    if status == 404 or code == UNKNOWN_WEBHOOK:
        return Gone("unknown webhook (deleted)")
    if status == 401 or code == INVALID_WEBHOOK_TOKEN:
        return Gone("invalid webhook token")
    if status >= 500:
        return Retry(f"Discord {status}")
    return Failed(f"{status} (code {code}): {str(body.get('message', ''))[:200]}")


def _json(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class DiscordWebhookSender:
    """The `Sender` (and expiry `MessageEditor`) for Discord webhook targets."""

    platform = Platform.DISCORD_WEBHOOK

    def __init__(
        self,
        catalog: Catalog,
        book: TargetBook,
        *,
        timeout: float = 15.0,
        tls: ssl.SSLContext | bool = True,
    ) -> None:
        self.catalog = catalog
        self.book = book
        self.timeout = timeout
        self.tls = tls
        self.ready = False
        self._http: httpx.AsyncClient | None = None
        self._webhooks = KeyedLimiter(PER_WEBHOOK)
        self._source_names: Mapping[str, str] = {s.id: s.name or s.id for s in catalog.sources}

    async def open(self) -> None:
        if self._http is None:
            self._http = httpx.AsyncClient(
                verify=self.tls, timeout=self.timeout, follow_redirects=False
            )

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _message(self, announcement: Announcement) -> AnnouncementMessage | None:
        # discord.py (for its Embed) is loaded when a message first goes to a webhook, not
        # by every daemon that has none.
        from notifiers.discord.format import announcement_message

        game = self.catalog.games.get(announcement.game)
        if game is None:
            return None
        return announcement_message(announcement, game, source_names=self._source_names)

    async def send(self, delivery: Delivery, announcement: Announcement) -> Outcome:
        if not self.ready or self._http is None:
            return RateLimited(NOT_READY_RETRY, scope="global")
        target = await self.book.target(delivery.chat_id)
        if target is None or target.disabled_at is not None:
            return Gone("target removed or disabled")
        message = self._message(announcement)
        if message is None:
            return Failed(f"game {announcement.game!r} is not in the catalog")
        body = {**message.payload(), "username": USERNAME}
        await self._webhooks.limiter(target.key).acquire()
        try:
            response = await self._http.post(
                target.url, params={"wait": "true", "with_components": "true"}, json=body
            )
        except httpx.HTTPError as error:
            outcome: Outcome = Retry(f"network: {type(error).__name__}")
        else:
            outcome = classify_answer(response)
        if not isinstance(outcome, Sent):
            log.info("discord webhook %s: delivery %d: %s", target.label, delivery.id, outcome)
        return await self.book.settle(target, outcome)

    async def edit_sent(self, sent: SentMessage, announcement: Announcement) -> int:
        """The expiry watcher's edit: expired codes struck, their buttons gone."""
        if not sent.message_id or self._http is None:
            return 0
        target = await self.book.target(sent.chat_id)
        message = self._message(announcement)
        if target is None or target.disabled_at is not None or message is None:
            return 0
        await self._webhooks.limiter(target.key).acquire()
        try:
            response = await self._http.patch(
                f"{target.url.rstrip('/')}/messages/{sent.message_id}",
                params={"with_components": "true"},
                json=message.edit_payload(),
            )
        except httpx.HTTPError as error:
            log.info("discord webhook %s: edit failed: %s", target.label, type(error).__name__)
            return 0
        if response.status_code >= 300:
            # A deleted message or webhook is nothing to fix; the next send finds it gone.
            log.info("discord webhook %s: edit answered %d", target.label, response.status_code)
            return 0
        return 1
