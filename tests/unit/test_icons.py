"""The reward icon pipeline: checking, converting, naming by content, fetching once, failing."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from PIL import Image

from bot.site.icons import (
    DISPLAY_PX,
    ICONS_DIR,
    INDEX_NAME,
    STORED_PX,
    Icon,
    IconError,
    IconStore,
    convert,
    downloadable,
)
from tests.hostile import gzip_bomb, gzipped
from tests.recorded import LOCAL_FIXTURES

FIXTURES = LOCAL_FIXTURES / "icons"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CDN = "https://cdn.example.net/"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.load()
    return image


# --- conversion -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "size"),
    [("gem.png", (32, 32)), ("coin-wide.jpg", (32, 16)), ("book.gif", (32, 32))],
)
def test_an_image_becomes_webp_and_png_of_the_same_size(name: str, size: tuple[int, int]) -> None:
    icon = convert(fixture(name))
    webp, png = decoded(icon.webp), decoded(icon.png)
    assert webp.format == "WEBP"
    assert png.format == "PNG"
    assert webp.size == png.size
    assert max(png.size) <= STORED_PX
    # The display box keeps the picture's proportions, its long side DISPLAY_PX.
    assert (icon.width, icon.height) == size
    assert max(size) == DISPLAY_PX


def test_transparency_survives_the_conversion() -> None:
    icon = convert(fixture("gem.png"))
    png = decoded(icon.png).convert("RGBA")
    assert png.getpixel((0, 0))[3] == 0  # the corner outside the gem stays see-through
    assert png.getpixel((png.width // 2, png.height // 2))[3] > 200


def test_conversion_is_deterministic() -> None:
    assert convert(fixture("gem.png")) == convert(fixture("gem.png"))


@pytest.mark.parametrize("name", ["corrupt.png", "not-an-image.png"])
def test_corrupt_files_and_non_images_are_refused(name: str) -> None:
    with pytest.raises(IconError):
        convert(fixture(name))


def test_empty_bytes_are_refused() -> None:
    with pytest.raises(IconError):
        convert(b"")


def test_a_huge_picture_is_refused_before_it_is_decoded() -> None:
    # A one-bit 5000x5000 PNG is a few kilobytes on the wire and 25 megapixels once decoded.
    buffer = BytesIO()
    Image.new("1", (5000, 5000)).save(buffer, "PNG")
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(IconError, match="not an icon size"):
        convert(buffer.getvalue())


def test_an_svg_is_not_accepted_as_an_image() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
    with pytest.raises(IconError):
        convert(svg)


# --- which URLs are fetched ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://cdn.example.net/a.png", True),
        ("http://cdn.example.net/a.png", True),
        ("ftp://cdn.example.net/a.png", False),
        ("javascript:alert(1)", False),
        ("data:image/png;base64,AAAA", False),
        ("file:///etc/passwd", False),
        ("http://127.0.0.1:8080/a.png", False),
        ("http://localhost/a.png", False),
        ("http://10.0.0.5/a.png", False),
        ("http://169.254.169.254/latest/meta-data", False),
        ("http://[::1]/a.png", False),
        ("https://[not an address/", False),
    ],
)
def test_only_public_http_urls_are_downloaded(url: str, allowed: bool) -> None:
    assert downloadable(url) is allowed


# --- the store --------------------------------------------------------------------------


class FakeCdn:
    """Icon URLs answered from a dict, every request recorded."""

    def __init__(self, pages: dict[str, httpx.Response]) -> None:
        self.pages = pages
        self.requests: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.requests.append(url)
        response = self.pages.get(url)
        if response is None:
            return httpx.Response(404, content=b"not found")
        return response

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handler))


def image(name: str) -> httpx.Response:
    return httpx.Response(200, content=fixture(name), headers={"Content-Type": "image/png"})


@pytest.fixture
def cdn() -> FakeCdn:
    return FakeCdn(
        {
            f"{CDN}gem.png": image("gem.png"),
            f"{CDN}gem-again.png": image("gem.png"),
            f"{CDN}coin.jpg": image("coin-wide.jpg"),
            f"{CDN}corrupt.png": image("corrupt.png"),
            f"{CDN}page.png": image("not-an-image.png"),
            f"{CDN}error.png": httpx.Response(500),
            f"{CDN}huge.png": httpx.Response(200, content=b"\x89PNG" + b"\0" * 600_000),
        }
    )


def store(
    site: Path, client: httpx.AsyncClient | None, clock: Callable[[], datetime]
) -> IconStore:
    return IconStore(site, client, clock)


async def test_icons_are_stored_under_names_that_hash_their_content(
    tmp_path: Path, cdn: FakeCdn
) -> None:
    async with cdn.client() as client:
        icons = await store(tmp_path, client, lambda: NOW).resolve([f"{CDN}gem.png"])
    icon = icons[f"{CDN}gem.png"]
    folder = tmp_path / ICONS_DIR
    for name, kind in ((icon.webp, "WEBP"), (icon.png, "PNG")):
        data = (folder / name).read_bytes()
        assert name == hashlib.sha256(data).hexdigest()[:16] + "." + kind.lower()
        assert decoded(data).format == kind
    assert (icon.width, icon.height) == (32, 32)


async def test_each_icon_is_fetched_once_across_cycles_and_restarts(
    tmp_path: Path, cdn: FakeCdn
) -> None:
    urls = [f"{CDN}gem.png", f"{CDN}coin.jpg"]
    async with cdn.client() as client:
        first_store = store(tmp_path, client, lambda: NOW)
        first = await first_store.resolve(urls)
        again = await first_store.resolve(urls)
        # A new process reads what the last one fetched from the index in the site folder.
        restarted = await store(tmp_path, client, lambda: NOW).resolve(urls)
    assert set(first) == set(urls)
    assert first == again == restarted
    assert sorted(cdn.requests) == sorted(urls)


async def test_the_same_picture_at_two_urls_is_stored_once(tmp_path: Path, cdn: FakeCdn) -> None:
    async with cdn.client() as client:
        icons = await store(tmp_path, client, lambda: NOW).resolve(
            [f"{CDN}gem.png", f"{CDN}gem-again.png"]
        )
    assert icons[f"{CDN}gem.png"] == icons[f"{CDN}gem-again.png"]
    stored = sorted(p.name for p in (tmp_path / ICONS_DIR).iterdir())
    assert len([n for n in stored if not n.startswith(".")]) == 2  # one .webp, one .png


async def test_an_icon_no_page_wanted_for_a_month_is_forgotten_and_its_files_deleted(
    tmp_path: Path, cdn: FakeCdn
) -> None:
    gem, again, coin = f"{CDN}gem.png", f"{CDN}gem-again.png", f"{CDN}coin.jpg"
    today = [NOW]
    async with cdn.client() as client:
        icons = await store(tmp_path, client, lambda: today[0]).resolve([gem, again, coin])
        files = {url: {icon.webp, icon.png} for url, icon in icons.items()}
        today[0] = NOW + timedelta(days=20)
        await store(tmp_path, client, lambda: today[0]).resolve([gem])
        # A restart in between: the days each icon was last wanted are in the index.
        today[0] = NOW + timedelta(days=31)
        assert list(await store(tmp_path, client, lambda: today[0]).resolve([gem])) == [gem]
    index = json.loads((tmp_path / ICONS_DIR / INDEX_NAME).read_text())
    assert list(index["icons"]) == [gem]
    on_disk = {p.name for p in (tmp_path / ICONS_DIR).iterdir() if not p.name.startswith(".")}
    # The gem's files stay: the icon forgotten at another URL had the same ones.
    assert on_disk == files[gem]
    assert files[coin].isdisjoint(on_disk)


@pytest.mark.parametrize(
    "url",
    [
        f"{CDN}corrupt.png",
        f"{CDN}page.png",
        f"{CDN}error.png",
        f"{CDN}missing.png",
        f"{CDN}huge.png",
        "http://127.0.0.1/icon.png",
        "javascript:alert(1)",
    ],
)
async def test_an_icon_that_cannot_be_had_is_left_out(
    tmp_path: Path, cdn: FakeCdn, url: str
) -> None:
    async with cdn.client() as client:
        icons = await store(tmp_path, client, lambda: NOW).resolve([url, f"{CDN}gem.png"])
    assert list(icons) == [f"{CDN}gem.png"]


async def test_a_download_over_the_cap_stops_early(tmp_path: Path, cdn: FakeCdn) -> None:
    cdn.pages[f"{CDN}declared.png"] = httpx.Response(
        200, content=fixture("gem.png"), headers={"Content-Length": "99999999"}
    )
    async with cdn.client() as client:
        small = IconStore(tmp_path, client, lambda: NOW, max_bytes=100)
        assert await small.resolve([f"{CDN}gem.png", f"{CDN}declared.png"]) == {}


def streamed(body: bytes, coding: str) -> httpx.Response:
    """Raw bytes, as from the network (not read up front, as a Response made of bytes is)."""
    return httpx.Response(200, headers={"Content-Encoding": coding}, stream=httpx.ByteStream(body))


async def test_a_gzip_bomb_is_refused_without_inflating_it(
    tmp_path: Path, cdn: FakeCdn, caplog: pytest.LogCaptureFixture
) -> None:
    cdn.pages[f"{CDN}bomb.png"] = streamed(gzip_bomb(50_000_000), "gzip")
    caplog.set_level(logging.INFO, logger="bot.site.icons")
    tracemalloc.start()
    try:
        async with cdn.client() as client:
            assert await store(tmp_path, client, lambda: NOW).resolve([f"{CDN}bomb.png"]) == {}
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "byte cap" in caplog.text
    assert peak < 10_000_000, f"{peak} bytes held while reading the bomb"


async def test_an_icon_in_stacked_content_codings_is_refused(
    tmp_path: Path, cdn: FakeCdn, caplog: pytest.LogCaptureFixture
) -> None:
    cdn.pages[f"{CDN}twice.png"] = streamed(gzipped(fixture("gem.png"), times=2), "gzip, gzip")
    cdn.pages[f"{CDN}once.png"] = streamed(gzipped(fixture("gem.png")), "gzip")
    caplog.set_level(logging.INFO, logger="bot.site.icons")
    async with cdn.client() as client:
        icons = await store(tmp_path, client, lambda: NOW).resolve(
            [f"{CDN}twice.png", f"{CDN}once.png"]
        )
    assert list(icons) == [f"{CDN}once.png"]
    assert "stacked content codings" in caplog.text


async def test_a_network_error_is_a_failure_not_a_crash(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        assert await store(tmp_path, client, lambda: NOW).resolve([f"{CDN}gem.png"]) == {}


async def test_a_failed_icon_is_tried_again_only_after_a_day(tmp_path: Path, cdn: FakeCdn) -> None:
    now = [NOW]
    url = f"{CDN}later.png"
    async with cdn.client() as client:
        icons = store(tmp_path, client, lambda: now[0])
        assert await icons.resolve([url]) == {}
        now[0] = NOW + timedelta(hours=23)
        assert await store(tmp_path, client, lambda: now[0]).resolve([url]) == {}
        assert cdn.requests == [url]
        # The CDN has it now; a day after the failure it is fetched.
        cdn.pages[url] = image("gem.png")
        now[0] = NOW + timedelta(days=1, minutes=1)
        assert url in await icons.resolve([url])
    assert cdn.requests == [url, url]


async def test_an_icon_whose_files_are_gone_is_fetched_again(tmp_path: Path, cdn: FakeCdn) -> None:
    url = f"{CDN}gem.png"
    async with cdn.client() as client:
        icon = (await store(tmp_path, client, lambda: NOW).resolve([url]))[url]
        (tmp_path / ICONS_DIR / icon.webp).unlink()
        assert (await store(tmp_path, client, lambda: NOW).resolve([url]))[url] == icon
    assert cdn.requests == [url, url]


@pytest.mark.parametrize(
    "index",
    [
        b"{not json",
        b"[]",
        b'{"version": 99, "icons": {}}',
        # Names that are not content hashes are not put into a page.
        json.dumps(
            {
                "version": 1,
                "icons": {
                    f"{CDN}gem.png": {
                        "webp": "../../x.webp",
                        "png": "a.png",
                        "width": 32,
                        "height": 32,
                    }
                },
            }
        ).encode(),
    ],
)
async def test_a_damaged_index_is_started_afresh(
    tmp_path: Path, cdn: FakeCdn, index: bytes
) -> None:
    folder = tmp_path / ICONS_DIR
    folder.mkdir()
    (folder / INDEX_NAME).write_bytes(index)
    async with cdn.client() as client:
        icons = await store(tmp_path, client, lambda: NOW).resolve([f"{CDN}gem.png"])
    assert icons[f"{CDN}gem.png"].webp.endswith(".webp")
    assert json.loads((folder / INDEX_NAME).read_bytes())["version"] == 1


async def test_without_a_client_only_known_icons_are_given(tmp_path: Path, cdn: FakeCdn) -> None:
    async with cdn.client() as client:
        await store(tmp_path, client, lambda: NOW).resolve([f"{CDN}gem.png"])
    offline = store(tmp_path, None, lambda: NOW)
    icons = await offline.resolve([f"{CDN}gem.png", f"{CDN}coin.jpg"])
    assert list(icons) == [f"{CDN}gem.png"]
    assert isinstance(icons[f"{CDN}gem.png"], Icon)


async def test_new_downloads_per_run_are_capped(tmp_path: Path, cdn: FakeCdn) -> None:
    urls = [f"{CDN}gem.png", f"{CDN}coin.jpg", f"{CDN}gem-again.png"]
    async with cdn.client() as client:
        icons = IconStore(tmp_path, client, lambda: NOW, max_new_per_run=2)
        assert len(await icons.resolve(urls)) == 2
        assert len(await icons.resolve(urls)) == 3
    assert len(cdn.requests) == 3


async def test_redirects_are_followed_and_each_hop_is_checked(
    tmp_path: Path, cdn: FakeCdn
) -> None:
    cdn.pages[f"{CDN}moved.png"] = httpx.Response(302, headers={"Location": "/gem.png"})
    cdn.pages[f"{CDN}inside.png"] = httpx.Response(
        302, headers={"Location": "http://127.0.0.1/admin.png"}
    )
    cdn.pages[f"{CDN}loop.png"] = httpx.Response(302, headers={"Location": "/loop.png"})
    async with cdn.client() as client:
        icons = await store(tmp_path, client, lambda: NOW).resolve(
            [f"{CDN}moved.png", f"{CDN}inside.png", f"{CDN}loop.png"]
        )
    assert list(icons) == [f"{CDN}moved.png"]
    # The hop to this machine was refused before any request went there.
    assert not any(url.startswith("http://127.0.0.1") for url in cdn.requests)
    assert cdn.requests.count(f"{CDN}loop.png") == 4


async def test_a_slow_cdn_delays_the_site_only_for_the_run_budget(tmp_path: Path) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, content=fixture("gem.png"))

    async with httpx.AsyncClient(transport=httpx.MockTransport(slow)) as client:
        icons = IconStore(tmp_path, client, lambda: NOW, run_budget=0.2)
        started = time.monotonic()
        assert await icons.resolve([f"{CDN}gem.png"]) == {}
        assert time.monotonic() - started < 2
    # Not taken as a failure: the next run tries again at once.
    index = json.loads((tmp_path / ICONS_DIR / INDEX_NAME).read_bytes())
    assert index["failed"] == {}
