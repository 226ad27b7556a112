"""Tell search engines which pages changed (IndexNow); best effort, never in the way."""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

import httpx

log = logging.getLogger(__name__)

# The shared endpoint forwards a submission to every search engine taking part.
INDEXNOW_ENDPOINT = "https://api.indexnow.org/indexnow"
# The protocol accepts up to 10,000 URLs per request.
MAX_URLS = 10_000
TIMEOUT_SECONDS = 10.0
_KEY = re.compile(r"[A-Za-z0-9-]{8,128}")


def changed_page_urls(site_url: str, written: Iterable[str]) -> list[str]:
    """The public URLs of the pages among written paths (WriteReport.written).

    Only HTML pages are worth submitting; a page's index.html is submitted as its folder.
    """
    urls = []
    for rel in written:
        if not rel.endswith(".html"):
            continue
        if rel == "index.html":
            urls.append(site_url)
        elif rel.endswith("/index.html"):
            urls.append(site_url + rel.removesuffix("index.html"))
        else:
            urls.append(site_url + rel)
    return sorted(set(urls))


async def ping_indexnow(
    client: httpx.AsyncClient,
    key: str,
    site_url: str,
    changed_urls: Sequence[str],
    *,
    endpoint: str = INDEXNOW_ENDPOINT,
) -> None:
    """Submit changed_urls for site_url. Logs and returns on any failure; never raises."""
    try:
        host = urlsplit(site_url).hostname or ""
    except ValueError:
        host = ""
    if not changed_urls or not key:
        return
    if not _KEY.fullmatch(key):
        log.warning("IndexNow: key must be 8-128 letters, digits or dashes; not pinging")
        return
    if not _is_public_host(host):
        log.debug("IndexNow: %s is not a public host; not pinging", host or site_url)
        return
    # The protocol rejects a whole request when one URL is on another host.
    urls = [u for u in changed_urls if _host_of(u) == host][:MAX_URLS]
    if not urls:
        return
    base = site_url if site_url.endswith("/") else site_url + "/"
    payload = {"host": host, "key": key, "keyLocation": f"{base}{key}.txt", "urlList": urls}
    try:
        response = await client.post(endpoint, json=payload, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        log.warning("IndexNow: request failed: %s", exc.__class__.__name__)
        return
    except Exception:
        log.exception("IndexNow: unexpected error")
        return
    # 200 = accepted, 202 = accepted while the key is being checked.
    if response.status_code in (200, 202):
        log.info("IndexNow: submitted %d URLs", len(urls))
    else:
        log.warning("IndexNow: %d URLs refused with HTTP %d", len(urls), response.status_code)


def _host_of(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _is_public_host(host: str) -> bool:
    # A development or test site (localhost, 127.0.0.1, *.test) has nothing to tell.
    if not host or "." not in host or host.endswith((".localhost", ".local", ".test")):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True
    return address.is_global
