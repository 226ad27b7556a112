"""A fake Discord on 127.0.0.1 (REST and WebSocket gateway) for driving the real discord.py."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.fakes.discord_gateway import Gateway, Identify, Session
from tests.fakes.discord_interactions import (
    INTERACTION_AUTOCOMPLETE,
    INTERACTION_COMMAND,
    CallbackRecord,
    CommandUnavailable,
    InteractionHandle,
    Interactions,
)
from tests.fakes.discord_messages import Messages, SentMessage
from tests.fakes.discord_rest import InjectedFailure, RequestRecord, RestApi, Violation
from tests.fakes.discord_webhooks import ChannelWebhook, ChannelWebhooks
from tests.fakes.discord_world import (
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    INTENT_GUILDS,
    OVERWRITE_MEMBER,
    OVERWRITE_ROLE,
    Channel,
    ChannelType,
    FakeSettings,
    Guild,
    JsonDict,
    Member,
    Overwrite,
    Perm,
    Role,
    World,
)

__all__ = [
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "CallbackRecord",
    "Channel",
    "ChannelType",
    "CommandUnavailable",
    "FakeDiscord",
    "FakeSettings",
    "Guild",
    "InteractionHandle",
    "Member",
    "Overwrite",
    "Perm",
    "Role",
    "SentMessage",
]


class FakeDiscord:
    """`async with FakeDiscord() as dc:` serves `dc.api_url` and `dc.gateway_url`.

    Build the world with `add_guild`, `add_channel`, `add_role`, `add_member` (before or
    after the client connects); the mutating helpers that Discord would announce on the
    gateway (`delete_channel`, `set_overwrite`, `remove_bot_from_guild`, …) are coroutines.
    """

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",  # noqa: S107 - a test token for a local fake
        bot_name: str = "codecast",
        settings: FakeSettings | None = None,
        **overrides: Any,
    ) -> None:
        self.settings = settings or FakeSettings()
        for key, value in overrides.items():
            if not hasattr(self.settings, key):
                raise TypeError(f"unknown setting {key!r}")
            setattr(self.settings, key, value)
        self.world = World(token=token, bot_name=bot_name)
        self.gateway = Gateway(self.world, self.settings)
        self.rest = RestApi(self.world, self.settings)
        self.store = Messages(
            self.world, self.settings, self.rest, self.gateway.dispatch_guild_event
        )
        self.interactions = Interactions(self.world, self.settings, self.rest, self.store)
        self.webhooks = ChannelWebhooks(self.world, self.rest, self.store)
        self.interactions.webhooks = self.webhooks
        self.gateway.on_identify = self._count_session_start
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application(middlewares=[self.rest.middleware], client_max_size=64 * 2**20)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/fake/stats", self._stats)
        self.rest.add_routes(app)
        self.store.add_routes(app)
        self.interactions.add_routes(app)
        self.rest.add_fallback(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.gateway.url = self.gateway_url
        self.rest.gateway_url = self.gateway_url
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.gateway.disconnect_all(1001)
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def token(self) -> str:
        return self.world.token

    @property
    def application_id(self) -> int:
        return self.world.application_id

    @property
    def bot_user_id(self) -> int:
        return self.world.bot.id

    def _count_session_start(self) -> None:
        self.rest.session_starts += 1

    async def _stats(self, request: web.Request) -> web.Response:
        """Counters for a fake running in another process (benchmarks)."""
        return web.json_response(
            {
                "requests": self.rest.request_count,
                "sent": self.sent_count,
                "violations": len(self.rest.violations),
            }
        )

    # -- building the world -----------------------------------------------------------

    def add_guild(
        self,
        name: str = "Test Server",
        *,
        channels: tuple[str, ...] = ("general",),
        announcement_channels: tuple[str, ...] = (),
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
        bot_member: bool = True,
        preferred_locale: str = "en-US",
    ) -> Guild:
        """A guild with @everyone, the bot's managed role and member, and some channels.

        Added after the client connected, announce it with `await dc.add_bot_to_guild(id)`.
        """
        guild = self.world.add_guild(
            name,
            everyone_permissions=everyone_permissions,
            bot_permissions=bot_permissions,
            bot_member=False,
        )
        for channel_name in channels:
            self.world.add_channel(guild.id, channel_name)
        for channel_name in announcement_channels:
            self.world.add_channel(guild.id, channel_name, type=ChannelType.ANNOUNCEMENT)
        guild.preferred_locale = preferred_locale
        if bot_member:
            self.world.bot_join(guild.id, permissions=bot_permissions)
        return guild

    def add_channel(
        self,
        guild_id: int,
        name: str | None = None,
        *,
        type: int = ChannelType.TEXT,
        overwrites: tuple[Overwrite, ...] = (),
        topic: str | None = None,
    ) -> Channel:
        return self.world.add_channel(
            guild_id, name, type=type, overwrites=overwrites, topic=topic
        )

    def add_role(
        self, guild_id: int, name: str, *, permissions: int = 0, mentionable: bool = False
    ) -> Role:
        return self.world.add_role(
            guild_id, name, permissions=permissions, mentionable=mentionable
        )

    def add_member(self, guild_id: int, username: str, *, roles: tuple[int, ...] = ()) -> Member:
        return self.world.add_member(guild_id, username, roles=roles)

    def guild(self, guild_id: int) -> Guild:
        return self.world.guilds[guild_id]

    def channel(self, channel_id: int) -> Channel:
        return self.world.channels[channel_id]

    @staticmethod
    def role_overwrite(role_id: int, *, allow: int = 0, deny: int = 0) -> Overwrite:
        return Overwrite(role_id, OVERWRITE_ROLE, allow, deny)

    @staticmethod
    def member_overwrite(user_id: int, *, allow: int = 0, deny: int = 0) -> Overwrite:
        return Overwrite(user_id, OVERWRITE_MEMBER, allow, deny)

    def permissions(self, channel_id: int, user_id: int | None = None) -> int:
        """Effective permissions in a channel (the bot's unless `user_id` is given)."""
        channel = self.world.channels[channel_id]
        if user_id is None:
            return self.world.bot_permissions(channel)
        return self.world.channel_permissions(channel, user_id)

    # -- changing the world (announced on the gateway like Discord does) ------------------

    def _channel_event(self, event: str, channel: Channel, notify: bool) -> None:
        if notify:
            self.gateway.dispatch_guild_event(
                channel.guild_id, event, channel.payload(), INTENT_GUILDS
            )

    async def set_overwrite(
        self, channel_id: int, overwrite: Overwrite, *, notify: bool = True
    ) -> None:
        channel = self.world.channels[channel_id]
        channel.overwrites[overwrite.id] = overwrite
        self._channel_event("CHANNEL_UPDATE", channel, notify)

    async def revoke_bot_permissions(
        self, channel_id: int, permissions: int = Perm.SEND_MESSAGES, *, notify: bool = True
    ) -> None:
        """Deny the bot `permissions` in one channel with a member overwrite."""
        bot_id = self.world.bot.id
        channel = self.world.channels[channel_id]
        current = channel.overwrites.get(bot_id) or Overwrite(bot_id, OVERWRITE_MEMBER)
        denied = Overwrite(
            bot_id, OVERWRITE_MEMBER, current.allow & ~permissions, current.deny | permissions
        )
        await self.set_overwrite(channel_id, denied, notify=notify)

    async def delete_channel(self, channel_id: int, *, notify: bool = True) -> None:
        """Later requests to it answer 404 Unknown Channel; `notify=False` keeps the client's
        cache stale, like a deletion it has not heard of yet."""
        channel = self.world.channels.pop(channel_id)
        del self.world.guilds[channel.guild_id].channels[channel_id]
        self._channel_event("CHANNEL_DELETE", channel, notify)

    async def set_guild_locale(self, guild_id: int, locale: str) -> None:
        """The server's owner changes its primary language: GUILD_UPDATE."""
        guild = self.world.guilds[guild_id]
        guild.preferred_locale = locale
        self.gateway.dispatch_guild_event(
            guild_id, "GUILD_UPDATE", guild.rest_payload(), INTENT_GUILDS
        )

    async def remove_bot_from_guild(self, guild_id: int) -> None:
        """The bot is kicked: GUILD_DELETE without `unavailable`, and 403 for its channels."""
        self.world.bot_leave(guild_id)
        self.gateway.dispatch_guild_event(guild_id, "GUILD_DELETE", {"id": str(guild_id)})

    async def add_bot_to_guild(
        self, guild_id: int, *, permissions: int = DEFAULT_BOT_PERMISSIONS
    ) -> None:
        """The bot joins (or the guild was built after connecting): GUILD_CREATE."""
        guild = self.world.guilds[guild_id]
        if not guild.bot_present:
            self.world.bot_join(guild_id, permissions=permissions)
        for session in self.gateway.sessions.values():
            if session.covers(guild_id):
                self.gateway.send_guild_create(session, guild_id)

    async def guild_outage(self, guild_id: int) -> None:
        """The guild becomes unavailable (a Discord-side outage), not a removal."""
        payload = {"id": str(guild_id), "unavailable": True}
        self.gateway.dispatch_guild_event(guild_id, "GUILD_DELETE", payload)

    # -- failure injection ------------------------------------------------------------

    def fail_next(
        self,
        route: str,
        status: int,
        body: Any = None,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        retry_after: float | None = None,
        via: bool = True,
    ) -> None:
        """Answer the next `times` requests matching `route` with `status`.

        `route` is "METHOD /path" relative to /api/v10 with shell wildcards, e.g.
        "POST /channels/*/messages". A 429 gets `Via` and a rate-limit body (with
        `retry_after` if given) and is recorded in `dc.injected`, never in `dc.violations`;
        `via=False` leaves out the Via header, which discord.py reads as a Cloudflare ban.
        """
        if status == 429 and body is None and retry_after is not None:
            body = {"message": "You are being rate limited.", "retry_after": retry_after}
            body["global"] = False
        self.rest.fail_next(route, status, body, headers or {}, times, via)

    def outage(self, seconds: float, mode: str = "502") -> None:
        """For `seconds`, REST answers 502 ("502") or drops the connection ("drop")."""
        self.rest.outage(seconds, mode)

    # -- gateway helpers ----------------------------------------------------------------

    async def wait_until_identified(self, count: int = 1) -> None:
        """Until `count` gateway sessions (shards) are connected and identified."""
        await self.gateway.wait_until_identified(count)

    async def disconnect_gateway(self, code: int = 4000) -> None:
        await self.gateway.disconnect_all(code)

    def dispatch(self, guild_id: int, event: str, data: JsonDict) -> int:
        """Send any event to the sessions holding `guild_id`."""
        return self.gateway.dispatch_guild_event(guild_id, event, data)

    async def dispatch_interaction(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        member_permissions: int | None = None,
        locale: str = "en-US",
        enforce_default_permissions: bool = True,
    ) -> InteractionHandle:
        """A slash command (INTERACTION_CREATE type 2) from `user_id` in `channel_id`.

        Options are typed from the synced command when there is one (else from the Python
        values; ids of channels/roles/users become those option types). Raises
        `CommandUnavailable` when Discord would hide the command from this member.
        """
        return await self._interaction(
            INTERACTION_COMMAND, guild_id, channel_id, user_id, command, options or {},
            None, member_permissions, locale, enforce_default_permissions,
        )  # fmt: skip

    async def dispatch_autocomplete(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        command: str,
        options: dict[str, Any],
        *,
        focused: str,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """An autocomplete request (type 4) while the user types option `focused`."""
        return await self._interaction(
            INTERACTION_AUTOCOMPLETE, guild_id, channel_id, user_id, command, options,
            focused, None, locale, True,
        )  # fmt: skip

    async def press_button(
        self, guild_id: int, channel_id: int, user_id: int, message: SentMessage, label: str
    ) -> InteractionHandle:
        """A member presses the button labelled `label` under `message` (type 3)."""
        current = self.store.messages.get(message.id, message)
        buttons = [c for row in current.components for c in row.get("components", [])]
        [custom_id] = [b["custom_id"] for b in buttons if b.get("label") == label]
        session: Session = self.gateway.session_for(guild_id)
        pending = self.interactions.create_component(
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            message=current,
            custom_id=custom_id,
        )
        session.dispatch("INTERACTION_CREATE", pending.payload, pending.mark_sent)
        return InteractionHandle(pending)

    async def _interaction(
        self,
        kind: int,
        guild_id: int,
        channel_id: int,
        user_id: int,
        command: str,
        options: dict[str, Any],
        focused: str | None,
        member_permissions: int | None,
        locale: str,
        enforce: bool,
    ) -> InteractionHandle:
        session: Session = self.gateway.session_for(guild_id)
        pending = self.interactions.create(
            kind=kind,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            command=command,
            options=options,
            focused=focused,
            member_permissions=member_permissions,
            locale=locale,
            enforce_default_permissions=enforce,
        )
        session.dispatch("INTERACTION_CREATE", pending.payload, pending.mark_sent)
        return InteractionHandle(pending)

    # -- records --------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        return self.rest.requests

    def requests_to(self, method: str, path_prefix: str) -> list[RequestRecord]:
        return [
            r for r in self.rest.requests if r.method == method and r.path.startswith(path_prefix)
        ]

    def add_webhook(self, channel_id: int) -> ChannelWebhook:
        """A webhook of a channel (as a server's member would make one); see webhook_url."""
        return self.webhooks.add(channel_id)

    def webhook_url(self, hook: ChannelWebhook) -> str:
        return f"{self.api_url}/webhooks/{hook.id}/{hook.token}"

    def delete_webhook(self, webhook_id: int) -> None:
        self.webhooks.delete(webhook_id)

    @property
    def sent_count(self) -> int:
        """Messages created, also when they are not kept (`record` off)."""
        return self.store.sent_count

    def messages(self, channel_id: int | None = None) -> list[SentMessage]:
        """Messages the fake holds (channel sends, interaction replies, follow-ups)."""
        if channel_id is None:
            return list(self.store.messages.values())
        return list(self.store.by_channel.get(channel_id, []))

    @property
    def callbacks(self) -> list[CallbackRecord]:
        return self.interactions.callbacks

    @property
    def commands(self) -> list[JsonDict]:
        return self.interactions.commands

    @property
    def guild_commands(self) -> dict[int, list[JsonDict]]:
        return self.interactions.guild_commands

    @property
    def violations(self) -> list[Violation]:
        """429s earned by really exceeding a limit (injected ones are in `injected`)."""
        return self.rest.violations

    @property
    def injected(self) -> list[InjectedFailure]:
        return self.rest.injected

    @property
    def invalid_requests(self) -> int:
        """401, 403 and 429 answers: Discord bans a bot after 10,000 in 10 minutes."""
        return self.rest.invalid_requests

    @property
    def busy_seconds(self) -> float:
        """Time the fake spent answering REST requests (its share of a benchmark)."""
        return self.rest.busy_seconds

    @property
    def identifies(self) -> list[Identify]:
        return self.gateway.identifies

    @property
    def rate_limits(self) -> bool:
        return self.settings.rate_limits

    @rate_limits.setter
    def rate_limits(self, enabled: bool) -> None:
        self.settings.rate_limits = enabled


async def _serve(args: argparse.Namespace) -> None:
    async with FakeDiscord(
        rate_limits=args.limits, record=args.record, echo_messages=False
    ) as fake:
        channels: list[int] = []
        for start in range(0, args.channels, args.per_guild):
            count = min(args.per_guild, args.channels - start)
            names = tuple(f"codes-{i}" for i in range(count))
            guild = fake.add_guild(f"Server {start // args.per_guild}", channels=names)
            channels += list(guild.channels)
        line = {"api_url": fake.api_url, "token": fake.token, "channels": channels}
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()


def main() -> None:
    """Serve the fake on its own, so that a benchmark can tell its CPU from codecast's.

    Prints one JSON line: the API URL, the bot token and the ids of the channels made
    (`--channels`, `--per-guild` to a server); GET /fake/stats answers the counters.
    """
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--channels", type=int, default=0)
    parser.add_argument("--per-guild", type=int, default=500)
    parser.add_argument("--no-limits", dest="limits", action="store_false")
    parser.add_argument("--no-record", dest="record", action="store_false")
    asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
