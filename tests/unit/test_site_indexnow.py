"""IndexNow pings: what is sent, what is skipped, and that failures never raise."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from bot.site import changed_page_urls, ping_indexnow
from bot.site.indexnow import INDEXNOW_ENDPOINT

SITE = "https://codes.example.org/"
KEY = "0123abcd-4567"


def recording_client(requests: list[httpx.Request], status: int = 200) -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(status)

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


def test_changed_page_urls_maps_written_paths_to_pages() -> None:
    written = [
        "static/site.abc.css.gz",
        "static/site.abc.css",
        "genshin/index.html.gz",
        "genshin/index.html",
        "genshin/codes.json",
        "sources.html",
        "index.html",
    ]
    assert changed_page_urls(SITE, written) == [
        SITE,
        f"{SITE}genshin/",
        f"{SITE}sources.html",
    ]


async def test_ping_posts_the_protocol_payload() -> None:
    requests: list[httpx.Request] = []
    async with recording_client(requests) as client:
        await ping_indexnow(client, KEY, SITE, [SITE, f"{SITE}genshin/"])
    assert len(requests) == 1
    request = requests[0]
    assert request.method == "POST"
    assert str(request.url) == INDEXNOW_ENDPOINT
    assert json.loads(request.content) == {
        "host": "codes.example.org",
        "key": KEY,
        "keyLocation": f"{SITE}{KEY}.txt",
        "urlList": [SITE, f"{SITE}genshin/"],
    }


async def test_urls_on_other_hosts_are_left_out() -> None:
    requests: list[httpx.Request] = []
    async with recording_client(requests) as client:
        await ping_indexnow(client, KEY, SITE, [SITE, "https://elsewhere.example.net/x"])
    assert json.loads(requests[0].content)["urlList"] == [SITE]


@pytest.mark.parametrize(
    ("key", "site", "urls"),
    [
        (KEY, "http://localhost:8000/", ["http://localhost:8000/"]),
        (KEY, "http://127.0.0.1:8000/", ["http://127.0.0.1:8000/"]),
        (KEY, "http://codes.test/", ["http://codes.test/"]),
        (KEY, SITE, []),
        ("", SITE, [SITE]),
        ("bad key with spaces", SITE, [SITE]),
    ],
)
async def test_nothing_is_sent_when_there_is_nothing_to_tell(
    key: str, site: str, urls: list[str]
) -> None:
    requests: list[httpx.Request] = []
    async with recording_client(requests) as client:
        await ping_indexnow(client, key, site, urls)
    assert requests == []


async def test_refusal_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    requests: list[httpx.Request] = []
    with caplog.at_level(logging.WARNING, logger="bot.site.indexnow"):
        async with recording_client(requests, status=403) as client:
            await ping_indexnow(client, KEY, SITE, [SITE])
    assert "HTTP 403" in caplog.text


async def test_network_failure_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    with caplog.at_level(logging.WARNING, logger="bot.site.indexnow"):
        async with httpx.AsyncClient(transport=httpx.MockTransport(fail)) as client:
            await ping_indexnow(client, KEY, SITE, [SITE])
    assert "ConnectTimeout" in caplog.text


async def test_unexpected_error_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    def explode(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("boom")

    with caplog.at_level(logging.WARNING, logger="bot.site.indexnow"):
        async with httpx.AsyncClient(transport=httpx.MockTransport(explode)) as client:
            await ping_indexnow(client, KEY, SITE, [SITE])
    assert "unexpected error" in caplog.text
