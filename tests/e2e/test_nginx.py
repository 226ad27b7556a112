"""nginx with deploy/nginx.conf serving the site while codecast rewrites it under its feet."""

from __future__ import annotations

import gzip
import http.client
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.catalog import load_catalog
from bot.core.domain import CodeStatus, CodeView
from bot.site import SiteRenderer, SiteSnapshot, render_site, write_site
from tests.e2e.browser_setup import INSTALL_TIMEOUT_MARK, Nginx, require_nginx, running_nginx

pytestmark = INSTALL_TIMEOUT_MARK

GAMES = tuple(load_catalog().games.values())
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SITE_URL = "https://codes.example.org/"
REWARDS = (
    "Primogems \u00d760",
    "Stellar Jade \u00d7100, Credit \u00d75000",
    "Polychrome \u00d7300",
)
# The site is rewritten this many times (or for at most that long) while readers fetch it.
# At least MIN_REWRITES, however slow the machine; more while REWRITE_SECONDS last.
MIN_REWRITES = 4
REWRITES = 6
REWRITE_SECONDS = 6.0
READERS = 3
WATCHED = {
    "/": "index.html",
    "/genshin/": "genshin/index.html",
    "/codes.json": "codes.json",
    "/hsr/codes.json": "hsr/codes.json",
    "/feed.xml": "feed.xml",
}


def snapshot(version: int, per_game: int = 50) -> SiteSnapshot:
    """Five games of `per_game` codes; each version finds a new code and expires an old one."""
    codes = []
    for game in GAMES:
        for i in range(per_game):
            number = version + i
            expired = i >= per_game - 1 - version % 7
            codes.append(
                CodeView(
                    game=game.id,
                    code=f"{game.id[:3].upper()}{number:07d}",
                    status=CodeStatus.EXPIRED if expired else CodeStatus.ACTIVE,
                    rewards=REWARDS[number % len(REWARDS)],
                    items=(),
                    first_seen=NOW - timedelta(hours=3 * i) + timedelta(minutes=version),
                    last_seen=NOW,
                    expires_at=None,
                    sources=("fandom", "game8")[: 1 + number % 2],
                )
            )
    return SiteSnapshot(
        games=GAMES, codes=tuple(codes), sources=(), generated_at=NOW, site_url=SITE_URL
    )


@pytest.fixture(scope="module")
def nginx_binary() -> str:
    return require_nginx()


@pytest.fixture(scope="module")
def first_version() -> dict[str, bytes]:
    return render_site(snapshot(0))


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, first_version: dict[str, bytes]
) -> tuple[Path, dict[str, bytes]]:
    folder = tmp_path_factory.mktemp("site")
    write_site(folder, first_version)
    return folder, first_version


@pytest.fixture(scope="module")
def nginx(
    nginx_binary: str,
    site: tuple[Path, dict[str, bytes]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Nginx]:
    # Two workers, as on a small server: requests are spread over processes.
    with running_nginx(nginx_binary, site[0], tmp_path_factory.mktemp("nginx"), workers=2) as ngx:
        yield ngx


def get(
    server: Nginx, path: str, headers: dict[str, str] | None = None
) -> tuple[http.client.HTTPResponse, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def test_pages_go_out_precompressed_to_clients_that_accept_gzip(
    nginx: Nginx, site: tuple[Path, dict[str, bytes]]
) -> None:
    _, files = site
    zipped, body = get(nginx, "/", {"Accept-Encoding": "gzip, br"})
    assert zipped.status == 200
    assert zipped.getheader("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in (zipped.getheader("Vary") or "")
    # The twin write_site wrote, byte for byte: nothing was compressed per request.
    assert body == (site[0] / "index.html.gz").read_bytes()
    assert gzip.decompress(body) == files["index.html"]
    # The budget for the front page of five games of fifty codes.
    assert len(body) < 15 * 1024

    plain, body = get(nginx, "/")
    assert plain.getheader("Content-Encoding") is None
    assert body == files["index.html"]


@pytest.mark.parametrize(
    ("path", "content_type", "cache", "cors"),
    [
        ("/", "text/html; charset=utf-8", "public, max-age=60", None),
        ("/genshin/", "text/html; charset=utf-8", "public, max-age=60", None),
        ("/codes.json", "application/json; charset=utf-8", "public, max-age=60", "*"),
        ("/zzz/codes.json", "application/json; charset=utf-8", "public, max-age=60", "*"),
        ("/feed.xml", "application/atom+xml; charset=utf-8", "public, max-age=60", "*"),
        ("/hsr/feed.xml", "application/atom+xml; charset=utf-8", "public, max-age=60", "*"),
        ("/sitemap.xml", "text/xml; charset=utf-8", "public, max-age=60", None),
        ("/robots.txt", "text/plain; charset=utf-8", "public, max-age=60", None),
    ],
)
def test_content_types_cache_lifetimes_and_cors(
    nginx: Nginx, path: str, content_type: str, cache: str, cors: str | None
) -> None:
    for encoding in ({}, {"Accept-Encoding": "gzip"}):
        response, body = get(nginx, path, encoding)
        assert response.status == 200
        assert body
        assert response.getheader("Content-Type") == content_type
        assert response.getheader("Cache-Control") == cache
        assert response.getheader("Access-Control-Allow-Origin") == cors
        assert response.getheader("X-Content-Type-Options") == "nosniff"


def test_hashed_assets_are_cached_for_a_year_as_immutable(
    nginx: Nginx, site: tuple[Path, dict[str, bytes]]
) -> None:
    _, files = site
    assets = [path for path in files if path.startswith("static/")]
    assert {Path(path).suffix for path in assets} == {".css", ".js"}
    for asset in assets:
        response, body = get(nginx, "/" + asset, {"Accept-Encoding": "gzip"})
        assert response.status == 200
        assert gzip.decompress(body) == files[asset]
        assert response.getheader("Cache-Control") == "public, max-age=31536000, immutable"
    css, _ = get(nginx, "/" + next(a for a in assets if a.endswith(".css")))
    assert css.getheader("Content-Type") == "text/css; charset=utf-8"


def test_revalidation_redirects_and_hidden_files(nginx: Nginx) -> None:
    first, _ = get(nginx, "/codes.json")
    etag = first.getheader("ETag")
    assert etag
    again, body = get(nginx, "/codes.json", {"If-None-Match": etag})
    assert again.status == 304
    assert body == b""

    # A game page without its slash: a relative redirect, whatever the public host is.
    moved, _ = get(nginx, "/genshin")
    assert moved.status == 301
    assert moved.getheader("Location") == "/genshin/"

    assert get(nginx, "/no-such-page")[0].status == 404
    # write_site's temporary files are never served, even if a crash leaves one behind.
    (Path(nginx.site_dir) / ".index.html.abc123.tmp").write_bytes(b"half a page")
    assert get(nginx, "/.index.html.abc123.tmp")[0].status == 404


def test_security_headers_allow_only_the_site_itself(nginx: Nginx) -> None:
    response, _ = get(nginx, "/")
    policy = response.getheader("Content-Security-Policy") or ""
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.getheader("Server") == "nginx"  # no version number


@dataclass
class Readings:
    """What the readers saw: (path, body) pairs, and anything that went wrong."""

    seen: list[tuple[str, bytes]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def read_continuously(server: Nginx, stop: threading.Event, readings: Readings, n: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    paths = list(WATCHED)
    i = n
    while not stop.is_set():
        path = paths[i % len(paths)]
        zipped = i % 2 == 0
        i += 1
        try:
            connection.request("GET", path, headers={"Accept-Encoding": "gzip"} if zipped else {})
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
            length = response.getheader("Content-Length")
            if length is None or int(length) != len(body) or not body:
                raise RuntimeError(f"{len(body)} bytes, Content-Length {length}")
            if response.getheader("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            elif zipped:
                raise RuntimeError("asked for gzip, got it plain")
        except Exception as exc:
            with readings.lock:
                readings.errors.append(f"{path} gzip={zipped}: {type(exc).__name__}: {exc}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            continue
        with readings.lock:
            readings.seen.append((path, body))
    connection.close()


def test_readers_never_see_a_partial_empty_or_failed_file_while_the_site_is_rewritten(
    nginx_binary: str, first_version: dict[str, bytes], tmp_path: Path
) -> None:
    site_dir, first = tmp_path / "site", first_version
    write_site(site_dir, first)
    with running_nginx(nginx_binary, site_dir, tmp_path / "nginx", workers=2) as nginx:
        rewrites, readings, versions = rewrite_while_reading(nginx, site_dir, first)

    assert readings.errors == []
    assert rewrites >= MIN_REWRITES
    assert len(readings.seen) > 100
    unknown = [path for path, body in readings.seen if body not in versions[path]]
    assert unknown == [], f"{len(unknown)} responses were not any version written"
    # The readers did watch the content change, not one version all along.
    distinct = {(path, body) for path, body in readings.seen if path == "/"}
    assert len(distinct) >= 3


def rewrite_while_reading(
    nginx: Nginx, site_dir: Path, first: dict[str, bytes]
) -> tuple[int, Readings, dict[str, set[bytes]]]:
    # Every version of every watched file that was ever on disk.
    versions: dict[str, set[bytes]] = {path: {first[rel]} for path, rel in WATCHED.items()}
    readings = Readings()
    stop = threading.Event()
    readers = [
        threading.Thread(target=read_continuously, args=(nginx, stop, readings, n), daemon=True)
        for n in range(READERS)
    ]
    for reader in readers:
        reader.start()
    renderer = SiteRenderer()
    rewrites = 0
    deadline = time.monotonic() + REWRITE_SECONDS
    try:
        while rewrites < MIN_REWRITES or (rewrites < REWRITES and time.monotonic() < deadline):
            rewrites += 1
            # Fewer codes than the first version: more rewrites in the time the test takes.
            files = render_site(snapshot(rewrites, per_game=20), renderer)
            for path, rel in WATCHED.items():
                versions[path].add(files[rel])
            write_site(site_dir, files)
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=10)
    return rewrites, readings, versions
