"""Reward icons for the site: downloaded once, converted to WebP and PNG, named by content.

Sources such as HoYoLAB give each reward as an icon URL on their CDN. The site never links to
those (a page must load nothing from another host, and a CDN URL can change or vanish), so
each icon is fetched once, checked and converted with Pillow,
and written under `<site>/icons/` as `<hash>.webp` and `<hash>.png`, each named by a hash of
its own bytes: a name never changes meaning, so browsers may cache the files forever.

What was fetched is remembered in `icons/.index.json` (a dot file: nginx does not serve it),
so an icon is downloaded once per site folder, not once per cycle. The client given is the one
that connects to public addresses only (bot/app/http.py): an icon URL is web text, and so is
every redirect it leads to. A URL that failed (not an
image, corrupt, too large, unreachable) is remembered too and tried again only after a day;
until then its reward is shown as text. The index also notes the last day each icon was
wanted: one no page has wanted for FORGET_UNUSED_AFTER is forgotten, and its files deleted
unless another icon has the same ones. Nothing here ever raises into the publisher.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.core.addresses import PrivateAddress
from bot.core.bodies import BodyError, read_response
from bot.site.write import replace_atomically

log = logging.getLogger(__name__)

ICONS_DIR = "icons"
INDEX_NAME = ".index.json"
INDEX_VERSION = 1
# Reward icons are small pictures; anything bigger is not one (or is hostile).
MAX_DOWNLOAD_BYTES = 512 * 1024
# Checked from the header before any pixel is decoded: a decompression bomb stops here.
MAX_SOURCE_PIXELS = 2048 * 2048
# Shown at 32 CSS pixels; stored at twice that for high-density screens.
DISPLAY_PX = 32
STORED_PX = 2 * DISPLAY_PX
# Formats a reward icon comes in; Pillow is not asked to guess among all it knows.
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
WEBP_QUALITY = 90
# A failed URL is tried again after this long: CDNs have bad minutes, not bad days.
RETRY_FAILED_AFTER = timedelta(days=1)
# An icon no page has shown for this long is forgotten (a code it belonged to is gone).
FORGET_UNUSED_AFTER = timedelta(days=30)
# New downloads per publish: a flood of new icon URLs must not hold the site back.
MAX_NEW_PER_RUN = 40
CONCURRENT_DOWNLOADS = 4
# One icon may take this long; all of a run's downloads together this long, so that a slow
# CDN delays the site by seconds, not minutes. What did not finish is tried next run.
DOWNLOAD_TIMEOUT_SECONDS = 10.0
RUN_BUDGET_SECONDS = 30.0
# Redirects are followed by hand, each hop checked like the first URL.
MAX_REDIRECTS = 3
# Names are 16 hex digits (64 bits) of SHA-256: collisions are not a concern for icons.
_NAME_DIGITS = 16


@dataclass(frozen=True)
class Icon:
    """One converted icon as the site references it."""

    webp: str  # file name inside icons/, e.g. "0123456789abcdef.webp"
    png: str
    width: int  # display size in CSS pixels, for width/height attributes
    height: int


@dataclass(frozen=True)
class ConvertedIcon:
    webp: bytes
    png: bytes
    width: int
    height: int


class IconError(Exception):
    """This URL or these bytes do not give a usable icon; the reward is shown as text."""


def content_name(data: bytes, suffix: str) -> str:
    return hashlib.sha256(data).hexdigest()[:_NAME_DIGITS] + suffix


def convert(data: bytes) -> ConvertedIcon:
    """Check and convert image bytes: WebP and PNG of at most STORED_PX pixels a side.

    Raises IconError for anything that is not one whole image of an accepted format.
    Pillow is imported here: most publishes convert nothing, and a daemon that never meets a
    new icon never loads it.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(BytesIO(data), formats=ACCEPTED_FORMATS) as image:
            width, height = image.size
            if width < 1 or height < 1 or width * height > MAX_SOURCE_PIXELS:
                raise IconError(f"{width}x{height} is not an icon size")
            # The first frame of an animated GIF or WebP; load() decodes and so finds
            # truncated or corrupt data.
            image.seek(0)
            image.load()
            picture = image.convert("RGBA")
    except IconError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise IconError(f"not an image: {exc}") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        # Pillow reports broken files with any of these, depending on the format.
        raise IconError(f"corrupt image: {exc}") from exc
    picture.thumbnail((STORED_PX, STORED_PX), Image.Resampling.LANCZOS)
    webp = BytesIO()
    picture.save(webp, "WEBP", quality=WEBP_QUALITY, method=6)
    png = BytesIO()
    picture.save(png, "PNG", optimize=True)
    width, height = picture.size
    # The display box keeps the picture's proportions with its longer side at DISPLAY_PX.
    scale = DISPLAY_PX / max(width, height)
    return ConvertedIcon(
        webp=webp.getvalue(),
        png=png.getvalue(),
        width=max(1, round(width * scale)),
        height=max(1, round(height * scale)),
    )


def downloadable(url: str, *, allow_private_hosts: bool = False) -> bool:
    """An http(s) URL of a public host: icon URLs are web text, and must not reach inside."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if allow_private_hosts:
        return True
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True  # a name, not an address
    return address.is_global


class IconStore:
    """The icons of one site folder: what is known, and fetching what is not.

    Build one per process (the publisher does) and call `resolve` with the icon URLs a render
    needs. Without an HTTP client nothing is downloaded and only known icons are returned.
    """

    def __init__(
        self,
        site_dir: Path,
        http: httpx.AsyncClient | None,
        clock: Callable[[], datetime],
        *,
        max_bytes: int = MAX_DOWNLOAD_BYTES,
        max_new_per_run: int = MAX_NEW_PER_RUN,
        allow_private_hosts: bool = False,
        run_budget: float = RUN_BUDGET_SECONDS,
    ) -> None:
        self.folder = site_dir / ICONS_DIR
        self.http = http
        self.clock = clock
        self.max_bytes = max_bytes
        self.max_new_per_run = max_new_per_run
        self.allow_private_hosts = allow_private_hosts
        self.run_budget = run_budget
        self._icons: dict[str, Icon] | None = None
        self._failed: dict[str, datetime] = {}
        # The last day each icon URL was wanted by a page.
        self._wanted: dict[str, date] = {}
        self._slots = asyncio.Semaphore(CONCURRENT_DOWNLOADS)

    async def resolve(self, urls: Iterable[str]) -> dict[str, Icon]:
        """The icon of every URL that has one, downloading those not yet tried."""
        try:
            return await self._resolve(set(urls))
        except Exception:
            # Icons are decoration: whatever went wrong, the site is published without them.
            log.exception("icons: resolving failed; rewards are shown as text")
            return {}

    async def _resolve(self, wanted: set[str]) -> dict[str, Icon]:
        icons = await asyncio.to_thread(self._load)
        now = self.clock()
        changed = self._note_wanted(wanted, now.date())
        fresh = sorted(
            url
            for url in wanted
            if url not in icons
            and (url not in self._failed or now - self._failed[url] >= RETRY_FAILED_AFTER)
        )
        if fresh and self.http is not None:
            batch = fresh[: self.max_new_per_run]
            if len(fresh) > len(batch):
                log.info("icons: %d new icons, fetching %d this time", len(fresh), len(batch))
            tasks = {url: asyncio.ensure_future(self._fetch_one(self.http, url)) for url in batch}
            _, late = await asyncio.wait(tasks.values(), timeout=self.run_budget)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
                log.info("icons: %d downloads did not finish in time; next run", len(late))
            for url, task in tasks.items():
                if task.cancelled():
                    continue
                result = task.result()
                if isinstance(result, Icon):
                    icons[url] = result
                    self._failed.pop(url, None)
                else:
                    self._failed[url] = now
                    log.info("icons: %s not usable: %s", url, result)
            # Failures of URLs no page needs any more are forgotten.
            self._failed = {u: t for u, t in self._failed.items() if u in wanted}
            changed = True
        if changed:
            await asyncio.to_thread(self._forget_unused_and_save, now.date())
        return {url: icons[url] for url in wanted if url in icons}

    def _note_wanted(self, wanted: set[str], today: date) -> bool:
        """Note that pages want these URLs today; whether that changed the index."""
        changed = False
        for url in wanted:
            if self._wanted.get(url) != today:
                self._wanted[url] = today
                changed = True
        return changed

    def _forget_unused_and_save(self, today: date) -> None:
        icons = self._icons or {}
        for url in icons:
            self._wanted.setdefault(url, today)  # known from before these dates were kept
        unused = [url for url, day in self._wanted.items() if today - day > FORGET_UNUSED_AFTER]
        gone = [icons.pop(url) for url in unused if url in icons]
        for url in unused:
            del self._wanted[url]
        self._wanted = {u: d for u, d in self._wanted.items() if u in icons or u in self._failed}
        kept = {name for icon in icons.values() for name in (icon.webp, icon.png)}
        for name in {name for icon in gone for name in (icon.webp, icon.png)} - kept:
            (self.folder / name).unlink(missing_ok=True)
        self._save()

    async def _fetch_one(self, http: httpx.AsyncClient, url: str) -> Icon | str:
        try:
            async with self._slots:
                data = await self._download(http, url)
            converted = await asyncio.to_thread(convert, data)
            return await asyncio.to_thread(self._store, converted)
        except IconError as exc:
            return str(exc)
        except PrivateAddress as exc:
            return f"not a public address: {exc}"
        except httpx.HTTPError as exc:
            return f"download failed: {type(exc).__name__}"
        except OSError as exc:
            return f"cannot store: {exc}"

    async def _download(self, http: httpx.AsyncClient, url: str) -> bytes:
        for _ in range(MAX_REDIRECTS + 1):
            if not downloadable(url, allow_private_hosts=self.allow_private_hosts):
                raise IconError("not a public http(s) URL")
            async with http.stream(
                "GET", url, follow_redirects=False, timeout=DOWNLOAD_TIMEOUT_SECONDS
            ) as response:
                if response.is_redirect and "Location" in response.headers:
                    url = str(response.url.join(response.headers["Location"]))
                    continue
                return await self._body(response)
        raise IconError("too many redirects")

    async def _body(self, response: httpx.Response) -> bytes:
        if response.status_code != 200:
            raise IconError(f"HTTP {response.status_code}")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise IconError(f"{declared} bytes is over the {self.max_bytes}-byte cap")
        try:
            return await read_response(response, max_bytes=self.max_bytes)
        except BodyError as exc:
            raise IconError(str(exc)) from exc

    def _store(self, converted: ConvertedIcon) -> Icon:
        icon = Icon(
            webp=content_name(converted.webp, ".webp"),
            png=content_name(converted.png, ".png"),
            width=converted.width,
            height=converted.height,
        )
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, data in ((icon.webp, converted.webp), (icon.png, converted.png)):
            target = self.folder / name
            # Named by content: a file that is there already has exactly these bytes.
            if not target.exists():
                replace_atomically(target, data)
        return icon

    def _load(self) -> dict[str, Icon]:
        """The known icons, read from the index once; an icon whose files are gone is not."""
        if self._icons is None:
            self._icons, self._failed, self._wanted = _read_index(self.folder / INDEX_NAME)
        missing = [
            url
            for url, icon in self._icons.items()
            if not (self.folder / icon.webp).is_file() or not (self.folder / icon.png).is_file()
        ]
        for url in missing:
            del self._icons[url]
        return self._icons

    def _save(self) -> None:
        icons = self._icons or {}
        document = {
            "version": INDEX_VERSION,
            "icons": {
                url: {"webp": i.webp, "png": i.png, "width": i.width, "height": i.height}
                for url, i in sorted(icons.items())
            },
            "failed": {url: when.isoformat() for url, when in sorted(self._failed.items())},
            "wanted": {url: day.isoformat() for url, day in sorted(self._wanted.items())},
        }
        data = (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode()
        target = self.folder / INDEX_NAME
        try:
            if target.read_bytes() == data:
                return
        except OSError:
            pass
        self.folder.mkdir(parents=True, exist_ok=True)
        replace_atomically(target, data)


def _read_index(path: Path) -> tuple[dict[str, Icon], dict[str, datetime], dict[str, date]]:
    try:
        document = json.loads(path.read_bytes())
    except FileNotFoundError:
        return {}, {}, {}
    except (OSError, ValueError) as exc:
        log.warning("icons: index %s unreadable (%s); starting afresh", path, exc)
        return {}, {}, {}
    if not isinstance(document, dict) or document.get("version") != INDEX_VERSION:
        return {}, {}, {}
    icons: dict[str, Icon] = {}
    for url, entry in _mapping(document.get("icons")).items():
        icon = _icon_entry(entry)
        if icon is not None:
            icons[url] = icon
    failed: dict[str, datetime] = {}
    for url, when in _mapping(document.get("failed")).items():
        try:
            moment = datetime.fromisoformat(when)
        except (TypeError, ValueError):
            continue
        if moment.tzinfo is not None:
            failed[url] = moment
    wanted: dict[str, date] = {}
    for url, day in _mapping(document.get("wanted")).items():
        try:
            wanted[url] = date.fromisoformat(day)
        except (TypeError, ValueError):
            continue
    return icons, failed, wanted


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _icon_entry(entry: Any) -> Icon | None:
    if not isinstance(entry, dict):
        return None
    webp, png = entry.get("webp"), entry.get("png")
    width, height = entry.get("width"), entry.get("height")
    if not (isinstance(webp, str) and _is_content_name(webp, ".webp")):
        return None
    if not (isinstance(png, str) and _is_content_name(png, ".png")):
        return None
    if not (_is_size(width) and _is_size(height)):
        return None
    assert isinstance(width, int)
    assert isinstance(height, int)
    return Icon(webp=webp, png=png, width=width, height=height)


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= DISPLAY_PX


def _is_content_name(name: str, suffix: str) -> bool:
    # The index is read back from disk: only names this module writes are trusted in a page.
    stem = name.removesuffix(suffix)
    return (
        name.endswith(suffix)
        and len(stem) == _NAME_DIGITS
        and all(c in "0123456789abcdef" for c in stem)
    )
