"""The HTTP clients: the shared one, and one that connects to public addresses only.

The public-only client is for URLs that come from the web (reward icons, a source's redirect
to another host): every connection it opens resolves the host itself, refuses it unless each
address is public (bot/core/addresses.py), and connects to the address it checked, so that a
name cannot resolve to one address for the check and another for the connection.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable

import httpcore
import httpx

from bot.app.settings import Settings
from bot.core.addresses import IPAddress, PrivateAddress, is_public


def tls_context() -> ssl.SSLContext:
    """The certificate authorities every HTTP client of a process trusts, loaded once.

    Each client left to itself loads them again (about 1 MB of memory each): the composition
    root builds one and hands it to every client it makes.
    """
    return httpx.create_ssl_context()


def build_http_client(settings: Settings, tls: ssl.SSLContext) -> httpx.AsyncClient:
    """The shared client: sources as the catalog names them, pings, the redeem endpoint."""
    return httpx.AsyncClient(
        verify=tls,
        timeout=_timeout(settings),
        headers=_headers(settings),
        follow_redirects=True,
        limits=_limits(settings),
    )


def build_public_client(
    settings: Settings, tls: ssl.SSLContext, allowed: Callable[[IPAddress], bool] = is_public
) -> httpx.AsyncClient:
    """A client that connects only to addresses `allowed` passes (public ones); it raises
    PrivateAddress for any other, and follows no redirect by itself."""
    limits = _limits(settings)
    transport = httpx.AsyncHTTPTransport(verify=tls, limits=limits, trust_env=False)
    # httpx builds its connection pool without a say in how it connects; it is built again
    # here the way httpx builds it, with a network backend that checks every address.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=tls,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=CheckedAddresses(httpcore.AnyIOBackend(), allowed),
    )
    return httpx.AsyncClient(
        transport=transport,
        timeout=_timeout(settings),
        headers=_headers(settings),
        follow_redirects=False,
    )


class CheckedAddresses(httpcore.AsyncNetworkBackend):
    """Connects only where `allowed` says, to the very address it checked."""

    def __init__(
        self, inner: httpcore.AsyncNetworkBackend, allowed: Callable[[IPAddress], bool]
    ) -> None:
        self.inner = inner
        self.allowed = allowed

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} took too long") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = [ipaddress.ip_address(entry[4][0]) for entry in found]
        if not addresses or not all(self.allowed(address) for address in addresses):
            shown = ", ".join(sorted({str(a) for a in addresses})) or "nothing"
            raise PrivateAddress(f"{host} is at a private address ({shown})")
        return await self.inner.connect_tcp(
            str(addresses[0]),
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise PrivateAddress("a local socket")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def _timeout(settings: Settings) -> httpx.Timeout:
    return httpx.Timeout(settings.http_timeout, connect=min(10.0, settings.http_timeout))


def _headers(settings: Settings) -> dict[str, str]:
    return {"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"}


def _limits(settings: Settings) -> httpx.Limits:
    return httpx.Limits(max_connections=settings.http_concurrency * 2)
