"""Targets named by a URL: which kind a URL is, what may be shown of it, and subscribing it.

Used by `codecast subscribe`, the subscribers file and Discord's `/subscribe webhook:`. A
URL is a secret (webhook tokens, passwords in Apprise URLs): only its label is ever shown.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.domain import Platform
from bot.store import repository
from bot.store.repository.announcements import REMIND_OPTION
from notifiers.apprise.sender import NotAnAppriseUrl, apprise_label
from notifiers.discord_webhook.sender import NotAWebhook, is_discord_webhook, webhook_label

URL_KINDS = (Platform.DISCORD_WEBHOOK, Platform.WEBHOOK, Platform.APPRISE)
# Bytes of randomness in a signing key made up for a JSON webhook (43 characters).
SIGNING_KEY_BYTES = 32


class BadTarget(ValueError):
    """The URL cannot be a target of the kind asked for; the message says why."""


@dataclass(frozen=True)
class Address:
    platform: Platform
    url: str
    label: str


def webhook_url_label(url: str) -> str:
    """A JSON webhook's URL as it may be shown: scheme, host and port; the path (where
    services put their tokens) hidden."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}/…"


def parse_address(url: str, kind: Platform | None = None) -> Address:
    """The target a URL names: a Discord webhook, another http(s) URL a JSON webhook, and
    anything else an Apprise URL; `kind` says which outright."""
    url = url.strip()
    if not url:
        raise BadTarget("the URL is empty")
    if kind is None:
        if is_discord_webhook(url):
            kind = Platform.DISCORD_WEBHOOK
        elif urlsplit(url).scheme in ("http", "https"):
            kind = Platform.WEBHOOK
        else:
            kind = Platform.APPRISE
    if kind is Platform.DISCORD_WEBHOOK:
        try:
            return Address(kind, url, webhook_label(url))
        except NotAWebhook as exc:
            raise BadTarget(str(exc)) from None
    if kind is Platform.WEBHOOK:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadTarget("a webhook URL starts with http:// or https:// and names a host")
        return Address(kind, url, webhook_url_label(url))
    if kind is Platform.APPRISE:
        try:
            return Address(kind, url, apprise_label(url))
        except NotAnAppriseUrl as exc:
            raise BadTarget(str(exc)) from None
    raise BadTarget(f"{kind} targets are chats, not URLs")


def new_signing_key() -> str:
    return secrets.token_urlsafe(SIGNING_KEY_BYTES)


async def subscribe_address(
    session: AsyncSession,
    address: Address,
    games: Iterable[str],
    *,
    origin: str,
    now: datetime,
    signing_key: str | None = None,
    remind: bool = False,
    space_id: str | None = None,
    revive: bool = True,
    audience: int | None = None,
) -> repository.Target:
    """Save the target and subscribe it to `games`. With `revive`, a disabled target is
    taken back into service; without (the subscribers file at each start), it stays off.
    `audience`: how many people it reaches, where known (a Discord server's members)."""
    existing = await repository.get_target(
        session, repository.target_key(address.platform, address.url)
    )
    if (
        address.platform is Platform.WEBHOOK
        and signing_key is None
        and (existing is None or existing.signing_key is None)
    ):
        signing_key = new_signing_key()
    if existing is not None and existing.disabled_at is not None and not revive:
        return existing
    target = await repository.save_target(
        session,
        address.platform,
        address.url,
        label=address.label,
        origin=origin,
        now=now,
        signing_key=signing_key,
        revive=revive,
    )
    options = {REMIND_OPTION: True} if remind else {}
    for game in games:
        await repository.subscribe(
            session,
            address.platform,
            target.key,
            game,
            now=now,
            space_id=space_id,
            options=options,
            audience=audience,
        )
    return target
