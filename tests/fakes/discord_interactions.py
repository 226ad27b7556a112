"""Application commands and interactions in the fake Discord: registry, payloads, callbacks."""

from __future__ import annotations

import asyncio
import secrets
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.discord_messages import (
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    Messages,
    SentMessage,
    validate_message_body,
)
from tests.fakes.discord_rest import (
    API_PREFIX,
    JSON_BODY,
    ApiError,
    FormErrors,
    RateLimitedError,
    RestApi,
    json_response,
)
from tests.fakes.discord_webhooks import ChannelWebhooks
from tests.fakes.discord_world import (
    ALL_PERMISSIONS,
    Channel,
    FakeSettings,
    Guild,
    JsonDict,
    Perm,
    World,
)

INTERACTION_COMMAND = 2
INTERACTION_COMPONENT = 3
INTERACTION_AUTOCOMPLETE = 4
INTERACTION_MODAL_SUBMIT = 5

# Which callback types Discord accepts for each interaction type.
_ALLOWED_CALLBACKS = {
    INTERACTION_COMMAND: {4, 5, 9, 12},
    INTERACTION_COMPONENT: {4, 5, 6, 7, 9},
    INTERACTION_AUTOCOMPLETE: {8},
    INTERACTION_MODAL_SUBMIT: {4, 5, 6, 7},
}

OPT_SUB_COMMAND = 1
OPT_SUB_COMMAND_GROUP = 2
OPT_STRING = 3
OPT_INTEGER = 4
OPT_BOOLEAN = 5
OPT_USER = 6
OPT_CHANNEL = 7
OPT_ROLE = 8
OPT_MENTIONABLE = 9
OPT_NUMBER = 10

# How long past the deadline `response()` still waits for a (late) callback.
RESPONSE_GRACE = 2.0
# Follow-ups may come much later than the first answer; tests wait this long at most.
FOLLOWUP_WAIT = 10.0

# The locales Discord accepts as keys of name and description localizations.
# fmt: off
DISCORD_LOCALES = frozenset({
    "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl",
    "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi",
    "th", "zh-CN", "ja", "zh-TW", "ko",
})
# fmt: on


class CommandUnavailable(Exception):
    """Discord would not let this member run the command (default_member_permissions)."""


@dataclass
class CallbackRecord:
    interaction_id: int
    interaction_type: int
    command: str
    response_type: int | None
    data: JsonDict
    latency: float  # seconds from dispatch to the callback's arrival at the fake
    status: int  # what the fake answered the callback with
    with_response: bool

    @property
    def flags(self) -> int:
        return int(self.data.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)


@dataclass
class PendingInteraction:
    id: int
    token: str
    type: int
    guild_id: int
    channel_id: int
    user_id: int
    command: str
    payload: JsonDict
    created_at: float
    deadline: float
    future: asyncio.Future[CallbackRecord]
    sent_at: float | None = None  # when the gateway frame left the fake
    responded: bool = False
    response_type: int | None = None
    original: SentMessage | None = None
    # For a button press: the message whose button was pressed (deferred updates edit it).
    component_message: SentMessage | None = None
    followups: list[SentMessage] = field(default_factory=list)
    followup_added: asyncio.Condition = field(default_factory=asyncio.Condition)

    def mark_sent(self) -> None:
        if self.sent_at is None:
            self.sent_at = time.monotonic()

    @property
    def dispatched_at(self) -> float:
        return self.sent_at if self.sent_at is not None else self.created_at


class InteractionHandle:
    """What a test holds after dispatching an interaction."""

    def __init__(self, pending: PendingInteraction) -> None:
        self._pending = pending

    @property
    def id(self) -> int:
        return self._pending.id

    @property
    def token(self) -> str:
        return self._pending.token

    @property
    def payload(self) -> JsonDict:
        return self._pending.payload

    @property
    def original(self) -> SentMessage | None:
        return self._pending.original

    @property
    def followups(self) -> list[SentMessage]:
        return list(self._pending.followups)

    async def response(self) -> CallbackRecord:
        """The first callback the client sent (whatever the fake answered it).

        Gives up a little after the deadline: past it Discord has shown the user an error.
        """
        wait = self._pending.deadline + RESPONSE_GRACE
        return await asyncio.wait_for(asyncio.shield(self._pending.future), wait)

    async def wait_followups(self, count: int = 1) -> list[SentMessage]:
        pending = self._pending
        async with asyncio.timeout(FOLLOWUP_WAIT), pending.followup_added:
            await pending.followup_added.wait_for(lambda: len(pending.followups) >= count)
        return self.followups


def _unknown_interaction() -> ApiError:
    return ApiError(404, "Unknown interaction", 10062)


def _unknown_webhook() -> ApiError:
    return ApiError(404, "Unknown Webhook", 10015)


class Interactions:
    """Command registry, interaction payloads and the callback / follow-up endpoints."""

    def __init__(
        self, world: World, settings: FakeSettings, rest: RestApi, messages: Messages
    ) -> None:
        self.world = world
        self.settings = settings
        self.rest = rest
        self.store = messages
        self.commands: list[JsonDict] = []
        self.guild_commands: dict[int, list[JsonDict]] = {}
        self.callbacks: list[CallbackRecord] = []
        self._by_id: dict[int, PendingInteraction] = {}
        self._by_token: dict[str, PendingInteraction] = {}
        # Channel webhooks share the /webhooks/{id}/{token} routes with follow-ups.
        self.webhooks: ChannelWebhooks | None = None

    # -- commands -----------------------------------------------------------------------

    def _check_app(self, app_id: str) -> None:
        if app_id != str(self.world.application_id):
            raise ApiError(403, "Missing Access", 50001)

    def _register(
        self, body: Any, existing: list[JsonDict], guild_id: int | None
    ) -> list[JsonDict]:
        if not isinstance(body, list):
            raise ApiError(400, "Invalid Form Body", 50035)
        errors = FormErrors()
        errors.max_length((), body, 100)
        seen: set[tuple[str, int]] = set()
        old_ids = {(c["name"], c["type"]): c["id"] for c in existing}
        result: list[JsonDict] = []
        for i, cmd in enumerate(body):
            kind = int(cmd.get("type", 1))
            name = str(cmd.get("name", ""))
            _validate_command(cmd, kind, (i,), errors)
            if (name, kind) in seen:
                errors.add((i, "name"), "APPLICATION_COMMANDS_DUPLICATE_NAME", "Duplicate name")
            seen.add((name, kind))
            stored = {
                "type": 1,
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                **cmd,
                "id": old_ids.get((name, kind)) or str(self.world.snowflake()),
                "application_id": str(self.world.application_id),
                "version": str(self.world.snowflake()),
            }
            if stored["default_member_permissions"] is not None:
                # Permission sets travel as strings (they outgrow 53-bit numbers).
                stored["default_member_permissions"] = str(stored["default_member_permissions"])
            if guild_id is not None:
                stored["guild_id"] = str(guild_id)
            result.append(stored)
        errors.raise_if_any()
        return result

    async def put_global(self, request: web.Request) -> web.Response:
        self._check_app(request.match_info["app_id"])
        self.commands = self._register(request.get(JSON_BODY), self.commands, None)
        return json_response(self.commands)

    async def get_global(self, request: web.Request) -> web.Response:
        self._check_app(request.match_info["app_id"])
        return json_response(self.commands)

    async def put_guild(self, request: web.Request) -> web.Response:
        self._check_app(request.match_info["app_id"])
        guild = self.rest.guild_of_bot(request.match_info["guild_id"])
        old = self.guild_commands.get(guild.id, [])
        self.guild_commands[guild.id] = self._register(request.get(JSON_BODY), old, guild.id)
        return json_response(self.guild_commands[guild.id])

    async def get_guild(self, request: web.Request) -> web.Response:
        self._check_app(request.match_info["app_id"])
        guild = self.rest.guild_of_bot(request.match_info["guild_id"])
        return json_response(self.guild_commands.get(guild.id, []))

    def find_command(self, name: str, guild_id: int) -> JsonDict | None:
        for cmd in [*self.guild_commands.get(guild_id, []), *self.commands]:
            if cmd["name"] == name and cmd.get("type", 1) == 1:
                return cmd
        return None

    # -- building interactions ----------------------------------------------------------

    def create(
        self,
        *,
        kind: int,
        guild_id: int,
        channel_id: int,
        user_id: int,
        command: str,
        options: dict[str, Any],
        focused: str | None,
        member_permissions: int | None,
        locale: str,
        enforce_default_permissions: bool,
    ) -> PendingInteraction:
        world = self.world
        guild = world.guilds[guild_id]
        channel = world.channels[channel_id]
        member = guild.members.get(user_id)
        if member is None:
            raise ValueError(f"user {user_id} is not a member of guild {guild_id}")
        perms = (
            member_permissions
            if member_permissions is not None
            else world.channel_permissions(channel, user_id)
        )
        registered = self.find_command(command, guild_id)
        if registered is not None and enforce_default_permissions:
            required = registered.get("default_member_permissions")
            if required is not None and not _has(perms, int(required)):
                raise CommandUnavailable(f"/{command} needs permissions {required}")
        schema = {o["name"]: o for o in (registered or {}).get("options", [])}
        resolved: JsonDict = {}
        built = self._options(
            options, schema, guild, user_id, resolved, focused, strict=bool(registered)
        )
        data: JsonDict = {
            "id": registered["id"] if registered else str(world.snowflake()),
            "name": command,
            "type": 1,
            "options": built,
        }
        if registered and registered.get("guild_id"):
            data["guild_id"] = registered["guild_id"]
        if resolved:
            data["resolved"] = resolved
        iid = world.snowflake()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        payload: JsonDict = {
            "id": str(iid),
            "application_id": str(world.application_id),
            "type": kind,
            "data": data,
            "guild_id": str(guild_id),
            "guild": {"id": str(guild_id), "locale": guild.preferred_locale, "features": []},
            "channel_id": str(channel_id),
            "channel": {**channel.payload(), "permissions": str(perms)},
            "member": member.payload(permissions=perms),
            "token": token,
            "version": 1,
            "app_permissions": str(world.bot_permissions(channel)),
            "locale": locale,
            "guild_locale": guild.preferred_locale,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0,
            "attachment_size_limit": 10_485_760,
        }
        loop = asyncio.get_running_loop()
        pending = PendingInteraction(
            iid,
            token,
            kind,
            guild_id,
            channel_id,
            user_id,
            command,
            payload,
            time.monotonic(),
            self.settings.interaction_deadline,
            loop.create_future(),
        )
        self._by_id[iid] = pending
        self._by_token[token] = pending
        return pending

    def create_component(
        self,
        *,
        guild_id: int,
        channel_id: int,
        user_id: int,
        message: SentMessage,
        custom_id: str,
    ) -> PendingInteraction:
        """A press of the button `custom_id` under `message` (INTERACTION_CREATE type 3)."""
        world = self.world
        guild = world.guilds[guild_id]
        channel = world.channels[channel_id]
        member = guild.members.get(user_id)
        if member is None:
            raise ValueError(f"user {user_id} is not a member of guild {guild_id}")
        buttons = [c for row in message.components for c in row.get("components", [])]
        if custom_id not in [b.get("custom_id") for b in buttons]:
            raise ValueError(f"no button {custom_id!r} under message {message.id}")
        perms = world.channel_permissions(channel, user_id)
        iid = world.snowflake()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        payload: JsonDict = {
            "id": str(iid),
            "application_id": str(world.application_id),
            "type": INTERACTION_COMPONENT,
            "data": {"custom_id": custom_id, "component_type": 2},
            "guild_id": str(guild_id),
            "guild": {"id": str(guild_id), "locale": "en-US", "features": []},
            "channel_id": str(channel_id),
            "channel": {**channel.payload(), "permissions": str(perms)},
            "member": member.payload(permissions=perms),
            "message": {**message.payload, "guild_id": str(guild_id)},
            "token": token,
            "version": 1,
            "app_permissions": str(world.bot_permissions(channel)),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0,
            "attachment_size_limit": 10_485_760,
        }
        pending = PendingInteraction(
            iid,
            token,
            INTERACTION_COMPONENT,
            guild_id,
            channel_id,
            user_id,
            custom_id,
            payload,
            time.monotonic(),
            self.settings.interaction_deadline,
            asyncio.get_running_loop().create_future(),
            component_message=message,
        )
        self._by_id[iid] = pending
        self._by_token[token] = pending
        return pending

    def _options(
        self,
        given: dict[str, Any],
        schema: dict[str, JsonDict],
        guild: Guild,
        invoker: int,
        resolved: JsonDict,
        focused: str | None,
        *,
        strict: bool,
    ) -> list[JsonDict]:
        if strict:
            unknown = set(given) - set(schema)
            if unknown:
                raise ValueError(f"options not in the registered command: {sorted(unknown)}")
            missing = [n for n, o in schema.items() if o.get("required") and n not in given]
            if missing and focused is None:
                raise ValueError(f"required options missing: {missing}")
        built: list[JsonDict] = []
        for name, value in given.items():
            spec = schema.get(name)
            kind = int(spec["type"]) if spec else self._infer_type(value, guild)
            if kind in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP):
                sub_schema = {o["name"]: o for o in (spec or {}).get("options", [])}
                sub = self._options(
                    value, sub_schema, guild, invoker, resolved, focused, strict=strict
                )
                built.append({"name": name, "type": kind, "options": sub})
                continue
            option: JsonDict = {"name": name, "type": kind, "value": value}
            if name == focused:
                option["focused"] = True
                option["value"] = str(value)
            elif kind in (OPT_USER, OPT_CHANNEL, OPT_ROLE, OPT_MENTIONABLE):
                option["value"] = str(value)
                self._resolve(int(value), kind, guild, invoker, resolved)
            elif (
                spec and spec.get("choices") and value not in [c["value"] for c in spec["choices"]]
            ):
                raise ValueError(f"{value!r} is not a choice of option {name!r}")
            built.append(option)
        return built

    def _infer_type(self, value: Any, guild: Guild) -> int:
        if isinstance(value, bool):
            return OPT_BOOLEAN
        if isinstance(value, float):
            return OPT_NUMBER
        if isinstance(value, int):
            # Snowflakes are unique across kinds, so an id says what it names.
            if value in guild.channels:
                return OPT_CHANNEL
            if value in guild.roles:
                return OPT_ROLE
            if value in self.world.users:
                return OPT_USER
            return OPT_INTEGER
        return OPT_STRING

    def _resolve(
        self, target: int, kind: int, guild: Guild, invoker: int, resolved: JsonDict
    ) -> None:
        world = self.world
        if target in guild.channels and kind == OPT_CHANNEL:
            channel = guild.channels[target]
            # Discord resolves a channel with the invoking member's permissions, not the bot's.
            perms = world.channel_permissions(channel, invoker)
            entry = {**channel.payload(), "permissions": str(perms)}
            resolved.setdefault("channels", {})[str(target)] = entry
        elif target in guild.roles and kind in (OPT_ROLE, OPT_MENTIONABLE):
            resolved.setdefault("roles", {})[str(target)] = guild.roles[target].payload()
        elif target in world.users and kind in (OPT_USER, OPT_MENTIONABLE):
            resolved.setdefault("users", {})[str(target)] = world.users[target].payload()
            member = guild.members.get(target)
            if member is not None:
                entry = member.payload(permissions=world.base_permissions(guild, target))
                del entry["user"]
                resolved.setdefault("members", {})[str(target)] = entry
        else:
            raise ValueError(f"option value {target} does not name a {kind} in this guild")

    # -- callbacks and follow-ups -------------------------------------------------------

    async def callback(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        iid = request.match_info["interaction_id"]
        pending = self._by_id.get(int(iid)) if iid.isdigit() else None
        if pending is None or pending.token != request.match_info["token"]:
            raise _unknown_interaction()
        body: JsonDict = request.get(JSON_BODY) or {}
        rtype = body.get("type")
        data: JsonDict = body.get("data") or {}
        with_response = request.query.get("with_response", "").lower() in ("1", "true")
        record = CallbackRecord(
            pending.id,
            pending.type,
            pending.command,
            rtype if isinstance(rtype, int) else None,
            data,
            now - pending.dispatched_at,
            200 if with_response else 204,
            with_response,
        )
        try:
            response = self._accept_callback(pending, body, now, with_response)
        except ApiError as exc:
            record.status = exc.status
            raise
        finally:
            self.callbacks.append(record)
            if not pending.future.done():
                pending.future.set_result(record)
        return response

    def _accept_callback(
        self, pending: PendingInteraction, body: JsonDict, now: float, with_response: bool
    ) -> web.Response:
        if now - pending.dispatched_at > pending.deadline:
            raise _unknown_interaction()
        if pending.responded:
            raise ApiError(400, "Interaction has already been acknowledged.", 40060)
        rtype = body.get("type")
        if rtype not in _ALLOWED_CALLBACKS[pending.type]:
            errors = FormErrors()
            errors.add(("type",), "INTERACTION_CALLBACK_TYPE_INVALID", "Invalid callback type")
            errors.raise_if_any()
        data: JsonDict = body.get("data") or {}
        message: SentMessage | None = None
        if rtype == 8:
            choices = data.get("choices") or []
            errors = FormErrors()
            errors.max_length(("data", "choices"), choices, 25)
            errors.raise_if_any()
        elif rtype == 4:
            errors = FormErrors()
            validate_message_body(data, errors)
            errors.raise_if_any()
            self.store.require_not_empty(data)
            message = self._interaction_message(pending, data, kind="interaction")
        elif rtype == 5:
            flags = FLAG_LOADING | (int(data.get("flags") or 0) & FLAG_EPHEMERAL)
            message = self._interaction_message(pending, {"flags": flags}, kind="interaction")
        elif rtype == 6:
            # A deferred update: the pressed message is the one later edits change.
            message = pending.component_message
        elif rtype == 7:
            message = pending.component_message
            if message is not None:
                self.store.apply_edit(message, data, int(pending.payload["app_permissions"]))
        pending.responded = True
        pending.response_type = rtype
        pending.original = message
        if not with_response:
            return web.Response(status=204)
        answer: JsonDict = {"id": str(pending.id), "type": pending.type}
        resource: JsonDict = {"type": rtype}
        if message is not None:
            answer["response_message_id"] = str(message.id)
            answer["response_message_loading"] = rtype == 5
            answer["response_message_ephemeral"] = message.ephemeral
            resource["message"] = message.payload
        return json_response({"interaction": answer, "resource": resource})

    def _interaction_message(
        self, pending: PendingInteraction, data: JsonDict, *, kind: str
    ) -> SentMessage:
        channel: Channel = self.world.channels[pending.channel_id]
        user = self.world.users[pending.user_id]
        app_id = str(self.world.application_id)
        extra: JsonDict = {
            "type": 20 if kind == "interaction" else 0,
            "webhook_id": app_id,
            "application_id": app_id,
            "interaction_metadata": {
                "id": str(pending.id),
                "type": pending.type,
                "name": pending.command,
                "user": user.payload(),
                "authorizing_integration_owners": {"0": str(pending.guild_id)},
            },
        }
        perms = int(pending.payload["app_permissions"])
        return self.store.build_message(channel, data, perms, kind=kind, extra=extra)

    def _followup_target(self, request: web.Request) -> PendingInteraction:
        if request.match_info["app_id"] != str(self.world.application_id):
            raise _unknown_webhook()
        pending = self._by_token.get(request.match_info["token"])
        if pending is None or not pending.responded:
            raise _unknown_webhook()
        if time.monotonic() - pending.dispatched_at > self.settings.followup_ttl:
            raise ApiError(401, "Invalid Webhook Token", 50027)
        return pending

    async def followup(self, request: web.Request) -> web.Response:
        if self.webhooks is not None and self.webhooks.owns(request.match_info["app_id"]):
            return await self.webhooks.execute(request)
        pending = self._followup_target(request)
        try:
            headers = self.rest.rate_limit("followup", pending.id)
        except RateLimitedError as exc:
            return exc.response
        body: JsonDict = request.get(JSON_BODY) or {}
        errors = FormErrors()
        validate_message_body(body, errors)
        errors.raise_if_any()
        self.store.require_not_empty(body)
        message = self._interaction_message(pending, body, kind="followup")
        pending.followups.append(message)
        async with pending.followup_added:
            pending.followup_added.notify_all()
        if request.query.get("wait", "").lower() in ("1", "true"):
            return json_response(message.payload, 200, headers)
        return web.Response(status=204, headers=headers)

    def _webhook_message(self, request: web.Request) -> tuple[PendingInteraction, SentMessage]:
        pending = self._followup_target(request)
        mid = request.match_info["message_id"]
        if mid == "@original":
            message = pending.original
        else:
            message = next((m for m in pending.followups if str(m.id) == mid), None)
        if message is None:
            raise ApiError(404, "Unknown Message", 10008)
        return pending, message

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        if self.webhooks is not None and self.webhooks.owns(request.match_info["app_id"]):
            return await self.webhooks.get(request)
        _, message = self._webhook_message(request)
        return json_response(message.payload)

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        if self.webhooks is not None and self.webhooks.owns(request.match_info["app_id"]):
            return await self.webhooks.edit(request)
        pending, message = self._webhook_message(request)
        try:
            headers = self.rest.rate_limit("followup", pending.id, "PATCH")
        except RateLimitedError as exc:
            return exc.response
        body: JsonDict = request.get(JSON_BODY) or {}
        perms = int(pending.payload["app_permissions"])
        self.store.apply_edit(message, body, perms)
        message.payload["flags"] &= ~FLAG_LOADING  # editing a deferred reply completes it
        return json_response(message.payload, 200, headers)

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        if self.webhooks is not None and self.webhooks.owns(request.match_info["app_id"]):
            return await self.webhooks.delete_message(request)
        pending, message = self._webhook_message(request)
        if message is pending.original:
            pending.original = None
        else:
            pending.followups.remove(message)
        return web.Response(status=204)

    def add_routes(self, app: web.Application) -> None:
        r = app.router
        p = API_PREFIX
        r.add_put(f"{p}/applications/{{app_id}}/commands", self.put_global)
        r.add_get(f"{p}/applications/{{app_id}}/commands", self.get_global)
        guild_cmds = f"{p}/applications/{{app_id}}/guilds/{{guild_id}}/commands"
        r.add_put(guild_cmds, self.put_guild)
        r.add_get(guild_cmds, self.get_guild)
        r.add_post(f"{p}/interactions/{{interaction_id}}/{{token}}/callback", self.callback)
        hook = f"{p}/webhooks/{{app_id}}/{{token}}"
        r.add_post(hook, self.followup)
        r.add_get(f"{hook}/messages/{{message_id}}", self.get_webhook_message)
        r.add_patch(f"{hook}/messages/{{message_id}}", self.edit_webhook_message)
        r.add_delete(f"{hook}/messages/{{message_id}}", self.delete_webhook_message)


def _is_choice(spec: JsonDict, value: Any) -> bool:
    """Whether a client could send `value` for this option (anything, without choices)."""
    choices = spec.get("choices")
    return not choices or value in [c["value"] for c in choices]


def _has(perms: int, required: int) -> bool:
    """Whether a member passes a command's default_member_permissions ("0": admins only)."""
    if perms == ALL_PERMISSIONS or perms & Perm.ADMINISTRATOR:
        return True
    return required != 0 and perms & required == required


def _validate_command(
    cmd: JsonDict, kind: int, where: tuple[str | int, ...], errors: FormErrors
) -> None:
    name = str(cmd.get("name", ""))
    if kind == 1 and not _valid_name(name):
        errors.add((*where, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Invalid name")
    description = str(cmd.get("description") or "")
    if kind == 1 and not 1 <= len(description) <= 100:
        errors.add((*where, "description"), "BASE_TYPE_BAD_LENGTH", "Must be 1-100 long.")
    _validate_localizations(cmd, where, errors)
    options = cmd.get("options") or []
    errors.max_length((*where, "options"), options, 25)
    optional_seen = False
    for i, opt in enumerate(options):
        at = (*where, "options", i)
        otype = int(opt.get("type", 0))
        if not 1 <= otype <= 11:
            errors.add((*at, "type"), "BASE_TYPE_CHOICES", "Invalid option type.")
        _validate_command(opt, 1, at, errors)
        if otype in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP):
            continue
        if opt.get("required"):
            if optional_seen:
                errors.add(
                    (*at, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        choices = opt.get("choices") or []
        errors.max_length((*at, "choices"), choices, 25)
        for j, choice in enumerate(choices):
            _validate_localizations(choice, (*at, "choices", j), errors)
        if choices and opt.get("autocomplete"):
            errors.add(
                (*at, "autocomplete"),
                "APPLICATION_COMMAND_OPTION_CHOICES_AUTOCOMPLETE",
                "Autocomplete cannot be set with choices.",
            )


def _valid_name(name: str) -> bool:
    """Discord's rule for names: 1-32 of letters and digits of any script (Thai and
    Devanagari with their marks), `-`, `_` and `'`, lower case where the script has case."""
    if not 1 <= len(name) <= 32 or name != name.lower():
        return False
    return all(
        ch.isalnum() or ch in "-_'" or unicodedata.name(ch, "").startswith(("THAI", "DEVANAGARI"))
        for ch in name
    )


def _validate_localizations(
    cmd: JsonDict, where: tuple[str | int, ...], errors: FormErrors
) -> None:
    """name_localizations and description_localizations: Discord's locales only, each value
    held to the rule of the field it localizes (choices' names are free text up to 100)."""
    is_choice = "value" in cmd
    for key in ("name_localizations", "description_localizations"):
        localized = cmd.get(key)
        if localized is None:
            continue
        if not isinstance(localized, dict):
            errors.add((*where, key), "MODEL_TYPE_CONVERT", "Must be an object.")
            continue
        for locale, text in localized.items():
            at = (*where, key, locale)
            if locale not in DISCORD_LOCALES:
                errors.add(at, "BASE_TYPE_CHOICES", f"Value must be one of {{locales}}: {locale}")
            elif key == "name_localizations" and not is_choice and not _valid_name(str(text)):
                errors.add(at, "APPLICATION_COMMAND_INVALID_NAME", "Invalid name")
            elif not 1 <= len(str(text)) <= 100:
                errors.add(at, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
