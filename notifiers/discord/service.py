"""The Discord bot's lifecycle: log in, sync commands, hold the gateway, stop cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from discord.http import Route

from bot.core.domain import Platform
from notifiers.boards import BoardKeeper
from notifiers.delivery import Sender
from notifiers.discord.client import CodecastClient
from notifiers.discord.sender import DiscordSender
from notifiers.expiry import ExpiryWatcher, stop_task
from notifiers.moderation import ModerationWatcher, finish

log = logging.getLogger(__name__)

# How long `start` waits for every shard's READY before it returns anyway; the gateway keeps
# trying in the background (discord.py reconnects on its own).
GATEWAY_START_TIMEOUT_SECONDS = 60.0


class DiscordService:
    """codecast's Discord side for the composition root: the client and its sender.

    `CODECAST_DISCORD_API_URL` is applied through `discord.http.Route.BASE`, the only way
    discord.py offers to send its REST traffic (interaction callbacks and follow-ups
    included) somewhere else. That is a class attribute, so it is process-global: set at
    `start`, put back at `stop`; two services with different URLs cannot run at once.

    A discord.py client is not meant to start again once closed (its shard queue keeps the
    close), so a start after a stop builds a fresh client with `make_client`.
    """

    platform = Platform.DISCORD
    can_edit = True

    def __init__(
        self,
        client: CodecastClient,
        sender: DiscordSender,
        *,
        make_client: Callable[[], CodecastClient],
        token: str,
        api_url: str | None = None,
        test_guild_id: int | None = None,
        start_timeout: float = GATEWAY_START_TIMEOUT_SECONDS,
        expiry: ExpiryWatcher | None = None,
        boards: BoardKeeper | None = None,
        moderation: ModerationWatcher | None = None,
    ) -> None:
        self._make_client = make_client
        self.client = client
        # `sender` as the composition root sees it (the ChatService protocol's type), and
        # the same object with its Discord side (edits, readiness).
        self.sender: Sender = sender
        self.discord_sender = sender
        self._token = token
        self._api_url = api_url.rstrip("/") if api_url else None
        self._test_guild_id = test_guild_id
        self._start_timeout = start_timeout
        self._previous_base: str | None = None
        self._gateway: asyncio.Task[None] | None = None
        self._used = False
        # Edits sent announcements when codes expire; runs with the commands (one process).
        self.expiry = expiry
        self._expiry_task: asyncio.Task[None] | None = None
        # Keeps the /board messages up to date; runs with the commands too.
        self.boards = boards
        self._boards_task: asyncio.Task[None] | None = None
        # Posts players' reports for moderators; with the commands, like the expiry edits.
        self.moderation = moderation
        self._moderation_task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        # Never the token.
        return f"<DiscordService api={self._api_url or Route.BASE!r}>"

    async def start(self, *, commands: bool = True) -> None:
        if self._used:
            self.client = self._make_client()
            self.discord_sender.client = self.client
        self._used = True
        if self._api_url is not None and self._previous_base is None:
            self._previous_base = Route.BASE
            Route.BASE = self._api_url
        await self.client.login(self._token)
        user = self.client.user
        log.info("discord: logged in as %s (%s)", user, user.id if user else "?")
        self.discord_sender.ready = True
        if not commands:
            return
        await self.client.sync_commands(self._test_guild_id)
        self._gateway = asyncio.create_task(self._hold_gateway(), name="discord-gateway")
        ready = asyncio.create_task(self.client.gateway_ready.wait())
        try:
            done, _ = await asyncio.wait(
                {ready, self._gateway},
                timeout=self._start_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            ready.cancel()
        if self._gateway in done:
            # A fatal gateway error (bad token, privileged intents): raise it to the caller.
            await self._gateway
            raise RuntimeError("the Discord gateway closed during start")
        if ready not in done:
            log.warning(
                "discord: gateway not ready after %.0fs; still trying in the background",
                self._start_timeout,
            )
        if self.expiry is not None:
            self._expiry_task = asyncio.create_task(self.expiry.run(), name="discord-expiry")
        if self.boards is not None:
            self._boards_task = asyncio.create_task(self.boards.run(), name="discord-boards")
        if self.moderation is not None:
            self._moderation_task = asyncio.create_task(
                self.moderation.run(), name="discord-moderation"
            )

    async def _hold_gateway(self) -> None:
        await self.client.connect(reconnect=True)

    async def stop(self) -> None:
        self.discord_sender.ready = False
        await stop_task(self._expiry_task)
        await stop_task(self._boards_task)
        self._expiry_task = self._boards_task = None
        if self.moderation is not None:
            await finish(self.moderation, self._moderation_task)
        self._moderation_task = None
        try:
            if self._used:  # a client never started has nothing open (and cannot close)
                await self.client.close()
            if self._gateway is not None:
                self._gateway.cancel()
                # Whatever ended the gateway was logged by discord.py; stopping goes on.
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._gateway
                self._gateway = None
        finally:
            if self._previous_base is not None:
                Route.BASE = self._previous_base
                self._previous_base = None
