"""python-telegram-bot's HTTP transport on one aiohttp session, for fast fan-out.

PTB's default `HTTPXRequest` spends 2–5 ms of CPU per call and sends about 370 messages/s at
best (PLATFORM-NOTES.md); `BaseRequest` is PTB's documented place to plug in another client.
One `aiohttp.ClientSession` with a bounded connection pool does the same work several times
faster, which is what lets one process fan an announcement out at well over 1,000 messages/s.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_plus

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_FORM = "application/x-www-form-urlencoded"
# Parameter values this long or longer (a message's text, its keyboard) are kept encoded: a
# fan-out sends the same ones to every chat, and quoting a message's text for the form body
# cost a third of a send's CPU. Chat ids and such short values are quoted each time.
ENCODED_VALUE_MIN_CHARS = 64
ENCODED_VALUES_KEPT = 64


class FormEncoder:
    """A call's parameters as a form body, exactly as PTB's `url_encoded_parameters`
    (`urllib.parse.urlencode`) encodes them, with the encoding of long values remembered."""

    def __init__(self, capacity: int = ENCODED_VALUES_KEPT) -> None:
        self.capacity = capacity
        self._encoded: OrderedDict[str, str] = OrderedDict()

    def __call__(self, parameters: Mapping[str, str]) -> bytes:
        return "&".join(
            f"{quote_plus(name)}={self._value(value)}" for name, value in parameters.items()
        ).encode()

    def _value(self, value: str) -> str:
        if len(value) < ENCODED_VALUE_MIN_CHARS:
            return quote_plus(value)
        encoded = self._encoded.get(value)
        if encoded is None:
            encoded = self._encoded[value] = quote_plus(value)
            while len(self._encoded) > self.capacity:
                self._encoded.popitem(last=False)
        else:
            self._encoded.move_to_end(value)
        return encoded


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` backed by one `aiohttp.ClientSession`.

    The timeouts mean what they mean for `HTTPXRequest`: `connect_timeout` for opening a
    connection, `pool_timeout` for waiting for a free one, `read_timeout` between bytes of the
    answer. aiohttp has no write timeout of its own, so `write_timeout` bounds the whole call
    together with the others.
    """

    def __init__(
        self,
        *,
        pool_size: int = 32,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self.pool_size = pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._form = FormEncoder()
        # Most calls use the defaults: one timeout object for all of them.
        self._default_timeout = _client_timeout(
            read_timeout, write_timeout, connect_timeout, pool_timeout
        )

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.pool_size, keepalive_timeout=30, enable_cleanup_closed=True
            )
            # No cookies: the Bot API does not use them, and a jar is work on every answer.
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": self.USER_AGENT},
                skip_auto_headers=("Accept-Encoding",),
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _timeout(
        self,
        read_timeout: ODVInput[float],
        write_timeout: ODVInput[float],
        connect_timeout: ODVInput[float],
        pool_timeout: ODVInput[float],
    ) -> aiohttp.ClientTimeout:
        given_values = (read_timeout, write_timeout, connect_timeout, pool_timeout)
        if all(isinstance(value, DefaultValue) for value in given_values):
            return self._default_timeout

        def given(value: ODVInput[float], default: float | None) -> float | None:
            return default if isinstance(value, DefaultValue) else value

        return _client_timeout(
            given(read_timeout, self._read_timeout),
            given(write_timeout, self._write_timeout),
            given(connect_timeout, self._connect_timeout),
            given(pool_timeout, self._pool_timeout),
        )

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        timeout = self._timeout(read_timeout, write_timeout, connect_timeout, pool_timeout)
        body: Any = None
        headers: dict[str, str] | None = None
        if request_data is not None:
            if request_data.contains_files:
                body = _multipart(request_data)
            else:
                body = self._form(request_data.json_parameters)
                headers = {"Content-Type": _FORM}
        try:
            async with session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            # aiohttp's own timeouts derive from TimeoutError (asyncio's, on 3.11 the same).
            raise TimedOut(f"Timed out: {type(exc).__name__}") from exc
        except (aiohttp.ClientError, OSError) as exc:
            # The URL holds the bot token, and this text may be logged or stored with a
            # delivery: it is cut out, and the original (which may repeat it) not chained.
            detail = str(exc).replace(url, "<url>")
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {detail}") from None


def _client_timeout(
    read: float | None, write: float | None, connect: float | None, pool: float | None
) -> aiohttp.ClientTimeout:
    parts = (read, write, connect, pool)
    total = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
    waiting = None if connect is None or pool is None else connect + pool
    return aiohttp.ClientTimeout(
        total=total, connect=waiting, sock_connect=connect, sock_read=read
    )


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form
