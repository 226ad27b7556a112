"""URLs from the web reach public addresses only: icon URLs however they spell a private
address, and every redirect, of icons and of sources to another host, checked where it
connects."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from ipaddress import ip_address
from pathlib import Path

import httpx
import pytest

from bot.app.http import build_http_client, build_public_client, tls_context
from bot.app.settings import Settings
from bot.core.addresses import IPAddress, is_public
from bot.site.icons import IconStore
from scrapers.base import Fetcher, SourceRejected
from tests.fakes.source_site import FixtureSite, Page
from tests.recorded import LOCAL_FIXTURES

SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]
GEM = Page((LOCAL_FIXTURES / "icons" / "gem.png").read_bytes(), "image/png")
# In these tests 127.0.0.2 stands for a public host; 127.0.0.1 is the private one.
STAND_IN = ip_address("127.0.0.2")


def public_or_stand_in(address: IPAddress) -> bool:
    return is_public(address) or address == STAND_IN


def now() -> datetime:
    return datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture
async def private() -> AsyncIterator[FixtureSite]:
    async with FixtureSite(pages={"gem.png": GEM, "codes.html": Page(b"GENSHINGIFT")}) as site:
        yield site


@pytest.fixture
async def outside() -> AsyncIterator[FixtureSite]:
    async with FixtureSite(pages={"gem.png": GEM}, host=str(STAND_IN)) as site:
        yield site


def icons(folder: Path, client: httpx.AsyncClient) -> IconStore:
    # The URL check before any connection is off: what is tested is the check where the
    # connection is made (the one a spelling or a redirect cannot get past).
    return IconStore(folder, client, now, allow_private_hosts=True)


@pytest.mark.parametrize("spelling", ["127.0.0.1", "127.1", "2130706433", "0x7f000001", "0177.1"])
async def test_icon_urls_spelling_a_private_address_any_way_are_not_fetched(
    tmp_path: Path, private: FixtureSite, spelling: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.site.icons")
    async with build_public_client(SETTINGS, tls_context()) as client:
        found = await icons(tmp_path, client).resolve(
            [f"http://{spelling}:{private.port}/gem.png"]
        )
    assert found == {}
    assert private.requests == []
    assert "not a public address" in caplog.text


async def test_an_icon_redirected_to_a_private_address_is_not_fetched(
    tmp_path: Path, private: FixtureSite, outside: FixtureSite
) -> None:
    outside.redirects["to-private.png"] = f"http://127.1:{private.port}/gem.png"
    outside.redirects["to-public.png"] = outside.url("gem.png")
    async with build_public_client(SETTINGS, tls_context(), public_or_stand_in) as client:
        found = await icons(tmp_path, client).resolve(
            [outside.url("to-private.png"), outside.url("to-public.png")]
        )
    assert list(found) == [outside.url("to-public.png")]
    assert private.requests == []


async def test_a_source_redirected_to_a_private_address_on_another_host_is_refused(
    private: FixtureSite,
) -> None:
    # The source itself may be on a private host (the operator chose it); a redirect to
    # another host is web text, and may not lead inside.
    private.redirects["moved.html"] = private.url("codes.html")
    private.redirects["elsewhere.html"] = f"http://2130706433:{private.port}/codes.html"
    async with (
        build_http_client(SETTINGS, tls_context()) as client,
        build_public_client(SETTINGS, tls_context()) as public,
    ):
        fetcher = Fetcher(client, public_client=public, retries=0)
        assert (await fetcher.get(private.url("moved.html"))).body == b"GENSHINGIFT"
        with pytest.raises(SourceRejected, match="private address"):
            await fetcher.get(private.url("elsewhere.html"))
    assert private.requests.count("codes.html") == 1
