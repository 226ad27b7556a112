"""MediaWiki's cheap poll over httpx.MockTransport: the revision id first, content on change."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bot.core.catalog import load_catalog
from scrapers import fandom
from scrapers.base import Fetcher, Traffic, Validators
from scrapers.mediawiki import NO_REVISIONS, latest_revision, revision_query
from tests.unit.scraper_fixtures import source

API = "https://wiki.test/api.php"
URL = (
    f"{API}?action=query&prop=revisions&titles=Promotional_Code"
    "&rvprop=content&rvslots=main&format=json"
)
CONTENT = json.dumps(
    {
        "query": {
            "pages": {
                "7": {"title": "Promotional Code", "revisions": [{"*": "{{Code Row|ABCDEF1234}}"}]}
            }
        }
    }
).encode()


def info(revision: int | None) -> bytes:
    page: dict[str, Any] = {"pageid": 7, "ns": 0, "title": "Promotional Code"}
    if revision is not None:
        page["lastrevid"] = revision
    return json.dumps({"batchcomplete": True, "query": {"pages": [page]}}).encode()


class Wiki:
    """A MockTransport handler answering the id query and the content query; it records
    what each request asked for (`info` or `content`), whatever it answered."""

    def __init__(self, revision: int, *, ignores_info: bool = False) -> None:
        self.revision = revision
        self.ignores_info = ignores_info
        self.asked: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        prop = request.url.params.get("prop")
        self.asked.append("info" if prop == "info" else "content")
        if prop == "info" and not self.ignores_info:
            return httpx.Response(200, content=info(self.revision))
        etag = f'"r{self.revision}"'
        if request.headers.get("If-None-Match") == etag:
            return httpx.Response(304, headers={"ETag": etag})
        return httpx.Response(200, content=CONTENT, headers={"ETag": etag})


async def poll(wiki: Wiki, validators: Validators, traffic: Traffic | None = None) -> Any:
    client = httpx.AsyncClient(transport=httpx.MockTransport(wiki))
    fetcher = Fetcher(client, retries=0, backoff=0)
    if traffic is not None:
        fetcher = fetcher.metered(traffic)
    return await fandom.fetch(fetcher, source("fandom", "genshin", URL), validators)


def test_the_id_query_asks_for_the_page_the_source_reads() -> None:
    query = revision_query(URL)
    assert query is not None
    assert query.startswith(API + "?")
    params = dict(httpx.URL(query).params)
    assert params == {
        "action": "query",
        "prop": "info",
        "titles": "Promotional_Code",
        "format": "json",
        "formatversion": "2",
    }
    parse = revision_query(f"{API}?action=parse&page=Redemption_Code&prop=wikitext&redirects=1")
    assert parse is not None
    assert dict(httpx.URL(parse).params)["titles"] == "Redemption_Code"
    assert dict(httpx.URL(parse).params)["redirects"] == "1"


@pytest.mark.parametrize(
    "url",
    [
        "https://wiki.test/wiki/Promotional_Code?action=raw",
        f"{API}?action=query&prop=revisions&titles=A|B&rvprop=content",
        f"{API}?action=query&list=allpages",
        f"{API}?action=opensearch&search=codes",
    ],
)
def test_urls_that_read_no_single_page_get_no_id_query(url: str) -> None:
    assert revision_query(url) is None


def test_every_built_in_wiki_source_has_an_id_query() -> None:
    wikis = [s for s in load_catalog().sources if s.kind == "fandom"]
    assert wikis
    assert all(revision_query(s.url) is not None for s in wikis)


@pytest.mark.parametrize(
    ("body", "revision"),
    [
        (info(4242), "4242"),
        (json.dumps({"query": {"pages": {"7": {"pageid": 7, "lastrevid": 99}}}}).encode(), "99"),
        (info(None), None),
        (json.dumps({"query": {"pages": [{"title": "X", "missing": True}]}}).encode(), None),
        (json.dumps({"error": {"code": "badvalue"}}).encode(), None),
        (b"<html>maintenance</html>", None),
        (json.dumps({"query": {"pages": [{"lastrevid": True}]}}).encode(), None),
        (CONTENT, None),
    ],
)
def test_the_latest_revision_is_read_from_both_answer_formats(
    body: bytes, revision: str | None
) -> None:
    assert latest_revision(body) == revision


async def test_a_first_poll_reads_the_content_and_keeps_the_revision() -> None:
    wiki = Wiki(1001)
    fetched = await poll(wiki, Validators())
    assert wiki.asked == ["info", "content"]
    assert fetched.body == CONTENT
    assert fetched.validators == Validators(etag='"r1001"', revision="1001")


async def test_an_unchanged_revision_fetches_no_content() -> None:
    wiki = Wiki(1001)
    traffic = Traffic()
    known = Validators(etag='"r1001"', revision="1001")
    fetched = await poll(wiki, known, traffic)
    assert wiki.asked == ["info"]
    assert fetched.not_modified
    assert fetched.validators == known
    assert traffic.requests == 1
    assert traffic.bytes < 1024


async def test_a_changed_revision_fetches_the_content() -> None:
    wiki = Wiki(1002)
    fetched = await poll(wiki, Validators(etag='"r1001"', revision="1001"))
    assert wiki.asked == ["info", "content"]
    assert fetched.body == CONTENT
    assert fetched.validators.revision == "1002"


async def test_a_wiki_that_ignores_the_id_query_is_read_by_conditional_get() -> None:
    wiki = Wiki(1001, ignores_info=True)
    first = await poll(wiki, Validators())
    assert wiki.asked == ["info", "content"]
    assert first.body == CONTENT
    assert first.validators.revision == NO_REVISIONS
    # From then on one conditional GET a poll, answered 304 while nothing changes ...
    wiki.asked.clear()
    again = await poll(wiki, first.validators)
    assert wiki.asked == ["content"]
    assert again.not_modified
    assert again.validators.revision == NO_REVISIONS
    # ... and the id is asked for again once the content changed.
    wiki.revision = 1002
    wiki.asked.clear()
    changed = await poll(wiki, again.validators)
    assert wiki.asked == ["content"]
    assert changed.body == CONTENT
    assert changed.validators.revision is None
    wiki.asked.clear()
    await poll(wiki, changed.validators)
    assert wiki.asked == ["info", "content"]
