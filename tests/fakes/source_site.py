"""A local web server for recorded source pages, with ETags, errors and delays on demand."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200


@dataclass
class FixtureSite:
    """A local web server for recorded pages, with ETags so conditional GET is exercised.

    Pages can be replaced while it runs (a source changing between cycles), answer with an
    error status, or be slow.
    """

    pages: dict[str, Page] = field(default_factory=dict)
    delay: float = 0.0
    # Off: no ETag, every answer whole (as some APIs do).
    etags: bool = True
    requests: list[str] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    port: int = 0
    # Any address of 127.0.0.0/8 serves on Linux: a second one stands for another machine.
    host: str = "127.0.0.1"
    # path -> where it redirects (302).
    redirects: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        path = request.path_qs.lstrip("/")
        self.requests.append(path)
        if self.delay:
            await asyncio.sleep(self.delay)
        if path in self.redirects:
            return web.Response(status=302, headers={"Location": self.redirects[path]})
        page = self.pages.get(path) or self.pages.get(request.path.lstrip("/"))
        if page is None:
            return web.Response(status=404, text="not found")
        if page.status != 200:
            return web.Response(status=page.status, text="error")
        if not self.etags:
            return web.Response(body=page.body, headers={"Content-Type": page.content_type})
        etag = '"' + hashlib.sha256(page.body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=page.body, headers={"ETag": etag, "Content-Type": page.content_type}
        )

    async def start(self) -> FixtureSite:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FixtureSite:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
