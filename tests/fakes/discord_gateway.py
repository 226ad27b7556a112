"""WebSocket gateway of the fake Discord: HELLO, IDENTIFY, READY, heartbeats, RESUME, dispatch."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_world import (
    INTENT_GUILD_MEMBERS,
    INTENT_GUILDS,
    PRIVILEGED_INTENTS,
    FakeSettings,
    JsonDict,
    World,
)

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_RESUME = 6
OP_RECONNECT = 7
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

# How many dispatched events a session keeps for RESUME.
REPLAY_BUFFER = 10_000
# A client that has not identified within this long is not going to.
IDENTIFY_WAIT = 10.0

OnSent = Callable[[], None]


@dataclass
class Identify:
    """What a client said in IDENTIFY (the token is not kept)."""

    intents: int
    shard: tuple[int, int] | None
    properties: JsonDict
    query: dict[str, str]


@dataclass
class Session:
    """A gateway session; outlives its connection so that RESUME can replay what was missed."""

    id: str
    identify: Identify
    seq: int = 0
    buffer: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=REPLAY_BUFFER))
    connection: Connection | None = None

    @property
    def intents(self) -> int:
        return self.identify.intents

    def covers(self, guild_id: int) -> bool:
        shard = self.identify.shard
        return shard is None or (guild_id >> 22) % shard[1] == shard[0]

    def dispatch(self, event: str, data: JsonDict, on_sent: OnSent | None = None) -> None:
        self.seq += 1
        frame = json.dumps({"op": OP_DISPATCH, "s": self.seq, "t": event, "d": data})
        self.buffer.append((self.seq, frame))
        if self.connection is not None:
            self.connection.send(frame, on_sent)


class Connection:
    """One WebSocket; a single writer task keeps frames (and the zlib stream) in order."""

    def __init__(self, ws: web.WebSocketResponse, *, compress: bool) -> None:
        self.ws = ws
        self.session: Session | None = None
        self._queue: asyncio.Queue[tuple[str, OnSent | None] | None] = asyncio.Queue()
        self._zlib = zlib.compressobj() if compress else None
        self._writer = asyncio.create_task(self._write())
        self.closed_by_server = False

    def send(self, frame: str, on_sent: OnSent | None = None) -> None:
        self._queue.put_nowait((frame, on_sent))

    def send_op(self, op: int, data: Any) -> None:
        self.send(json.dumps({"op": op, "s": None, "t": None, "d": data}))

    async def _write(self) -> None:
        while (item := await self._queue.get()) is not None:
            frame, on_sent = item
            try:
                if self._zlib is not None:
                    packed = self._zlib.compress(frame.encode()) + self._zlib.flush(
                        zlib.Z_SYNC_FLUSH
                    )
                    await self.ws.send_bytes(packed)
                else:
                    await self.ws.send_str(frame)
            except (ConnectionError, RuntimeError):
                return  # the socket went away; RESUME replays from the session buffer
            if on_sent is not None:
                on_sent()

    async def close(self, code: int, message: str = "") -> None:
        if not self.ws.closed:
            self.closed_by_server = True
        self._queue.put_nowait(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._writer, 1.0)
        await self.ws.close(code=code, message=message.encode())


class Gateway:
    """Accepts gateway connections and routes guild events to the sessions that cover them."""

    def __init__(self, world: World, settings: FakeSettings) -> None:
        self.world = world
        self.settings = settings
        self.url = ""
        self.sessions: dict[str, Session] = {}
        self.connections: set[Connection] = set()
        self.identifies: list[Identify] = []
        self.heartbeats = 0
        self.resumes = 0
        self.on_identify: Callable[[], None] = lambda: None
        self._identified = asyncio.Condition()

    # -- routing --------------------------------------------------------------------------

    def live_sessions(self) -> list[Session]:
        return [s for s in self.sessions.values() if s.connection is not None]

    def dispatch_guild_event(
        self, guild_id: int, event: str, data: JsonDict, intent: int = 0
    ) -> int:
        """Send to every session whose shard holds the guild; returns how many got it."""
        count = 0
        for session in self.sessions.values():
            if session.covers(guild_id) and (intent == 0 or session.intents & intent):
                session.dispatch(event, data)
                count += 1
        return count

    def session_for(self, guild_id: int) -> Session:
        for session in self.live_sessions():
            if session.covers(guild_id):
                return session
        raise RuntimeError(f"no connected gateway session holds guild {guild_id}")

    async def wait_until_identified(self, count: int = 1) -> None:
        async with asyncio.timeout(IDENTIFY_WAIT), self._identified:
            await self._identified.wait_for(lambda: len(self.live_sessions()) >= count)

    async def disconnect_all(self, code: int = 4000) -> None:
        """Close every socket; 4000 lets clients RESUME, 4004/4014 … end them."""
        for conn in list(self.connections):
            await conn.close(code, "closed by the fake")

    async def request_reconnect(self) -> None:
        for conn in list(self.connections):
            conn.send_op(OP_RECONNECT, None)

    # -- the WebSocket ------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        query = dict(request.query)
        compress = self.settings.gateway_compression and query.get("compress") == "zlib-stream"
        conn = Connection(ws, compress=compress)
        self.connections.add(conn)
        conn.send_op(OP_HELLO, {"heartbeat_interval": self.settings.heartbeat_interval_ms})
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_frame(conn, json.loads(msg.data), query)
                elif msg.type is WSMsgType.BINARY:
                    await conn.close(4002, "Decode error")
        finally:
            self.connections.discard(conn)
            session = conn.session
            if session is not None and session.connection is conn:
                session.connection = None
                if not conn.closed_by_server and ws.close_code in (1000, 1001):
                    # A clean close by the client ends its session: it cannot be resumed.
                    self.sessions.pop(session.id, None)
            await conn.close(1000)
        return ws

    async def _on_frame(self, conn: Connection, frame: JsonDict, query: dict[str, str]) -> None:
        op = frame.get("op")
        data = frame.get("d")
        if op == OP_HEARTBEAT:
            self.heartbeats += 1
            conn.send_op(OP_HEARTBEAT_ACK, None)
        elif op == OP_IDENTIFY:
            await self._identify(conn, data or {}, query)
        elif op == OP_RESUME:
            await self._resume(conn, data or {})
        elif conn.session is None:
            await conn.close(4003, "Not authenticated.")
        # Presence updates (3), voice (4) and member requests (8) are accepted and ignored.

    async def _identify(self, conn: Connection, data: JsonDict, query: dict[str, str]) -> None:
        if conn.session is not None:
            await conn.close(4005, "Already authenticated.")
            return
        if data.get("token") != self.world.token:
            await conn.close(4004, "Authentication failed.")
            return
        intents = int(data.get("intents", 0))
        if intents & PRIVILEGED_INTENTS & ~self.settings.privileged_intents:
            await conn.close(4014, "Disallowed intent(s).")
            return
        raw_shard = data.get("shard")
        shard = (int(raw_shard[0]), int(raw_shard[1])) if raw_shard else None
        if shard is not None and not 0 <= shard[0] < shard[1]:
            await conn.close(4010, "Invalid shard.")
            return
        identify = Identify(intents, shard, dict(data.get("properties") or {}), query)
        self.identifies.append(identify)
        self.on_identify()
        session = Session(secrets.token_hex(16), identify)
        self.sessions[session.id] = session
        session.connection = conn
        conn.session = session
        guilds = [g for g in self.world.bot_guilds() if session.covers(g.id)]
        session.dispatch(
            "READY",
            {
                "v": 10,
                "user": self.world.bot.payload(),
                "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
                "session_id": session.id,
                "resume_gateway_url": self.url,
                "shard": list(shard) if shard else [0, 1],
                "application": {"id": str(self.world.application_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": [],
                "user_settings": {},
            },
        )
        for guild in guilds:
            self.send_guild_create(session, guild.id)
        async with self._identified:
            self._identified.notify_all()

    def send_guild_create(self, session: Session, guild_id: int) -> None:
        guild = self.world.guilds[guild_id]
        members = bool(session.intents & INTENT_GUILD_MEMBERS)
        payload = guild.payload(members=members, self_id=self.world.bot.id)
        if not session.intents & INTENT_GUILDS:
            # Without GUILDS the client gets no channels or roles to keep in sync.
            payload["channels"] = []
        session.dispatch("GUILD_CREATE", payload)

    async def _resume(self, conn: Connection, data: JsonDict) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or data.get("token") != self.world.token:
            conn.send_op(OP_INVALID_SESSION, False)
            return
        self.resumes += 1
        if session.connection is not None and session.connection is not conn:
            old = session.connection
            session.connection = None
            await old.close(4000, "Session resumed elsewhere.")
        client_seq = int(data.get("seq") or 0)
        session.connection = conn
        conn.session = session
        for seq, frame in session.buffer:
            if seq > client_seq:
                conn.send(frame)
        session.dispatch("RESUMED", {})
        async with self._identified:
            self._identified.notify_all()
