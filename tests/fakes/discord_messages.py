"""Messages in the fake Discord: validation, mentions, storage, send/edit/crosspost routes."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.discord_rest import (
    API_PREFIX,
    JSON_BODY,
    ApiError,
    FormErrors,
    RateLimitedError,
    RestApi,
    json_response,
    missing_access,
    missing_permissions,
    unknown_message,
)
from tests.fakes.discord_world import (
    INTENT_GUILD_MESSAGES,
    MESSAGEABLE_TYPES,
    Channel,
    ChannelType,
    FakeSettings,
    Guild,
    JsonDict,
    Perm,
    World,
    iso_now,
)

FLAG_CROSSPOSTED = 1 << 0
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_COMPONENTS_V2 = 1 << 15
MAX_PINS = 50

# (guild id, event name, data, intent the event needs) towards the gateway.
EventSink = Callable[[int, str, JsonDict, int], int]


@dataclass
class SentMessage:
    """A message as the fake stored it, with what the client asked for."""

    id: int
    channel_id: int
    guild_id: int
    payload: JsonDict  # the Message object Discord would return
    request: JsonDict  # the JSON body as received
    kind: str = "channel"  # "channel", "interaction" or "followup"
    edits: list[JsonDict] = field(default_factory=list)
    created_at: float = field(default_factory=time.monotonic)

    @property
    def content(self) -> str:
        return str(self.payload.get("content", ""))

    @property
    def embeds(self) -> list[JsonDict]:
        return list(self.payload.get("embeds", []))

    @property
    def components(self) -> list[JsonDict]:
        return list(self.payload.get("components", []))

    @property
    def flags(self) -> int:
        return int(self.payload.get("flags", 0))

    @property
    def allowed_mentions(self) -> JsonDict | None:
        value = self.request.get("allowed_mentions")
        return value if isinstance(value, dict) else None

    @property
    def nonce(self) -> str | None:
        value = self.request.get("nonce")
        return None if value is None else str(value)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def crossposted(self) -> bool:
        return bool(self.flags & FLAG_CROSSPOSTED)

    @property
    def pinged_everyone(self) -> bool:
        return bool(self.payload.get("mention_everyone"))

    @property
    def pinged_user_ids(self) -> list[int]:
        return [int(u["id"]) for u in self.payload.get("mentions", [])]

    @property
    def pinged_role_ids(self) -> list[int]:
        return [int(r) for r in self.payload.get("mention_roles", [])]


# -- message validation and mentions ------------------------------------------------------

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_EVERYONE = re.compile(r"@(everyone|here)")


def validate_message_body(body: JsonDict, errors: FormErrors) -> None:
    """The limits Discord enforces on a message (content, embeds, components, mentions)."""
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        errors.add(("content",), "BASE_TYPE_STRING", "Must be a string.")
    errors.max_length(("content",), content, 2000)
    embeds = body.get("embeds") or []
    errors.max_length(("embeds",), embeds, 10)
    total = 0
    for i, embed in enumerate(embeds):
        where: tuple[str | int, ...] = ("embeds", i)
        errors.max_length((*where, "title"), embed.get("title"), 256)
        errors.max_length((*where, "description"), embed.get("description"), 4096)
        fields = embed.get("fields") or []
        errors.max_length((*where, "fields"), fields, 25)
        for j, fld in enumerate(fields):
            for key, limit in (("name", 256), ("value", 1024)):
                text = fld.get(key)
                if not text:
                    errors.add((*where, "fields", j, key), "BASE_TYPE_REQUIRED", "Required.")
                errors.max_length((*where, "fields", j, key), text, limit)
                total += len(text or "")
        footer = (embed.get("footer") or {}).get("text")
        author = (embed.get("author") or {}).get("name")
        errors.max_length((*where, "footer", "text"), footer, 2048)
        errors.max_length((*where, "author", "name"), author, 256)
        color = embed.get("color")
        if color is not None and not 0 <= int(color) <= 0xFFFFFF:
            errors.add((*where, "color"), "NUMBER_TYPE_MAX", "Must be 16777215 or less.")
        for text in (embed.get("title"), embed.get("description"), footer, author):
            total += len(text or "")
    if total > 6000:
        errors.add(("embeds",), "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds 6000")
    if not int(body.get("flags") or 0) & FLAG_COMPONENTS_V2:
        _validate_action_rows(body.get("components") or [], errors)
    _validate_allowed_mentions(body.get("allowed_mentions"), errors)
    nonce = body.get("nonce")
    if isinstance(nonce, str) and len(nonce) > 25:
        errors.add(("nonce",), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")


def _validate_action_rows(rows: list[JsonDict], errors: FormErrors) -> None:
    errors.max_length(("components",), rows, 5)
    for i, row in enumerate(rows):
        if row.get("type") != 1:
            errors.add(("components", i, "type"), "UNION_TYPE_CHOICES", "Must be an action row.")
            continue
        children = row.get("components") or []
        errors.max_length(("components", i, "components"), children, 5)
        for j, comp in enumerate(children):
            where: tuple[str | int, ...] = ("components", i, "components", j)
            if comp.get("type") != 2:
                continue
            errors.max_length((*where, "label"), comp.get("label"), 80)
            if comp.get("style") == 5:
                if not comp.get("url"):
                    errors.add((*where, "url"), "BUTTON_COMPONENT_URL_REQUIRED", "Required.")
                if comp.get("custom_id"):
                    errors.add(
                        (*where, "custom_id"),
                        "BUTTON_COMPONENT_INVALID_CUSTOM_ID",
                        "A link button cannot have a custom id.",
                    )
            elif comp.get("style") != 6 and not comp.get("custom_id"):
                errors.add((*where, "custom_id"), "BUTTON_CUSTOM_ID_REQUIRED", "Required.")
            errors.max_length((*where, "custom_id"), comp.get("custom_id"), 100)


def _validate_allowed_mentions(value: Any, errors: FormErrors) -> None:
    if not isinstance(value, dict):
        return
    parse = value.get("parse") or []
    for i, kind in enumerate(parse):
        if kind not in ("users", "roles", "everyone"):
            errors.add(("allowed_mentions", "parse", i), "BASE_TYPE_CHOICES", "Invalid choice.")
    for kind in ("users", "roles"):
        if kind in parse and value.get(kind):
            errors.add(
                ("allowed_mentions",),
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )
        errors.max_length(("allowed_mentions", kind), value.get(kind), 100)


def resolve_mentions(
    world: World, guild: Guild, content: str, allowed: Any, permissions: int
) -> tuple[bool, list[JsonDict], list[str]]:
    """Who a message really pings: the text, filtered by allowed_mentions and permissions."""
    if isinstance(allowed, dict):
        parse = set(allowed.get("parse") or [])
        allowed_users = {int(u) for u in allowed.get("users") or []}
        allowed_roles = {int(r) for r in allowed.get("roles") or []}
    else:  # no allowed_mentions: Discord parses everything
        parse, allowed_users, allowed_roles = {"users", "roles", "everyone"}, set(), set()
    can_ping_all = bool(permissions & Perm.MENTION_EVERYONE)
    everyone = "everyone" in parse and can_ping_all and bool(_EVERYONE.search(content))
    users: list[JsonDict] = []
    for raw in dict.fromkeys(_USER_MENTION.findall(content)):
        uid = int(raw)
        user = world.users.get(uid)
        if user is not None and ("users" in parse or uid in allowed_users):
            users.append(user.payload())
    roles: list[str] = []
    for raw in dict.fromkeys(_ROLE_MENTION.findall(content)):
        role = guild.roles.get(int(raw))
        if role is None or not ("roles" in parse or role.id in allowed_roles):
            continue
        if role.mentionable or can_ping_all:
            roles.append(str(role.id))
    return everyone, users, roles


class Messages:
    """Every message the fake holds, and the channel message routes."""

    def __init__(
        self, world: World, settings: FakeSettings, rest: RestApi, events: EventSink
    ) -> None:
        self.world = world
        self.settings = settings
        self.rest = rest
        self.events = events
        self.messages: dict[int, SentMessage] = {}
        self.by_channel: dict[int, list[SentMessage]] = {}
        self._nonces: dict[tuple[int, str], SentMessage] = {}
        # Messages built, kept or not (FakeSettings.record).
        self.sent_count = 0
        # (channel id, message id) of each pin, in order.
        self.pins: list[tuple[int, int]] = []

    # -- messages -----------------------------------------------------------------------

    def build_message(
        self,
        channel: Channel,
        body: JsonDict,
        perms: int,
        *,
        kind: str,
        flags: int = 0,
        extra: JsonDict | None = None,
    ) -> SentMessage:
        world = self.world
        guild = world.guilds[channel.guild_id]
        content = body.get("content") or ""
        everyone, users, roles = resolve_mentions(
            world, guild, content, body.get("allowed_mentions"), perms
        )
        mid = world.snowflake()
        payload: JsonDict = {
            "id": str(mid),
            "type": 0,
            "channel_id": str(channel.id),
            "author": world.bot.payload(),
            "content": content,
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts")),
            "mention_everyone": everyone,
            "mentions": users,
            "mention_roles": roles,
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "reactions": [],
            "pinned": False,
            "flags": flags | int(body.get("flags") or 0),
            "components": body.get("components") or [],
        }
        if body.get("nonce") is not None:
            payload["nonce"] = body["nonce"]
        if extra:
            payload.update(extra)
        message = SentMessage(mid, channel.id, channel.guild_id, payload, body, kind)
        self.sent_count += 1
        if self.settings.record:
            self.messages[mid] = message
            self.by_channel.setdefault(channel.id, []).append(message)
        channel.last_message_id = mid
        if self.settings.echo_messages and not payload["flags"] & FLAG_EPHEMERAL:
            self.events(
                channel.guild_id,
                "MESSAGE_CREATE",
                {**payload, "guild_id": str(channel.guild_id)},
                INTENT_GUILD_MESSAGES,
            )
        return message

    def check_embed_permission(self, body: JsonDict, perms: int) -> JsonDict:
        """Without EMBED_LINKS Discord drops embeds, and refuses a message of embeds only."""
        if not body.get("embeds") or perms & Perm.EMBED_LINKS:
            return body
        if not body.get("content") and not body.get("components"):
            raise missing_permissions()
        return {**body, "embeds": []}

    @staticmethod
    def require_not_empty(body: JsonDict) -> None:
        keys = ("content", "embeds", "components", "sticker_ids", "poll", "__files__")
        if not any(body.get(k) for k in keys):
            raise ApiError(400, "Cannot send an empty message", 50006)

    async def create_message(self, request: web.Request) -> web.Response:
        channel_id = request.match_info["channel_id"]
        headers: dict[str, str] = {}
        if channel_id.isdigit() and int(channel_id) in self.world.channels:
            # Refused requests count against the bucket too, and carry its headers.
            try:
                headers = self.rest.rate_limit("create", int(channel_id))
            except RateLimitedError as exc:
                return exc.response
        try:
            return self._create(request, channel_id, headers)
        except ApiError as exc:
            exc.headers = headers
            raise

    def _create(
        self, request: web.Request, channel_id: str, headers: dict[str, str]
    ) -> web.Response:
        channel, perms = self.rest.visible_channel(channel_id)
        if channel.type not in MESSAGEABLE_TYPES:
            raise ApiError(400, "Cannot send messages in a non-text channel", 50008)
        if not perms & Perm.SEND_MESSAGES:
            raise missing_permissions()
        body: JsonDict = request.get(JSON_BODY) or {}
        errors = FormErrors()
        validate_message_body(body, errors)
        errors.raise_if_any()
        self.require_not_empty(body)
        body = self.check_embed_permission(body, perms)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            key = (channel.id, str(nonce))
            earlier = self._nonces.get(key)
            if earlier is not None and (
                time.monotonic() - earlier.created_at < self.settings.nonce_window
            ):
                return json_response(earlier.payload, 200, headers)
        message = self.build_message(channel, body, perms, kind="channel")
        if nonce is not None and body.get("enforce_nonce"):
            self._nonces[(channel.id, str(nonce))] = message
        return json_response(message.payload, 200, headers)

    def own_message(self, channel: Channel, message_id: str) -> SentMessage:
        message = self.messages.get(int(message_id)) if message_id.isdigit() else None
        if message is None or message.channel_id != channel.id:
            raise unknown_message()
        return message

    def apply_edit(self, message: SentMessage, body: JsonDict, perms: int) -> None:
        errors = FormErrors()
        validate_message_body(body, errors)
        errors.raise_if_any()
        payload = message.payload
        for key, empty in (("content", ""), ("embeds", []), ("components", [])):
            if key in body:
                payload[key] = body[key] if body[key] is not None else empty
        if "flags" in body and body["flags"] is not None:
            # Only SUPPRESS_EMBEDS may be toggled by an edit.
            keep = payload["flags"] & ~FLAG_SUPPRESS_EMBEDS
            payload["flags"] = keep | (int(body["flags"]) & FLAG_SUPPRESS_EMBEDS)
        if "content" in body or "allowed_mentions" in body:
            guild = self.world.guilds[message.guild_id]
            allowed = body.get("allowed_mentions", message.request.get("allowed_mentions"))
            everyone, users, roles = resolve_mentions(
                self.world, guild, payload["content"], allowed, perms
            )
            payload.update(mention_everyone=everyone, mentions=users, mention_roles=roles)
        payload["edited_timestamp"] = iso_now()
        message.edits.append(body)

    async def edit_message(self, request: web.Request) -> web.Response:
        channel, perms = self.rest.visible_channel(request.match_info["channel_id"])
        message = self.own_message(channel, request.match_info["message_id"])
        try:
            headers = self.rest.rate_limit("edit", channel.id, "PATCH")
        except RateLimitedError as exc:
            return exc.response
        body: JsonDict = request.get(JSON_BODY) or {}
        self.apply_edit(message, body, perms)
        return json_response(message.payload, 200, headers)

    async def get_message(self, request: web.Request) -> web.Response:
        channel, perms = self.rest.visible_channel(request.match_info["channel_id"])
        if not perms & Perm.READ_MESSAGE_HISTORY:
            raise missing_access()
        message = self.own_message(channel, request.match_info["message_id"])
        if message.ephemeral:
            raise unknown_message()
        return json_response(message.payload)

    async def delete_message(self, request: web.Request) -> web.Response:
        channel, _ = self.rest.visible_channel(request.match_info["channel_id"])
        message = self.own_message(channel, request.match_info["message_id"])
        del self.messages[message.id]
        self.by_channel[channel.id].remove(message)
        return web.Response(status=204)

    async def crosspost(self, request: web.Request) -> web.Response:
        channel, perms = self.rest.visible_channel(request.match_info["channel_id"])
        if channel.type != ChannelType.ANNOUNCEMENT:
            raise ApiError(400, "Cannot execute action on this channel type", 50024)
        if not perms & Perm.SEND_MESSAGES:
            raise missing_permissions()
        message = self.own_message(channel, request.match_info["message_id"])
        if message.crossposted:
            raise ApiError(400, "This message has already been crossposted.", 40033)
        try:
            headers = self.rest.rate_limit("crosspost", channel.id)
        except RateLimitedError as exc:
            return exc.response
        message.payload["flags"] |= FLAG_CROSSPOSTED
        return json_response(message.payload, 200, headers)

    async def pin(self, request: web.Request) -> web.Response:
        """Pin a message: needs Pin Messages (or Manage Messages); at most 50 per channel."""
        channel, perms = self.rest.visible_channel(request.match_info["channel_id"])
        if not perms & (Perm.PIN_MESSAGES | Perm.MANAGE_MESSAGES):
            raise missing_permissions()
        message = self.own_message(channel, request.match_info["message_id"])
        pinned = [m for m in self.by_channel.get(channel.id, []) if m.payload.get("pinned")]
        if message.payload.get("pinned"):
            return web.Response(status=204)
        if len(pinned) >= MAX_PINS:
            raise ApiError(400, "Maximum number of pins reached (50)", 30003)
        message.payload["pinned"] = True
        self.pins.append((channel.id, message.id))
        return web.Response(status=204)

    async def unpin(self, request: web.Request) -> web.Response:
        channel, perms = self.rest.visible_channel(request.match_info["channel_id"])
        if not perms & (Perm.PIN_MESSAGES | Perm.MANAGE_MESSAGES):
            raise missing_permissions()
        message = self.own_message(channel, request.match_info["message_id"])
        message.payload["pinned"] = False
        return web.Response(status=204)

    def add_routes(self, app: web.Application) -> None:
        r = app.router
        for pins in (
            f"{API_PREFIX}/channels/{{channel_id}}/pins/{{message_id}}",
            f"{API_PREFIX}/channels/{{channel_id}}/messages/pins/{{message_id}}",
        ):
            r.add_put(pins, self.pin)
            r.add_delete(pins, self.unpin)
        msgs = f"{API_PREFIX}/channels/{{channel_id}}/messages"
        r.add_post(msgs, self.create_message)
        msg = f"{msgs}/{{message_id}}"
        r.add_get(msg, self.get_message)
        r.add_patch(msg, self.edit_message)
        r.add_delete(msg, self.delete_message)
        r.add_post(f"{msg}/crosspost", self.crosspost)
