"""MediaWiki's cheap poll: the page's latest revision id first, its content only when it moved.

A source's URL is an `api.php` query of one page's content (`prop=revisions&titles=…`, or
`action=parse&page=…`). Before it, codecast asks `action=query&prop=info&titles=…` for the
page's `lastrevid`: a few hundred bytes. The same id as at the last read means nothing
changed, and nothing more is asked; another id, and the content is fetched (conditionally,
as any page). The id is kept with the source's validators, in the database, so a restart
does not fetch the content again.

A wiki that does not answer the id query with an id (an older or locked-down MediaWiki, a
proxy that drops the query string) is read with conditional GET alone: the validators say
so (`revision = NO_REVISIONS`) until its content next changes, when the id is asked again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.core.domain import SourceConfig
from scrapers.base import Fetched, Fetcher, Validators

log = logging.getLogger(__name__)

# Kept as the revision of a source whose wiki did not answer the id query.
NO_REVISIONS = "-"
# An answer to the id query larger than this is not one (a page of content, an error page).
MAX_ANSWER_BYTES = 20_000


def revision_query(url: str) -> str | None:
    """The `prop=info` query for the one page a MediaWiki API URL reads; None otherwise."""
    parts = urlsplit(url)
    if not parts.path.endswith("api.php"):
        return None
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    action = params.get("action", "query")
    title = params.get("titles") if action == "query" else params.get("page")
    if action not in ("query", "parse") or not title or "|" in title:
        return None
    query = {
        "action": "query",
        "prop": "info",
        "titles": title,
        "format": "json",
        "formatversion": "2",
    }
    if "redirects" in params:
        # The content query follows a redirect to its target: so must the id.
        query["redirects"] = "1"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def latest_revision(body: bytes) -> str | None:
    """`lastrevid` from a `prop=info` answer (formatversion 1 or 2); None when it has none."""
    if len(body) > MAX_ANSWER_BYTES:
        return None
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):
        return None
    query = data.get("query") if isinstance(data, dict) else None
    pages = query.get("pages") if isinstance(query, dict) else None
    listed = list(pages.values()) if isinstance(pages, dict) else pages
    if not isinstance(listed, list) or len(listed) != 1 or not isinstance(listed[0], dict):
        return None
    revision = listed[0].get("lastrevid")
    if isinstance(revision, bool) or not isinstance(revision, int) or revision <= 0:
        return None
    return str(revision)


async def fetch(fetcher: Fetcher, source: SourceConfig, validators: Validators) -> Fetched:
    """A wiki page as a scraper fetches it (the `fandom` kind): see fetch_when_changed."""
    return await fetch_when_changed(fetcher, source, validators)


async def fetch_when_changed(
    fetcher: Fetcher,
    source: SourceConfig,
    validators: Validators,
    headers: dict[str, str] | None = None,
) -> Fetched:
    """The page's content when its revision moved; `body=None` when it did not."""
    query = revision_query(source.url)
    if query is None or validators.revision == NO_REVISIONS:
        return await _conditional(fetcher, source, validators, headers)
    answer = await fetcher.get(query, headers=headers)
    revision = latest_revision(answer.body) if answer.body is not None else None
    if revision is None:
        log.info("%s: the wiki gave no revision id; reading it by conditional GET", source.id)
        fetched = await fetcher.get(source.url, validators=validators, headers=headers)
        return replace(fetched, validators=replace(fetched.validators, revision=NO_REVISIONS))
    if revision == validators.revision:
        return Fetched(body=None, validators=validators)
    fetched = await fetcher.get(source.url, validators=validators, headers=headers)
    return replace(fetched, validators=replace(fetched.validators, revision=revision))


async def _conditional(
    fetcher: Fetcher,
    source: SourceConfig,
    validators: Validators,
    headers: dict[str, str] | None,
) -> Fetched:
    fetched = await fetcher.get(source.url, validators=validators, headers=headers)
    if fetched.body is None:
        return fetched
    # New content: the next poll asks for the revision id again (the wiki may answer now).
    return replace(fetched, validators=replace(fetched.validators, revision=None))
