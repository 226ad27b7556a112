"""Response bodies read under a cap: decompressed here, a piece at a time, counted as they come.

An HTTP client that decompresses for its caller hands over each network chunk decompressed
whole: a few kilobytes of nested gzip become gigabytes in one piece, before any size cap can
look at them. So codecast reads the raw bytes and decompresses them itself (zlib, no I/O
here): no step yields more than what is left under the cap; one content coding at most is
taken (a stack such as "gzip, gzip" is what a bomb looks like, and codecast asks for none);
and a large body that inflates more than MAX_RATIO times what came over the wire is refused.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import Protocol

# The codings codecast asks for (Accept-Encoding: gzip, deflate), with zlib's window bits.
_CODINGS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
# Web pages compress five to twenty times; a body inflating far more is built to inflate.
MAX_RATIO = 100
# The ratio is looked at past this many bytes only: a small page of repeated markup may
# inflate a lot, and costs nothing.
RATIO_FROM_BYTES = 1_000_000


class BodyError(Exception):
    """A response body codecast does not take."""


class BodyTooLarge(BodyError):
    """More than the cap, or a bomb: more than MAX_RATIO times its compressed size."""


class BodyRefused(BodyError):
    """A content coding codecast did not ask for, or several stacked."""


class BodyUndecodable(BodyError):
    """Compressed data that does not decompress: broken, usually in passing."""


def content_coding(header: str | None) -> str | None:
    """The one coding a Content-Encoding header names (None: the body is as sent)."""
    codings = [c.strip().lower() for c in (header or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if len(codings) > 1:
        raise BodyRefused(f"stacked content codings ({', '.join(codings)})")
    if not codings:
        return None
    if codings[0] not in _CODINGS:
        raise BodyRefused(f"content coding {codings[0][:40]!r}, which codecast does not ask for")
    return codings[0]


class _Inflater:
    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._zlib = zlib.decompressobj(_CODINGS[coding])
        self._started = False

    @property
    def done(self) -> bool:
        return self._zlib.eof

    @property
    def unconsumed(self) -> bytes:
        return self._zlib.unconsumed_tail

    def inflate(self, data: bytes, at_most: int) -> bytes:
        try:
            try:
                out = self._zlib.decompress(data, at_most)
            except zlib.error:
                if self.coding != "deflate" or self._started:
                    raise
                # Servers send "deflate" without its zlib wrapper as often as with it.
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                out = self._zlib.decompress(data, at_most)
        except zlib.error as exc:
            raise BodyUndecodable(f"broken {self.coding} data: {exc}") from exc
        self._started = True
        return out


class StreamedResponse(Protocol):
    """What is read of an HTTP response (an httpx.Response, streamed)."""

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def is_stream_consumed(self) -> bool: ...

    @property
    def content(self) -> bytes: ...

    def aiter_raw(self) -> AsyncIterator[bytes]: ...


async def read_response(response: StreamedResponse, *, max_bytes: int) -> bytes:
    """A streamed response's body under the cap (see read_body)."""
    if response.is_stream_consumed:
        # Made in memory (a test's transport), and so read and decoded whole already.
        if len(response.content) > max_bytes:
            raise BodyTooLarge(f"more than the {max_bytes}-byte cap")
        return response.content
    raw = response.aiter_raw()
    return await read_body(raw, response.headers.get("Content-Encoding"), max_bytes=max_bytes)


async def read_body(
    raw: AsyncIterable[bytes], content_encoding: str | None, *, max_bytes: int
) -> bytes:
    """The body as content, from its raw bytes and its Content-Encoding header; raises a
    BodyError (and stops reading) once it is not one codecast takes."""
    coding = content_coding(content_encoding)
    inflater = _Inflater(coding) if coding is not None else None
    parts: list[bytes] = []
    size = 0
    wire = 0
    async for chunk in raw:
        wire += len(chunk)
        if inflater is None:
            size += len(chunk)
            _check(size, wire, max_bytes, coded=False)
            parts.append(chunk)
            continue
        data = chunk
        while data and not inflater.done:
            # At most one byte past the cap, so that going past it shows.
            piece = inflater.inflate(data, max_bytes - size + 1)
            size += len(piece)
            _check(size, wire, max_bytes, coded=True)
            parts.append(piece)
            data = inflater.unconsumed
    return b"".join(parts)


def _check(size: int, wire: int, max_bytes: int, *, coded: bool) -> None:
    if size > max_bytes:
        raise BodyTooLarge(f"more than the {max_bytes}-byte cap")
    if coded and size > RATIO_FROM_BYTES and size > MAX_RATIO * wire:
        raise BodyTooLarge(f"inflates more than {MAX_RATIO} times: a compression bomb")
