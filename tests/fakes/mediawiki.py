"""A local MediaWiki API (api.php) for wiki pages that change while codecast polls them.

It answers what codecast asks of Fandom: `action=query&prop=info` (the page's `lastrevid`)
and `action=query&prop=revisions&rvprop=content&rvslots=main` (the wikitext), in
formatversion 1 or 2, with an ETag on the content as Fandom sometimes sends. Editing a page
gives it a new revision id. `ignores_info` makes it answer every query with the content, as
a wiki or proxy that does not know the id query would. Every request is recorded with the
bytes it was answered with (status line, headers and body).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

CODE_PAGE = """{{{{CustomTabs|Overview|History}}}}
'''Promotional codes''' are released by [[HoYoverse]] in livestreams and events.

==Active Codes==
{{{{Code Row/Header}}}}
{rows}
{{{{Code Row/Footer}}}}

==Expired Codes==
{{{{Code Row/Header}}}}
{{{{Code Row|OLDEXPIRED1|G|Primogem*60|2025-01-01|2025-02-01}}}}
{{{{Code Row/Footer}}}}
"""


def code_page(*codes: str) -> str:
    """A code page in Fandom's shape listing `codes` as active."""
    rows = "\n".join(
        f"{{{{Code Row|{c}|G|Primogem*60;Mora*10000|2026-12-01|unknown}}}}" for c in codes
    )
    return CODE_PAGE.format(rows=rows)


@dataclass
class WikiPage:
    title: str
    text: str
    revision: int
    page_id: int


@dataclass
class Asked:
    """One request: what it asked (`info`, `content`, or `other`) and the bytes answered."""

    what: str
    query: dict[str, str]
    status: int
    bytes: int


@dataclass
class FakeMediaWiki:
    pages: dict[str, WikiPage] = field(default_factory=dict)
    ignores_info: bool = False
    etags: bool = True
    asked: list[Asked] = field(default_factory=list)
    port: int = 0
    _next_revision: int = 1000
    _runner: web.AppRunner | None = None

    # --- the wiki -----------------------------------------------------------------------------

    def edit(self, title: str, text: str) -> int:
        """Save a new revision of a page (created when new); returns its revision id."""
        self._next_revision += 1
        page = self.pages.get(title)
        if page is None:
            self.pages[title] = WikiPage(title, text, self._next_revision, len(self.pages) + 1)
        else:
            page.text = text
            page.revision = self._next_revision
        return self._next_revision

    def url(self, title: str) -> str:
        """The source URL codecast's catalog gives for a page (as for Fandom)."""
        return (
            f"{self.base_url}/api.php?action=query&prop=revisions&titles={title}"
            "&rvprop=content&rvslots=main&format=json"
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def count(self, what: str) -> int:
        return sum(1 for a in self.asked if a.what == what)

    # --- serving ------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        title = (query.get("titles") or query.get("page") or "").replace("_", " ")
        page = self.pages.get(title)
        info = query.get("prop") == "info"
        v2 = query.get("formatversion") == "2"
        if info and not self.ignores_info:
            response = self._json(self._info(title, page, v2))
            what = "info"
        elif query.get("prop") == "revisions" or (info and self.ignores_info):
            response = self._content(request, title, page, v2)
            what = "content"
        else:
            response = self._json({"error": {"code": "badvalue", "info": "Unknown query."}})
            what = "other"
        await response.prepare(request)
        await response.write_eof()
        self.asked.append(Asked(what, query, response.status, _sent(response)))
        return response

    def _info(self, title: str, page: WikiPage | None, v2: bool) -> dict[str, Any]:
        if page is None:
            entry: dict[str, Any] = {"ns": 0, "title": title, "missing": True}
        else:
            entry = {
                "pageid": page.page_id,
                "ns": 0,
                "title": page.title,
                "contentmodel": "wikitext",
                "pagelanguage": "en",
                "pagelanguagehtmlcode": "en",
                "pagelanguagedir": "ltr",
                "touched": "2026-12-19T12:00:00Z",
                "lastrevid": page.revision,
                "length": len(page.text.encode()),
            }
        pages: Any = [entry] if v2 else {str(entry.get("pageid", -1)): entry}
        return {"batchcomplete": True if v2 else "", "query": {"pages": pages}}

    def _content(
        self, request: web.Request, title: str, page: WikiPage | None, v2: bool
    ) -> web.Response:
        if page is None:
            return self._json({"query": {"pages": {"-1": {"title": title, "missing": ""}}}})
        slot = {"contentmodel": "wikitext", "contentformat": "text/x-wiki"}
        slot["content" if v2 else "*"] = page.text
        entry = {"pageid": page.page_id, "ns": 0, "title": page.title}
        entry["revisions"] = [{"slots": {"main": slot}}]
        pages: Any = [entry] if v2 else {str(page.page_id): entry}
        response = self._json({"batchcomplete": "", "query": {"pages": pages}})
        if self.etags:
            assert response.body is not None
            etag = '"' + hashlib.sha256(bytes(response.body)).hexdigest()[:16] + '"'  # type: ignore[arg-type]
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers={"ETag": etag})
            response.headers["ETag"] = etag
        return response

    @staticmethod
    def _json(data: dict[str, Any]) -> web.Response:
        return web.Response(
            body=json.dumps(data).encode(), content_type="application/json", charset="utf-8"
        )

    async def start(self) -> FakeMediaWiki:
        app = web.Application()
        app.router.add_get("/api.php", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeMediaWiki:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def _sent(response: web.StreamResponse) -> int:
    """Bytes of the status line, headers and body as sent."""
    headers = sum(len(k) + len(v) + 4 for k, v in response.headers.items())
    body = response.body if isinstance(response, web.Response) else None
    return len(response.reason) + 15 + headers + 2 + (len(body) if body else 0)  # type: ignore[arg-type]
