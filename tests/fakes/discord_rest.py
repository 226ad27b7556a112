"""REST side of the fake Discord: plumbing, rate limits, failure injection, lookups."""

from __future__ import annotations

import asyncio
import fnmatch
import json
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.discord_world import (
    Channel,
    FakeSettings,
    Guild,
    JsonDict,
    Perm,
    World,
)

API_PREFIX = "/api/v10"
# The parsed JSON body, read once by the middleware (which also records it).
JSON_BODY: web.RequestKey[Any] = web.RequestKey("json_body", object)
JSON_TYPE = "application/json"  # exactly this: discord.py treats anything else as text

# Bucket hashes are per route, not per channel; the client adds the channel itself.
BUCKET_MESSAGE_CREATE = "8d4c2f1e0b9a7d6c5e4f3a2b1c0d9e8f"
BUCKET_MESSAGE_EDIT = "1f2e3d4c5b6a79880f1e2d3c4b5a6978"
BUCKET_CROSSPOST = "a0b1c2d3e4f5061728394a5b6c7d8e9f"
BUCKET_FOLLOWUP = "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
BUCKET_WEBHOOK = "0b1a2c3d4e5f60718293a4b5c6d7e8f9"


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """An error answer in Discord's shape; raised by handlers, rendered by the middleware."""

    def __init__(
        self, status: int, message: str, code: int, errors: JsonDict | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.errors = errors
        self.headers: dict[str, str] = {}  # rate-limit headers ride on errors too

    def body(self) -> JsonDict:
        data: JsonDict = {"message": self.message, "code": self.code}
        if self.errors:
            data["errors"] = self.errors
        return data


def missing_access() -> ApiError:
    return ApiError(403, "Missing Access", 50001)


def missing_permissions() -> ApiError:
    return ApiError(403, "Missing Permissions", 50013)


def unknown_channel() -> ApiError:
    return ApiError(404, "Unknown Channel", 10003)


def unknown_message() -> ApiError:
    return ApiError(404, "Unknown Message", 10008)


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    all_headers = {"Content-Type": JSON_TYPE}
    if headers:
        all_headers.update(headers)
    return web.Response(body=json.dumps(body).encode(), status=status, headers=all_headers)


class FormErrors:
    """Collects validation problems into Discord's nested `errors` object (code 50035)."""

    def __init__(self) -> None:
        self.tree: JsonDict = {}

    def add(self, path: tuple[str | int, ...], code: str, message: str) -> None:
        node = self.tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_length(self, path: tuple[str | int, ...], value: object, limit: int) -> None:
        if isinstance(value, str | list) and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def raise_if_any(self) -> None:
        if self.tree:
            raise ApiError(400, "Invalid Form Body", 50035, self.tree)


# -- records ------------------------------------------------------------------------------


@dataclass
class RequestRecord:
    method: str
    path: str  # relative to /api/v10, e.g. "/channels/123/messages"
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    at: float
    status: int = 0


@dataclass
class Violation:
    """A 429 the fake answered because the client really went over a limit."""

    at: float
    method: str
    path: str
    scope: str  # "user" (a route bucket) or "global"
    retry_after: float


@dataclass
class InjectedFailure:
    at: float
    method: str
    path: str
    status: int


# -- rate limits --------------------------------------------------------------------------


class FixedWindow:
    """Discord's route buckets: `limit` requests, counted from the first one in the window."""

    __slots__ = ("limit", "started", "used", "window")

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self.started = -math.inf
        self.used = 0

    def take(self, now: float) -> float:
        """Consume one request; 0.0 when allowed, else the seconds until the window resets."""
        if now >= self.started + self.window:
            self.started = now
            self.used = 0
        if self.used >= self.limit:
            return self.started + self.window - now
        self.used += 1
        return 0.0

    def headers(self, now: float, bucket: str) -> dict[str, str]:
        # Rounded up so a client sleeping exactly Reset-After never lands inside the window.
        reset_after = math.ceil(max(self.started + self.window - now, 0.0) * 1000) / 1000
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.limit - self.used, 0)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket,
        }


class SlidingWindow:
    """The global limit, read strictly: never more than `limit` requests in any `window`."""

    __slots__ = ("stamps",)

    def __init__(self) -> None:
        self.stamps: deque[float] = deque()

    def take(self, now: float, limit: int, window: float) -> float:
        """Limits are passed per call so that a test may change the settings at any time."""
        stamps = self.stamps
        while stamps and stamps[0] <= now - window:
            stamps.popleft()
        if len(stamps) >= limit:
            return stamps[len(stamps) - limit] + window - now
        stamps.append(now)
        return 0.0


def rate_limited(retry_after: float, *, is_global: bool, extra: dict[str, str]) -> web.Response:
    retry_after = math.ceil(retry_after * 1000) / 1000
    headers = {
        # Without Via discord.py takes a 429 for a Cloudflare ban and gives up.
        "Via": "1.1 google",
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "X-RateLimit-Scope": "global" if is_global else "user",
        **extra,
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    body = {"message": "You are being rate limited.", "retry_after": retry_after}
    body["global"] = is_global
    return json_response(body, 429, headers)


@dataclass
class PlannedFailure:
    pattern: str
    status: int
    body: Any
    headers: dict[str, str]
    times: int
    via: bool = True


# -- the REST application -----------------------------------------------------------------


class RestApi:
    """State and handlers of the REST API; `FakeDiscord` mounts it on its web app."""

    def __init__(self, world: World, settings: FakeSettings) -> None:
        self.world = world
        self.settings = settings
        self.gateway_url = ""
        self.requests: list[RequestRecord] = []
        self.violations: list[Violation] = []
        self.injected: list[InjectedFailure] = []
        self.invalid_requests = 0
        self.request_count = 0
        self.session_starts = 0
        # Time in the fake's own request handling (after aiohttp parsed the request), to show
        # that the fake is not what limits a benchmark.
        self.busy_seconds = 0.0
        self._planned: list[PlannedFailure] = []
        self._outage_until = 0.0
        self._outage_mode = "502"
        self._global = SlidingWindow()
        self._buckets: dict[tuple[str, int], FixedWindow] = {}

    # -- failure injection ------------------------------------------------------------

    def fail_next(
        self,
        pattern: str,
        status: int,
        body: Any,
        headers: dict[str, str],
        times: int,
        via: bool = True,
    ) -> None:
        self._planned.append(PlannedFailure(pattern, status, body, headers, times, via))

    def outage(self, seconds: float, mode: str) -> None:
        if mode not in ("502", "drop"):
            raise ValueError("mode is '502' or 'drop'")
        self._outage_until = time.monotonic() + seconds
        self._outage_mode = mode

    def _planned_failure(self, key: str) -> PlannedFailure | None:
        for planned in self._planned:
            if fnmatch.fnmatchcase(key, planned.pattern):
                planned.times -= 1
                if planned.times <= 0:
                    self._planned.remove(planned)
                return planned
        return None

    # -- plumbing -----------------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):
            return await handler(request)  # the gateway's WebSocket
        now = time.monotonic()
        path = request.path.removeprefix(API_PREFIX)
        try:
            body = await self._read_body(request)
        except ApiError as exc:
            return json_response(exc.body(), exc.status)
        # From here to the answer nothing waits on the network (except a chosen outage).
        started = time.perf_counter()
        headers = {
            k: request.headers[k]
            for k in ("User-Agent", "Content-Type", "X-Audit-Log-Reason")
            if k in request.headers
        }
        auth = request.headers.get("Authorization")
        if auth is not None:
            headers["Authorization"] = "Bot <valid>" if self._valid_auth(auth) else "<invalid>"
        record = RequestRecord(request.method, path, dict(request.query), body, headers, now)
        self.request_count += 1
        if self.settings.record:
            self.requests.append(record)
        response = await self._answer(request, handler, record, auth)
        record.status = response.status
        if response.status in (401, 403, 429):
            self.invalid_requests += 1
        self.busy_seconds += time.perf_counter() - started
        return response

    async def _answer(
        self, request: web.Request, handler: Handler, record: RequestRecord, auth: str | None
    ) -> web.StreamResponse:
        now = record.at
        if now < self._outage_until:
            if self._outage_mode == "drop":
                if request.transport is not None:
                    request.transport.abort()
                raise asyncio.CancelledError
            return web.Response(status=502, body=b"<html>502 Bad Gateway</html>")
        key = f"{record.method} {record.path}"
        # Interaction callbacks and webhook follow-ups authenticate with their token.
        needs_bot = not record.path.startswith(("/interactions/", "/webhooks/", "/gateway"))
        if record.path == "/gateway/bot":
            needs_bot = True
        if needs_bot and (auth is None or not self._valid_auth(auth)):
            return json_response({"message": "401: Unauthorized", "code": 0}, 401)
        planned = self._planned_failure(key)
        if planned is not None:
            self.injected.append(InjectedFailure(now, record.method, record.path, planned.status))
            return self._render_planned(planned)
        if needs_bot and self.settings.rate_limits:
            s = self.settings
            retry_after = self._global.take(now, s.global_limit, s.global_window)
            if retry_after > 0:
                self.violations.append(
                    Violation(now, record.method, record.path, "global", retry_after)
                )
                return rate_limited(retry_after, is_global=True, extra={})
        try:
            return await handler(request)
        except ApiError as exc:
            return json_response(exc.body(), exc.status, exc.headers)

    def _render_planned(self, planned: PlannedFailure) -> web.Response:
        if planned.status == 429:
            body = planned.body or {
                "message": "You are being rate limited.",
                "retry_after": 0.05,
                "global": False,
            }
            headers = {"Via": "1.1 google", "X-RateLimit-Scope": "user", "Retry-After": "1"}
            headers.update(planned.headers)
            if not planned.via:
                # What Cloudflare's own block looks like to a client: no Via header.
                del headers["Via"]
            return json_response(body, 429, headers)
        if planned.body is None and planned.status >= 500:
            return web.Response(status=planned.status, body=b"<html>server error</html>")
        body = planned.body or {"message": f"{planned.status}: injected", "code": 0}
        return json_response(body, planned.status, planned.headers)

    def _valid_auth(self, auth: str) -> bool:
        return auth == f"Bot {self.world.token}"

    async def _read_body(self, request: web.Request) -> Any:
        if not request.can_read_body:
            return None
        ctype = request.content_type
        if ctype == "multipart/form-data":
            # discord.py sends files as multipart with the JSON in `payload_json`.
            form = await request.post()
            raw = form.get("payload_json")
            parsed = json.loads(str(raw)) if raw is not None else {}
            parsed["__files__"] = [k for k in form if k != "payload_json"]
            request[JSON_BODY] = parsed
            return parsed
        raw_bytes = await request.read()
        if not raw_bytes:
            return None
        try:
            parsed = json.loads(raw_bytes)
        except ValueError:
            raise ApiError(400, "400: Bad Request", 50109) from None
        request[JSON_BODY] = parsed
        return parsed

    def rate_limit(self, route: str, channel_id: int, method: str = "POST") -> dict[str, str]:
        """Take from a channel's bucket (an interaction's, for "followup"); the headers to
        send, or raise the 429 answer."""
        if not self.settings.rate_limits:
            return {}
        s = self.settings
        limit, window, bucket = {
            "create": (s.channel_message_limit, s.channel_message_window, BUCKET_MESSAGE_CREATE),
            "edit": (s.channel_message_limit, s.channel_message_window, BUCKET_MESSAGE_EDIT),
            "crosspost": (s.crosspost_limit, s.crosspost_window, BUCKET_CROSSPOST),
            "followup": (s.followup_limit, s.followup_window, BUCKET_FOLLOWUP),
            "webhook": (s.webhook_limit, s.webhook_window, BUCKET_WEBHOOK),
        }[route]
        state = self._buckets.get((route, channel_id))
        if state is None:
            state = self._buckets[(route, channel_id)] = FixedWindow(limit, window)
        state.limit, state.window = limit, window  # the settings may have changed
        now = time.monotonic()
        retry_after = state.take(now)
        headers = state.headers(now, bucket)
        if retry_after > 0:
            where = {
                "followup": f"/interactions/{channel_id}",
                "webhook": f"/webhooks/{channel_id}",
            }.get(route, f"/channels/{channel_id}")
            self.violations.append(
                Violation(now, method, f"{where} ({route})", "user", retry_after)
            )
            raise RateLimitedError(rate_limited(retry_after, is_global=False, extra=headers))
        return headers

    # -- lookups ------------------------------------------------------------------------

    def visible_channel(self, channel_id: str) -> tuple[Channel, int]:
        """The channel and the bot's permissions there, or Discord's error for it."""
        channel = self.world.channels.get(int(channel_id)) if channel_id.isdigit() else None
        if channel is None:
            raise unknown_channel()
        perms = self.world.bot_permissions(channel)
        if not perms & Perm.VIEW_CHANNEL:
            raise missing_access()
        return channel, perms

    def guild_of_bot(self, guild_id: str) -> Guild:
        guild = self.world.guilds.get(int(guild_id)) if guild_id.isdigit() else None
        if guild is None:
            raise ApiError(404, "Unknown Guild", 10004)
        if not guild.bot_present:
            raise missing_access()
        return guild

    # -- users, gateway, guilds, channels -----------------------------------------------

    async def get_me(self, request: web.Request) -> web.Response:
        me = {**self.world.bot.payload(), "verified": True, "mfa_enabled": False, "flags": 0}
        return json_response(me)

    async def get_application(self, request: web.Request) -> web.Response:
        world = self.world
        return json_response(
            {
                "id": str(world.application_id),
                "name": world.bot.username,
                "icon": None,
                "description": "",
                "summary": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": world.app_owner.payload(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": 0,
                "bot": world.bot.payload(),
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "approximate_guild_count": len(world.bot_guilds()),
            }
        )

    async def get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.gateway_url})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "url": self.gateway_url,
                "shards": self.settings.recommended_shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": max(1000 - self.session_starts, 0),
                    "reset_after": 86_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def get_channel(self, request: web.Request) -> web.Response:
        channel, _ = self.visible_channel(request.match_info["channel_id"])
        return json_response(channel.payload())

    async def get_guild(self, request: web.Request) -> web.Response:
        return json_response(self.guild_of_bot(request.match_info["guild_id"]).rest_payload())

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self.guild_of_bot(request.match_info["guild_id"])
        return json_response([c.payload() for c in guild.channels.values()])

    async def get_guild_roles(self, request: web.Request) -> web.Response:
        guild = self.guild_of_bot(request.match_info["guild_id"])
        return json_response([r.payload() for r in guild.roles.values()])

    async def get_member(self, request: web.Request) -> web.Response:
        guild = self.guild_of_bot(request.match_info["guild_id"])
        user_id = request.match_info["user_id"]
        member = guild.members.get(int(user_id)) if user_id.isdigit() else None
        if member is None:
            raise ApiError(404, "Unknown Member", 10007)
        return json_response(member.payload())

    async def not_found(self, request: web.Request) -> web.Response:
        return json_response({"message": "404: Not Found", "code": 0}, 404)

    def add_routes(self, app: web.Application) -> None:
        r = app.router
        p = API_PREFIX
        r.add_get(f"{p}/users/@me", self.get_me)
        r.add_get(f"{p}/oauth2/applications/@me", self.get_application)
        r.add_get(f"{p}/gateway", self.get_gateway)
        r.add_get(f"{p}/gateway/bot", self.get_gateway_bot)
        r.add_get(f"{p}/channels/{{channel_id}}", self.get_channel)
        r.add_get(f"{p}/guilds/{{guild_id}}", self.get_guild)
        r.add_get(f"{p}/guilds/{{guild_id}}/channels", self.get_guild_channels)
        r.add_get(f"{p}/guilds/{{guild_id}}/roles", self.get_guild_roles)
        r.add_get(f"{p}/guilds/{{guild_id}}/members/{{user_id}}", self.get_member)

    def add_fallback(self, app: web.Application) -> None:
        """Unknown routes answer in Discord's JSON shape; added after every other route."""
        app.router.add_route("*", "/{tail:.*}", self.not_found)


class RateLimitedError(Exception):
    """Carries the 429 answer out of a handler that ran over a route bucket."""

    def __init__(self, response: web.Response) -> None:
        super().__init__("rate limited")
        self.response = response
