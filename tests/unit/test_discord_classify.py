"""Discord errors as delivery outcomes, nonces, and the permission check before subscribing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
import pytest

from bot.core.domain import Platform
from bot.store.outbox import Delivery
from notifiers.delivery import Failed, Gone, RateLimited, Retry
from notifiers.discord.interactions import missing_permissions
from notifiers.discord.sender import (
    CLOUDFLARE_BAN_SECONDS,
    MAX_NONCE_CHARS,
    classify,
    delivery_nonce,
)


@dataclass
class Response:
    """What discord.HTTPException reads from an aiohttp response."""

    status: int
    reason: str = "Reason"
    headers: dict[str, str] = field(default_factory=dict)


def http_error(status: int, code: int = 0, headers: dict[str, str] | None = None) -> Exception:
    body: Any = {"message": "error", "code": code} if code else "<html>error</html>"
    response = Response(status, headers=headers or {})
    kind = {403: discord.Forbidden, 404: discord.NotFound}.get(status, discord.HTTPException)
    if status >= 500:
        kind = discord.DiscordServerError
    return kind(response, body)


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        (403, 50001, "missing access"),
        (403, 50013, "missing permissions"),
        (404, 10003, "unknown channel"),
        (404, 10004, "unknown guild"),
    ],
)
def test_lost_access_ends_the_subscription(status: int, code: int, reason: str) -> None:
    assert classify(http_error(status, code)) == Gone(reason)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(status: int) -> None:
    assert isinstance(classify(http_error(status)), Retry)


@pytest.mark.parametrize(
    "exc",
    [
        aiohttp.ClientConnectionError("reset"),
        ConnectionResetError(104, "reset"),
        TimeoutError(),
        aiohttp.ServerDisconnectedError(),
    ],
)
def test_network_errors_are_retried(exc: Exception) -> None:
    assert isinstance(classify(exc), Retry)


@pytest.mark.parametrize(
    ("status", "code"), [(400, 50035), (403, 50007), (404, 10008), (413, 40005)]
)
def test_other_client_errors_fail_the_message_only(status: int, code: int) -> None:
    assert isinstance(classify(http_error(status, code)), Failed)


def test_a_wrong_token_is_not_the_messages_fault() -> None:
    assert isinstance(classify(http_error(401, 0)), Retry)


def test_a_404_that_is_not_discords_answer_is_retried() -> None:
    assert isinstance(classify(http_error(404)), Retry)


def test_a_long_rate_limit_comes_back_as_a_value() -> None:
    assert classify(discord.RateLimited(42.5)) == RateLimited(42.5)


def test_a_429_after_discord_py_gave_up_waits_for_retry_after() -> None:
    error = http_error(429, 0, {"Via": "1.1 google", "Retry-After": "7"})
    assert classify(error) == RateLimited(7.0, scope="chat")


def test_a_429_without_via_is_a_cloudflare_ban_of_everything() -> None:
    assert classify(http_error(429)) == RateLimited(CLOUDFLARE_BAN_SECONDS, scope="global")


def test_unknown_exceptions_are_not_swallowed() -> None:
    with pytest.raises(KeyError):
        classify(KeyError("id"))


def delivery(delivery_id: int) -> Delivery:
    return Delivery(
        id=delivery_id,
        announcement_id=1,
        subscription_id=1,
        platform=Platform.DISCORD,
        chat_id="1",
        game="genshin",
        space_id="2",
        options={},
        attempts=1,
    )


def test_the_nonce_is_stable_per_delivery_and_short_enough() -> None:
    assert delivery_nonce(delivery(42)) == delivery_nonce(delivery(42)) == "codecast-42"
    assert delivery_nonce(delivery(43)) != delivery_nonce(delivery(42))
    assert len(delivery_nonce(delivery(2**63 - 1))) <= MAX_NONCE_CHARS


def test_missing_channel_permissions_are_named_as_discord_shows_them() -> None:
    assert missing_permissions(discord.Permissions(view_channel=True)) == [
        "Send Messages",
        "Embed Links",
    ]
    everything = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)
    assert missing_permissions(everything) == []
    assert missing_permissions(discord.Permissions.none()) == [
        "View Channel",
        "Send Messages",
        "Embed Links",
    ]
