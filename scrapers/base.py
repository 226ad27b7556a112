"""What every scraper shares: the module contract, the SourceError family, and fetching.

A scraper module exposes two functions:

    async def fetch(fetcher: Fetcher, source: SourceConfig, validators: Validators) -> Fetched
    def parse(body: bytes, game: Game, source: SourceConfig) -> list[ScrapedCode]

`parse` is pure: bytes in, codes out, no I/O. It raises `SourceChanged` when the page no
longer has the shape it knows (a layout change, garbage), and returns an empty list when the
shape is right but holds no codes (HoYoLAB between livestreams).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from bot.core.addresses import PrivateAddress
from bot.core.bodies import BodyRefused, BodyTooLarge, BodyUndecodable, read_response
from bot.core.domain import Game, ScrapedCode, SourceConfig

log = logging.getLogger(__name__)

# Redirects followed for one fetch at most.
MAX_REDIRECTS = 10


class SourceError(Exception):
    """Something went wrong with one source; `status` is the word stored on its row."""

    status = "error"


class SourceUnavailable(SourceError):
    """The source could not be reached: network error, timeout, 5xx or 429.

    `retry_after` is the wait in seconds the server asked for (Retry-After), if it did.
    """

    status = "unavailable"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SourceThrottled(SourceUnavailable):
    """The server said 429 Too Many Requests: codecast waits as long as it asks, or backs off."""

    status = "throttled"


class SourceRejected(SourceError):
    """The source answered with a client error (403, 404, 410, ...): the URL or access is wrong."""

    status = "rejected"


class SourceTooLarge(SourceError):
    """The response was larger than the configured cap."""

    status = "too-large"


class SourceTooSlow(SourceError):
    """Parsing the page took longer than the time limit: hostile or pathological markup."""

    status = "too-slow"


class SourceChanged(SourceError):
    """The response no longer has the shape the parser knows: a layout change or garbage."""

    status = "changed"


@dataclass(frozen=True)
class Validators:
    """What a source's last read left to make the next one cheap, kept per source.

    `etag` and `last_modified` are HTTP's (conditional GET); `revision` is the MediaWiki
    revision id of a wiki page's content, asked for before the content itself.
    """

    etag: str | None = None
    last_modified: str | None = None
    revision: str | None = None


@dataclass
class Traffic:
    """Requests made and bytes received (headers and body, as sent) for one poll."""

    requests: int = 0
    bytes: int = 0


@dataclass(frozen=True)
class Fetched:
    """A fetched response. `body` is None when the server said 304 Not Modified."""

    body: bytes | None
    validators: Validators
    content_type: str = ""

    @property
    def not_modified(self) -> bool:
        return self.body is None


class Scraper(Protocol):
    """The contract of a scraper module (see the module docstring)."""

    async def fetch(
        self, fetcher: Fetcher, source: SourceConfig, validators: Validators
    ) -> Fetched: ...

    def parse(self, body: bytes, game: Game, source: SourceConfig) -> list[ScrapedCode]: ...


class _Retryable(Exception):
    """Internal: a failure worth another try (timeout, connection error, 5xx)."""

    def __init__(self, error: SourceError) -> None:
        super().__init__(str(error))
        self.error = error


class Fetcher:
    """One shared httpx.AsyncClient with a concurrency limit, a size cap and retries.

    Redirects are followed here, hop by hop: one to another host than the source's is web
    text, and goes through `public_client` (public addresses only) when there is one.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        public_client: httpx.AsyncClient | None = None,
        max_bytes: int = 5_000_000,
        concurrency: int = 8,
        retries: int = 2,
        backoff: float = 0.5,
    ) -> None:
        self.client = client
        self.public_client = public_client
        self.max_bytes = max_bytes
        self.retries = retries
        self.backoff = backoff
        self._slots = asyncio.Semaphore(concurrency)
        self._traffic: Traffic | None = None

    def metered(self, traffic: Traffic) -> Fetcher:
        """This fetcher (same client, same limit) counting its requests into `traffic`."""
        view = copy.copy(self)
        view._traffic = traffic
        return view

    async def get(
        self,
        url: str,
        *,
        validators: Validators = Validators(),  # frozen, so safe as a default
        headers: dict[str, str] | None = None,
    ) -> Fetched:
        """GET `url`, conditionally when validators are known, retrying transient failures."""
        request_headers = dict(headers or {})
        if validators.etag:
            request_headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            request_headers["If-Modified-Since"] = validators.last_modified
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retries + 1),
            # Exponential backoff plus jitter in proportion to it (tenacity's
            # wait_exponential_jitter adds a whole second and renamed its arguments in 9.x).
            wait=wait_exponential(multiplier=self.backoff, max=10 * self.backoff)
            + wait_random(0, self.backoff),
            retry=retry_if_exception_type(_Retryable),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    async with self._slots:
                        return await self._get_once(url, request_headers, validators)
        except _Retryable as exc:
            raise exc.error from exc
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def _get_once(
        self, url: str, headers: dict[str, str], validators: Validators
    ) -> Fetched:
        try:
            source_host = httpx.URL(url).host
            # Sites move pages (http to https, renamed articles): redirects are followed, each
            # hop to another host checked like a URL from the web.
            for _ in range(MAX_REDIRECTS + 1):
                client = self.client
                if httpx.URL(url).host != source_host and self.public_client is not None:
                    client = self.public_client
                if self._traffic is not None:
                    self._traffic.requests += 1
                async with client.stream(
                    "GET", url, headers=headers, follow_redirects=False
                ) as response:
                    try:
                        if response.has_redirect_location:
                            url = str(response.url.join(response.headers["Location"]))
                            continue
                        return await self._answer(response, validators)
                    finally:
                        if self._traffic is not None:
                            self._traffic.bytes += _received(response)
            raise SourceRejected("too many redirects")
        except PrivateAddress as exc:
            raise SourceRejected(f"redirected to a private address: {exc}") from exc
        except BodyTooLarge as exc:
            raise SourceTooLarge(str(exc)) from exc
        except BodyRefused as exc:
            raise SourceRejected(str(exc)) from exc
        except BodyUndecodable as exc:
            # A broken gzip or deflate stream: the server's fault, and usually a passing one.
            raise _Retryable(SourceUnavailable(f"undecodable response: {exc}")) from exc
        except httpx.TimeoutException as exc:
            raise _Retryable(SourceUnavailable(f"timed out ({type(exc).__name__})")) from exc
        except httpx.TransportError as exc:
            raise _Retryable(SourceUnavailable(f"network error: {exc}")) from exc
        except (httpx.InvalidURL, ValueError) as exc:
            # ValueError: httpx hands some malformed URLs to urllib (cookies), which says so.
            raise SourceRejected(f"invalid URL: {exc}") from exc
        except httpx.HTTPError as exc:
            raise SourceUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def _answer(self, response: httpx.Response, validators: Validators) -> Fetched:
        """What one final (not redirecting) response says."""
        if response.status_code == 304:
            return Fetched(body=None, validators=validators)
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        if response.status_code == 429:
            # Asking again at once is what a 429 asks not to do: the poll ends here
            # and the host waits (scrapers/politeness.py).
            raise SourceThrottled("HTTP 429", retry_after=retry_after)
        if response.status_code >= 500:
            error = SourceUnavailable(f"HTTP {response.status_code}", retry_after=retry_after)
            if retry_after is not None:
                raise error
            raise _Retryable(error)
        if response.status_code >= 300:
            raise SourceRejected(f"HTTP {response.status_code}")
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise SourceTooLarge(f"{declared} bytes is over the {self.max_bytes} cap")
        body = await read_response(response, max_bytes=self.max_bytes)
        return Fetched(
            body=body,
            validators=Validators(
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            ),
            content_type=response.headers.get("Content-Type", ""),
        )


# A Retry-After longer than this is taken as this: a source is not given up for days.
MAX_RETRY_AFTER_SECONDS = 6 * 3600.0


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds from now: a number of seconds or an HTTP date; None if absent."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER_SECONDS)


def _received(response: httpx.Response) -> int:
    """Bytes of the status line, headers and body (compressed, as they came) of a response."""
    headers = sum(len(name) + len(value) + 4 for name, value in response.headers.raw)
    # A response built with its content already in memory (a test transport) never counts
    # downloaded bytes; its content is what came.
    body = response.num_bytes_downloaded
    if not body:
        with contextlib.suppress(httpx.ResponseNotRead):
            body = len(response.content)
    return len(response.reason_phrase) + 15 + headers + 2 + body


async def fetch_url(fetcher: Fetcher, source: SourceConfig, validators: Validators) -> Fetched:
    """The plain fetch most scrapers use: a conditional GET of the source's URL."""
    return await fetcher.get(source.url, validators=validators)


def decode_text(body: bytes) -> str:
    """Bytes to text for parsers: UTF-8 (with or without BOM), falling back without failing."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


# A scraper's fetch as a value (scrapers.fetch_for).
FetchFunction = Callable[[Fetcher, SourceConfig, Validators], Awaitable[Fetched]]
