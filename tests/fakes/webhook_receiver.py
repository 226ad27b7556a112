"""Receivers on 127.0.0.1 for the targets named by a URL: a JSON webhook endpoint that
checks codecast's signature, and an ntfy-like server for Apprise.

Each path is a receiver of its own: what it got, and what it answers next, are per path.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from notifiers.webhook.format import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_matches,
)


@dataclass(frozen=True)
class Received:
    path: str
    body: bytes
    headers: dict[str, str]
    at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1  # 0: for ever


class Receiver:
    """`async with Receiver() as r:` serves http://127.0.0.1:PORT/<any path>.

    `keys` maps a path to the HMAC key its webhook signs with: a POST to such a path whose
    signature does not match is answered 401 and counted in `forged`. `latency` delays every
    answer (a receiver on the other side of the world).
    """

    def __init__(self, *, latency: float = 0.0, record: bool = True) -> None:
        self.latency = latency
        self.record = record
        self.keys: dict[str, str] = {}
        self.received: dict[str, list[Received]] = defaultdict(list)
        # Deliveries accepted per path, counted even when `record` is off (long runs).
        self.accepted: dict[str, int] = defaultdict(int)
        self.forged = 0
        # Every request per path, answered as planned or not.
        self.hits: dict[str, int] = defaultdict(int)
        self._answers: dict[str, list[_Answer]] = defaultdict(list)
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def answer(
        self, path: str, status: int, *, times: int = 1, headers: dict[str, str] | None = None
    ) -> None:
        """The next `times` requests to `path` (0: all from now on) get `status`."""
        self._answers["/" + path.lstrip("/")].append(_Answer(status, headers or {}, times))

    def got(self, path: str) -> list[Received]:
        return list(self.received.get("/" + path.lstrip("/"), ()))

    async def wait_for(self, predicate: Any, within: float = 5.0) -> None:
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {within} s")
            await asyncio.sleep(0.01)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.latency:
            await asyncio.sleep(self.latency)
        path = self._route(request.path, body)
        self.hits[path] += 1
        planned = self._answers.get(path)
        if planned:
            answer = planned[0]
            if answer.times > 0:
                answer.times -= 1
                if answer.times == 0:
                    planned.pop(0)
            return web.Response(status=answer.status, headers=answer.headers)
        key = self.keys.get(path)
        if key is not None and not signature_matches(
            key,
            request.headers.get(TIMESTAMP_HEADER, ""),
            body,
            request.headers.get(SIGNATURE_HEADER, ""),
        ):
            self.forged += 1
            return web.Response(status=401, text="bad signature")
        self.accepted[path] += 1
        if self.record:
            headers = dict(request.headers)
            self.received[path].append(Received(path, body, headers, time.monotonic()))
        return web.json_response({"ok": True})

    def _route(self, path: str, body: bytes) -> str:
        return path

    def deliveries(self, path: str) -> list[str]:
        """The X-Codecast-Delivery ids a path accepted, in order."""
        return [r.headers.get(DELIVERY_HEADER, "") for r in self.got(path)]


class FakeNtfy(Receiver):
    """An ntfy server as Apprise's `ntfy://host:port/topic` talks to it: a JSON POST to the
    root naming the topic, with title and message (or a POST to /<topic>). Requests are kept
    and answered by topic: `answer("topic", 429)`; `messages(topic)` is what a subscriber of
    the topic would see."""

    def _route(self, path: str, body: bytes) -> str:
        try:
            document = json.loads(body)
        except ValueError:
            return path
        if isinstance(document, dict) and document.get("topic"):
            return "/" + str(document["topic"])
        return path

    def messages(self, topic: str) -> list[dict[str, Any]]:
        found = []
        for item in self.got(topic):
            try:
                document = item.json
            except ValueError:
                document = {"message": item.body.decode(errors="replace")}
            if isinstance(document, dict):
                found.append(document)
        return found
