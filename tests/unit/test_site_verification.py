"""Verification on the site: cards, the "HoYoverse rejects it" fold, codes.json and feeds."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from lxml import etree

from bot.core.catalog import load_catalog
from bot.core.domain import CodeStatus, CodeView, Verification
from bot.site.render import SiteRenderer, SiteSnapshot, render_site

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SITE = "https://codes.example.org/"
GAMES = tuple(load_catalog().games.values())
BASE = CodeView(
    game="genshin",
    code="X",
    status=CodeStatus.ACTIVE,
    rewards="Primogems x60",
    items=(),
    first_seen=NOW - timedelta(hours=1),
    last_seen=NOW,
    expires_at=None,
    sources=("fandom-genshin",),
)


def code(name: str, verification: Verification, *, checked: bool = True, **kw: object) -> CodeView:
    return replace(
        BASE,
        code=name,
        verification=verification,
        verified_at=NOW - timedelta(minutes=2) if checked else None,
        **kw,  # type: ignore[arg-type]
    )


def render(*codes: CodeView) -> dict[str, bytes]:
    return render_site(
        SiteSnapshot(games=GAMES, codes=codes, sources=(), generated_at=NOW, site_url=SITE),
        SiteRenderer(),
    )


CODES = (
    code("VALIDCODE1", Verification.VALID),
    code("CHECKINGNOW", Verification.PENDING, checked=False),
    code("TYPOCODE99", Verification.INVALID),
    code("OLDCODE1", Verification.EXPIRED, status=CodeStatus.EXPIRED),
    code("NOTASKED1", Verification.UNVERIFIED, checked=False),
)


def test_codes_json_says_what_hoyoverse_answered_and_when() -> None:
    doc = json.loads(render(*CODES)["genshin/codes.json"])
    entries = {c["code"]: c for c in doc["games"][0]["codes"]}
    assert entries["VALIDCODE1"]["verification"] == "valid"
    assert entries["VALIDCODE1"]["verified_at"] == "2026-03-01T11:58:00Z"
    assert entries["CHECKINGNOW"]["verification"] == "pending"
    assert entries["CHECKINGNOW"]["verified_at"] is None
    assert entries["TYPOCODE99"]["verification"] == "invalid"
    assert entries["OLDCODE1"]["verification"] == "expired"
    assert entries["NOTASKED1"]["verification"] == "unverified"
    # Current codes first, expired next, the rejected ones last.
    assert list(entries)[-1] == "TYPOCODE99"


def page(files: dict[str, bytes]) -> etree._Element:
    return etree.HTML(files["genshin/index.html"])


def test_the_game_page_marks_checked_and_checking_codes() -> None:
    root = page(render(*CODES))
    current = root.xpath('//section[contains(@class,"current")]//li')
    text = {li.get("id"): " ".join("".join(li.itertext()).split()) for li in current}
    assert "✓ HoYoverse accepts it · checked 2026-03-01 11:58 UTC" in text["code-VALIDCODE1"]
    assert "Checking with HoYoverse" in text["code-CHECKINGNOW"]
    assert "HoYoverse" not in text["code-NOTASKED1"]
    assert "code-TYPOCODE99" not in text


def test_rejected_codes_are_only_in_their_own_fold() -> None:
    root = page(render(*CODES))
    [fold] = root.xpath('//details[contains(@class,"rejected")]')
    summary = " ".join(fold.xpath("./summary")[0].itertext())
    assert summary == "Reported by a source, but HoYoverse rejects it (1)"
    assert [li.get("id") for li in fold.xpath(".//li")] == ["code-TYPOCODE99"]
    assert "HoYoverse rejects it" in " ".join(fold.xpath(".//li")[0].itertext())
    # Never among the current codes, nor on the front page.
    front = etree.HTML(render(*CODES)["index.html"])
    assert "TYPOCODE99" not in " ".join(front.itertext())


def test_no_fold_without_rejected_codes() -> None:
    root = page(render(CODES[0]))
    assert root.xpath('//details[contains(@class,"rejected")]') == []


def test_the_feed_entry_says_hoyoverse_accepts_it() -> None:
    feed = etree.fromstring(render(CODES[0])["genshin/feed.xml"])
    [content] = feed.xpath("//a:content", namespaces={"a": "http://www.w3.org/2005/Atom"})
    assert "✓ HoYoverse accepts it (checked" in content.text
