"""The shared Fetcher over httpx.MockTransport: conditional GET, retries, refusals, size cap."""

from __future__ import annotations

import asyncio
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest

from scrapers import pockettactics, scraper_for
from scrapers.base import (
    MAX_RETRY_AFTER_SECONDS,
    Fetcher,
    SourceChanged,
    SourceRejected,
    SourceThrottled,
    SourceTooLarge,
    SourceUnavailable,
    Traffic,
    Validators,
    fetch_url,
    retry_after_seconds,
)
from tests.hostile import gzip_bomb, gzipped
from tests.unit.scraper_fixtures import game, source

URL = "https://source.test/codes"
Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that answers from a script and keeps every request."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def fetcher(handler: Handler, **options: int | float) -> Fetcher:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    settings: dict[str, float] = {"retries": 2, "backoff": 0}
    settings.update(options)
    return Fetcher(
        client,
        max_bytes=int(settings.get("max_bytes", 5_000_000)),
        retries=int(settings["retries"]),
        backoff=float(settings["backoff"]),
    )


# --- conditional GET ----------------------------------------------------------------------


async def test_first_fetch_sends_no_validators_and_keeps_the_new_ones() -> None:
    recorder = Recorder(
        httpx.Response(
            200,
            content=b"<html>codes</html>",
            headers={
                "ETag": '"abc"',
                "Last-Modified": "Wed, 21 Oct 2026 07:28:00 GMT",
                "Content-Type": "text/html; charset=utf-8",
            },
        )
    )
    fetched = await fetcher(recorder).get(URL)
    (request,) = recorder.requests
    assert "If-None-Match" not in request.headers
    assert "If-Modified-Since" not in request.headers
    assert fetched.body == b"<html>codes</html>"
    assert not fetched.not_modified
    assert fetched.validators == Validators('"abc"', "Wed, 21 Oct 2026 07:28:00 GMT")
    assert fetched.content_type == "text/html; charset=utf-8"


async def test_known_validators_are_sent_and_304_is_not_modified() -> None:
    recorder = Recorder(httpx.Response(304))
    known = Validators(etag='"abc"', last_modified="Wed, 21 Oct 2026 07:28:00 GMT")
    fetched = await fetcher(recorder).get(URL, validators=known)
    (request,) = recorder.requests
    assert request.headers["If-None-Match"] == '"abc"'
    assert request.headers["If-Modified-Since"] == "Wed, 21 Oct 2026 07:28:00 GMT"
    assert fetched.not_modified
    assert fetched.body is None
    assert fetched.validators == known


@pytest.mark.parametrize("kind", ["fandom", "game8", "pockettactics", "ennead", "page"])
async def test_scraper_fetch_is_a_conditional_get_of_the_source_url(kind: str) -> None:
    recorder = Recorder(httpx.Response(304))
    config = source(kind, "genshin", URL)
    fetched = await scraper_for(kind).fetch(fetcher(recorder), config, Validators("v"))
    assert fetched.not_modified
    assert str(recorder.requests[0].url) == URL
    assert recorder.requests[0].headers["If-None-Match"] == "v"


async def test_extra_headers_are_sent_with_the_validators() -> None:
    recorder = Recorder(httpx.Response(200, content=b"{}"))
    await fetcher(recorder).get(URL, validators=Validators("v"), headers={"X-Test": "1"})
    assert recorder.requests[0].headers["X-Test"] == "1"
    assert recorder.requests[0].headers["If-None-Match"] == "v"


# --- retries and refusals -----------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retried_then_unavailable(status: int) -> None:
    recorder = Recorder(httpx.Response(status))
    with pytest.raises(SourceUnavailable, match=f"HTTP {status}") as raised:
        await fetcher(recorder, retries=2).get(URL)
    assert len(recorder.requests) == 3
    assert raised.value.retry_after is None


@pytest.mark.parametrize(
    ("headers", "wait"),
    [({}, None), ({"Retry-After": "120"}, 120.0), ({"Retry-After": "soon"}, None)],
)
async def test_429_is_not_asked_again_at_once_and_carries_its_retry_after(
    headers: dict[str, str], wait: float | None
) -> None:
    recorder = Recorder(httpx.Response(429, headers=headers))
    with pytest.raises(SourceThrottled, match="HTTP 429") as raised:
        await fetcher(recorder, retries=5).get(URL)
    assert len(recorder.requests) == 1
    assert raised.value.retry_after == wait
    assert raised.value.status == "throttled"


async def test_a_503_with_retry_after_is_not_retried_within_the_poll() -> None:
    recorder = Recorder(httpx.Response(503, headers={"Retry-After": "30"}), httpx.Response(200))
    with pytest.raises(SourceUnavailable) as raised:
        await fetcher(recorder, retries=5).get(URL)
    assert len(recorder.requests) == 1
    assert raised.value.retry_after == 30.0


def test_retry_after_reads_seconds_and_http_dates_and_caps_them() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds("Tue, 01 Dec 2026 12:01:30 GMT", now) == 90.0
    assert retry_after_seconds("Tue, 01 Dec 2026 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("999999999", now) == MAX_RETRY_AFTER_SECONDS
    assert retry_after_seconds("-3", now) == 0.0
    assert retry_after_seconds("", now) is None
    assert retry_after_seconds("nan", now) is None


async def test_a_metered_fetcher_counts_requests_retries_and_bytes() -> None:
    recorder = Recorder(
        httpx.Response(503),
        httpx.Response(200, content=b"x" * 1000, headers={"ETag": '"e"'}),
        httpx.Response(304, headers={"ETag": '"e"'}),
    )
    shared = fetcher(recorder)
    traffic = Traffic()
    metered = shared.metered(traffic)
    await metered.get(URL)
    assert traffic.requests == 2
    assert 1000 < traffic.bytes < 1200
    before = traffic.bytes
    await metered.get(URL, validators=Validators(etag='"e"'))
    assert traffic.requests == 3
    assert 0 < traffic.bytes - before < 100
    # The fetcher it came from counts nothing, and shares its client.
    await shared.get(URL)
    assert traffic.requests == 3
    assert metered.client is shared.client


async def test_a_server_error_followed_by_success_returns_the_body() -> None:
    recorder = Recorder(httpx.Response(503), httpx.Response(200, content=b"ok"))
    fetched = await fetcher(recorder).get(URL)
    assert fetched.body == b"ok"
    assert len(recorder.requests) == 2


@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadTimeout("slow"),
        httpx.ConnectTimeout("slow"),
        httpx.ConnectError("refused"),
        httpx.RemoteProtocolError("peer closed"),
    ],
)
async def test_timeouts_and_network_errors_are_retried_then_unavailable(error: Exception) -> None:
    recorder = Recorder(error)
    with pytest.raises(SourceUnavailable):
        await fetcher(recorder, retries=3).get(URL)
    assert len(recorder.requests) == 4


async def test_a_timeout_followed_by_success_returns_the_body() -> None:
    recorder = Recorder(httpx.ReadTimeout("slow"), httpx.Response(200, content=b"ok"))
    assert (await fetcher(recorder).get(URL)).body == b"ok"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
async def test_client_errors_are_rejected_without_retry(status: int) -> None:
    recorder = Recorder(httpx.Response(status))
    with pytest.raises(SourceRejected, match=f"HTTP {status}"):
        await fetcher(recorder, retries=5).get(URL)
    assert len(recorder.requests) == 1


async def test_redirects_are_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old":
            return httpx.Response(301, headers={"Location": URL})
        return httpx.Response(200, content=b"moved here")

    assert (await fetcher(handler).get("https://source.test/old")).body == b"moved here"


async def test_a_redirect_loop_is_rejected() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": str(request.url)})

    with pytest.raises(SourceRejected, match="too many redirects"):
        await fetcher(handler).get(URL)


async def test_a_redirect_without_a_location_is_rejected() -> None:
    with pytest.raises(SourceRejected, match="HTTP 302"):
        await fetcher(Recorder(httpx.Response(302))).get(URL)


async def test_a_broken_compressed_body_is_unavailable_after_retries() -> None:
    requests: list[httpx.Request] = []

    async def not_gzip() -> AsyncIterator[bytes]:
        yield b"not gzip at all"

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, content=not_gzip(), headers={"Content-Encoding": "gzip"})

    with pytest.raises(SourceUnavailable, match="undecodable"):
        await fetcher(handler, retries=1).get(URL)
    assert len(requests) == 2


@pytest.mark.parametrize("url", ["https://source.test/\x00", "http://:80"])
async def test_an_invalid_url_is_rejected(url: str) -> None:
    with pytest.raises(SourceRejected, match="invalid URL"):
        await fetcher(Recorder(httpx.Response(200))).get(url)


# --- size cap -----------------------------------------------------------------------------


async def test_a_declared_length_over_the_cap_is_too_large_without_reading() -> None:
    recorder = Recorder(httpx.Response(200, content=b"x" * 2000))
    with pytest.raises(SourceTooLarge, match="2000 bytes"):
        await fetcher(recorder, max_bytes=1000).get(URL)
    assert len(recorder.requests) == 1


async def test_a_streamed_body_over_the_cap_is_too_large() -> None:
    chunks_sent: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        for index in range(10_000):
            chunks_sent.append(index)
            yield b"y" * 100
            await asyncio.sleep(0)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless())  # no Content-Length: chunked

    with pytest.raises(SourceTooLarge, match="1000-byte cap"):
        await fetcher(handler, max_bytes=1000).get(URL)
    assert len(chunks_sent) < 100  # reading stopped soon after the cap


async def test_a_body_exactly_at_the_cap_is_accepted() -> None:
    recorder = Recorder(httpx.Response(200, content=b"z" * 1000))
    assert (await fetcher(recorder, max_bytes=1000).get(URL)).body == b"z" * 1000


# --- compressed bodies --------------------------------------------------------------------


def streamed(body: bytes, coding: str) -> httpx.Response:
    """A response whose body comes as raw bytes, as from the network (not read up front)."""
    return httpx.Response(200, headers={"Content-Encoding": coding}, stream=httpx.ByteStream(body))


async def test_a_gzip_bomb_is_refused_without_inflating_it() -> None:
    bomb = gzip_bomb(50_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(SourceTooLarge):
            await fetcher(Recorder(streamed(bomb, "gzip")), max_bytes=1_000_000).get(URL)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000, f"{peak} bytes held while reading a {len(bomb)}-byte bomb"


async def test_stacked_content_codings_are_refused() -> None:
    body = gzipped(b"<p>GENSHINGIFT</p>", times=2)
    with pytest.raises(SourceRejected, match="stacked"):
        await fetcher(Recorder(streamed(body, "gzip, gzip"))).get(URL)


async def test_a_body_inflating_a_hundred_times_its_size_is_refused_under_the_cap() -> None:
    body = gzipped(bytes(2_000_000))
    with pytest.raises(SourceTooLarge, match="compression bomb"):
        await fetcher(Recorder(streamed(body, "gzip")), max_bytes=5_000_000).get(URL)


@pytest.mark.parametrize("coding", ["gzip", "x-gzip", "deflate", "raw deflate", "identity"])
async def test_compressed_pages_are_read(coding: str) -> None:
    page = b"<p>GENSHINGIFT - 60 Primogems</p>" * 100
    if coding in ("gzip", "x-gzip"):
        body = gzipped(page)
    elif coding == "deflate":
        body = zlib.compress(page)
    elif coding == "raw deflate":
        compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        body, coding = compressor.compress(page) + compressor.flush(), "deflate"
    else:
        body = page
    assert (await fetcher(Recorder(streamed(body, coding))).get(URL)).body == page


async def test_a_coding_not_asked_for_is_refused() -> None:
    with pytest.raises(SourceRejected, match="does not ask for"):
        await fetcher(Recorder(streamed(b"\x1b\x00", "br"))).get(URL)


# --- concurrency --------------------------------------------------------------------------


async def test_no_more_requests_at_once_than_the_concurrency_limit() -> None:
    in_flight = 0
    most = 0

    async def slow_body() -> AsyncIterator[bytes]:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        yield b"ok"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=slow_body())

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    limited = Fetcher(client, concurrency=2, retries=0, backoff=0)
    await asyncio.gather(*(limited.get(f"{URL}/{n}") for n in range(8)))
    assert most <= 2


# --- end to end: fetch then parse ---------------------------------------------------------


async def test_fetched_bytes_go_straight_into_parse() -> None:
    page = (
        b"<div class='entry-content'><ul><li><strong>FETCHED12345</strong> - 60 Primogems"
        b"</li></ul></div>"
    )
    recorder = Recorder(httpx.Response(200, content=page))
    config = source("pockettactics", "genshin", URL)
    fetched = await fetch_url(fetcher(recorder), config, Validators())
    assert fetched.body is not None
    (code,) = pockettactics.parse(fetched.body, game("genshin"), config)
    assert code.code == "FETCHED12345"
    with pytest.raises(SourceChanged):
        pockettactics.parse(b"<html></html>", game("genshin"), config)
