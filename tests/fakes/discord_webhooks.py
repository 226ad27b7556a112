"""Channel webhooks in the fake Discord: execute, edit and delete messages through a URL.

As on Discord, a webhook posts into its channel without a bot: the URL's token is the only
credential. Link buttons are kept only with `?with_components=true`; `?wait=true` answers
the message (else 204). An unknown webhook is 404 (10015), a wrong token 401 (50027), and
each webhook has its own bucket (5 requests per 2 s).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from aiohttp import web

from tests.fakes.discord_messages import Messages, SentMessage, validate_message_body
from tests.fakes.discord_rest import (
    JSON_BODY,
    ApiError,
    FormErrors,
    RateLimitedError,
    RestApi,
    json_response,
)
from tests.fakes.discord_world import ALL_PERMISSIONS, JsonDict, Perm, World

# What a webhook may do in its channel: everything but pinging @everyone unasked.
WEBHOOK_PERMISSIONS = ALL_PERMISSIONS


@dataclass
class ChannelWebhook:
    id: int
    token: str
    channel_id: int
    name: str = "Captain Hook"


def unknown_webhook() -> ApiError:
    return ApiError(404, "Unknown Webhook", 10015)


class ChannelWebhooks:
    """The webhooks of the fake's channels, and their routes (shared with follow-ups)."""

    def __init__(self, world: World, rest: RestApi, store: Messages) -> None:
        self.world = world
        self.rest = rest
        self.store = store
        self.hooks: dict[int, ChannelWebhook] = {}

    def add(self, channel_id: int) -> ChannelWebhook:
        if channel_id not in self.world.channels:
            raise KeyError(f"no channel {channel_id}")
        hook = ChannelWebhook(self.world.snowflake(), secrets.token_urlsafe(50), channel_id)
        self.hooks[hook.id] = hook
        return hook

    def delete(self, webhook_id: int) -> None:
        del self.hooks[webhook_id]

    def owns(self, webhook_id: str) -> bool:
        return webhook_id.isdigit() and int(webhook_id) in self.hooks

    def _hook(self, request: web.Request) -> ChannelWebhook:
        raw = request.match_info["app_id"]
        hook = self.hooks.get(int(raw)) if raw.isdigit() else None
        if hook is None:
            raise unknown_webhook()
        if not secrets.compare_digest(hook.token, request.match_info["token"]):
            raise ApiError(401, "Invalid Webhook Token", 50027)
        if hook.channel_id not in self.world.channels:
            raise unknown_webhook()  # its channel was deleted, and the webhook with it
        return hook

    def _body(self, request: web.Request) -> JsonDict:
        body: JsonDict = dict(request.get(JSON_BODY) or {})
        if request.query.get("with_components", "").lower() not in ("1", "true"):
            # Discord drops components a webhook that did not ask for them sends.
            body.pop("components", None)
        errors = FormErrors()
        validate_message_body(body, errors)
        errors.raise_if_any()
        return body

    async def execute(self, request: web.Request) -> web.Response:
        hook = self._hook(request)
        try:
            headers = self.rest.rate_limit("webhook", hook.id)
        except RateLimitedError as exc:
            return exc.response
        body = self._body(request)
        self.store.require_not_empty(body)
        channel = self.world.channels[hook.channel_id]
        message = self.store.build_message(
            channel,
            body,
            WEBHOOK_PERMISSIONS,
            kind="webhook",
            extra={"webhook_id": str(hook.id), "author": _author(hook, body)},
        )
        if request.query.get("wait", "").lower() in ("1", "true"):
            return json_response(message.payload, 200, headers)
        return web.Response(status=204, headers=headers)

    def _message(self, request: web.Request) -> tuple[ChannelWebhook, SentMessage]:
        hook = self._hook(request)
        mid = request.match_info["message_id"]
        message = self.store.messages.get(int(mid)) if mid.isdigit() else None
        if message is None or message.payload.get("webhook_id") != str(hook.id):
            raise ApiError(404, "Unknown Message", 10008)
        return hook, message

    async def edit(self, request: web.Request) -> web.Response:
        hook, message = self._message(request)
        try:
            headers = self.rest.rate_limit("webhook", hook.id, "PATCH")
        except RateLimitedError as exc:
            return exc.response
        self.store.apply_edit(message, self._body(request), int(Perm.SEND_MESSAGES))
        return json_response(message.payload, 200, headers)

    async def get(self, request: web.Request) -> web.Response:
        _, message = self._message(request)
        return json_response(message.payload)

    async def delete_message(self, request: web.Request) -> web.Response:
        _, message = self._message(request)
        del self.store.messages[message.id]
        self.store.by_channel[message.channel_id].remove(message)
        return web.Response(status=204)


def _author(hook: ChannelWebhook, body: JsonDict) -> JsonDict:
    return {
        "id": str(hook.id),
        "username": str(body.get("username") or hook.name),
        "discriminator": "0000",
        "avatar": None,
        "bot": True,
    }
