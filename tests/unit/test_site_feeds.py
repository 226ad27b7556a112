"""The site's machine-readable files: JSON API, Atom feeds, sitemap and robots.txt."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from bot.core.catalog import load_catalog
from bot.core.domain import CodeStatus, CodeView, Game, RewardItem
from bot.site import SiteRenderer, SiteSnapshot, render_site
from bot.site.feeds import FEED_MAX_ENTRIES

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SITE = "https://codes.example.org/"
GAMES = tuple(load_catalog().games.values())
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
HOSTILE = '<script>alert(1)</script> "quoted" & more'
CODE_KEYS = {
    "code",
    "status",
    "rewards",
    "rewards_localized",
    "items",
    "first_seen",
    "last_seen",
    "expires_at",
    "sources",
    "verification",
    "verified_at",
    "redeem_link",
    "family",
}


def view(
    game: str,
    code: str,
    status: CodeStatus = CodeStatus.ACTIVE,
    *,
    rewards: str = "Primogems x60",
    first_seen: datetime = NOW - timedelta(days=1),
    last_seen: datetime = NOW,
    expires_at: datetime | None = None,
    items: tuple[RewardItem, ...] = (),
    sources: tuple[str, ...] = ("fandom-genshin",),
) -> CodeView:
    return CodeView(
        game=game,
        code=code,
        status=status,
        rewards=rewards,
        items=items,
        first_seen=first_seen,
        last_seen=last_seen,
        expires_at=expires_at,
        sources=sources,
    )


RENDERER = SiteRenderer()


def render(*codes: CodeView) -> dict[str, bytes]:
    return render_site(
        SiteSnapshot(games=GAMES, codes=codes, sources=(), generated_at=NOW, site_url=SITE),
        RENDERER,
    )


def load(files: dict[str, bytes], path: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(files[path])
    return doc


def atom(files: dict[str, bytes], path: str) -> etree._Element:
    root = etree.fromstring(files[path])
    assert root.tag == f"{ATOM}feed"
    return root


# --- JSON -------------------------------------------------------------------------------


def test_codes_json_has_version_and_every_game() -> None:
    files = render(view("genshin", "GENSHINGIFT"), view("hi3", "HI3CODE01"))
    doc = load(files, "codes.json")
    assert doc["version"] == 1
    assert [g["id"] for g in doc["games"]] == [g.id for g in GAMES]
    genshin = doc["games"][0]
    assert genshin["name"] == "Genshin Impact"
    assert genshin["redeem_url"] == "https://genshin.hoyoverse.com/en/gift?code={code}"
    assert genshin["url"] == f"{SITE}genshin/"
    hi3 = next(g for g in doc["games"] if g["id"] == "hi3")
    assert hi3["redeem_url"] is None
    assert hi3["codes"][0]["redeem_link"] is None


def test_game_codes_json_has_the_same_schema_with_one_game() -> None:
    files = render(view("genshin", "GENSHINGIFT"), view("hsr", "STARRAILGIFT"))
    doc = load(files, "genshin/codes.json")
    assert doc["version"] == 1
    assert [g["id"] for g in doc["games"]] == ["genshin"]
    assert [c["code"] for c in doc["games"][0]["codes"]] == ["GENSHINGIFT"]


def test_last_seen_is_never_before_first_seen_within_the_first_hour() -> None:
    first = datetime(2025, 3, 1, 11, 47, 5, tzinfo=UTC)
    code = view("genshin", "GENSHINGIFT", first_seen=first, last_seen=first)
    entry = load(render(code), "genshin/codes.json")["games"][0]["codes"][0]
    assert entry["first_seen"] == "2025-03-01T11:47:05Z"
    assert entry["last_seen"] == "2025-03-01T11:47:05Z"
    later = view("genshin", "GENSHINGIFT", first_seen=first, last_seen=first.replace(hour=13))
    entry = load(render(later), "genshin/codes.json")["games"][0]["codes"][0]
    assert entry["last_seen"] == "2025-03-01T13:00:00Z"


def test_code_fields_follow_the_documented_schema() -> None:
    seen = datetime(2025, 2, 1, 8, 30, 15, 123, tzinfo=UTC)
    code = view(
        "genshin",
        "GENSHINGIFT",
        first_seen=seen,
        last_seen=datetime(2025, 3, 1, 11, 47, tzinfo=UTC),
        expires_at=datetime(2025, 4, 1, tzinfo=UTC),
        items=(
            RewardItem("Primogem", 60, "https://cdn.example.net/p.png"),
            RewardItem("Mora", None, "javascript:alert(1)"),
        ),
        sources=("game8-genshin", "fandom-genshin", "fandom-genshin"),
    )
    entry = load(render(code), "genshin/codes.json")["games"][0]["codes"][0]
    assert set(entry) == CODE_KEYS
    assert entry["status"] == "active"
    assert entry["first_seen"] == "2025-02-01T08:30:15Z"
    # last_seen is kept to the hour so the file does not change every cycle.
    assert entry["last_seen"] == "2025-03-01T11:00:00Z"
    assert entry["expires_at"] == "2025-04-01T00:00:00Z"
    assert entry["items"] == [
        {
            "name": "Primogem",
            "amount": 60,
            "icon_url": "https://cdn.example.net/p.png",
            "icon": None,
        },
        {"name": "Mora", "amount": None, "icon_url": None, "icon": None},
    ]
    assert entry["sources"] == ["fandom-genshin", "game8-genshin"]
    assert entry["redeem_link"] == "https://genshin.hoyoverse.com/en/gift?code=GENSHINGIFT"
    assert entry["family"] is None


def test_json_lists_current_codes_before_expired() -> None:
    files = render(
        view("hsr", "OLDEXPIRED1", CodeStatus.EXPIRED, first_seen=NOW - timedelta(hours=1)),
        view("hsr", "STILLACTIVE", first_seen=NOW - timedelta(days=9)),
        view("hsr", "UNVERIFIED1", CodeStatus.UNKNOWN, first_seen=NOW - timedelta(days=2)),
    )
    codes = load(files, "hsr/codes.json")["games"][0]["codes"]
    assert [(c["code"], c["status"]) for c in codes] == [
        ("UNVERIFIED1", "unknown"),
        ("STILLACTIVE", "active"),
        ("OLDEXPIRED1", "expired"),
    ]


def test_json_keeps_hostile_text_as_data() -> None:
    files = render(view("genshin", "ESCAPEME1", rewards=HOSTILE))
    raw = files["codes.json"].decode()
    assert load(files, "codes.json")["games"][0]["codes"][0]["rewards"] == HOSTILE
    assert '\\"quoted\\"' in raw


def test_json_has_no_generation_time() -> None:
    doc = load(render(), "codes.json")
    assert set(doc) == {"version", "games"}


# --- Atom -------------------------------------------------------------------------------


def test_game_feed_is_atom_with_one_entry_per_code() -> None:
    files = render(
        view("genshin", "NEWERCODE1", first_seen=NOW - timedelta(hours=2)),
        view("genshin", "OLDERCODE1", CodeStatus.EXPIRED, first_seen=NOW - timedelta(days=5)),
        view("hsr", "STARRAILGIFT"),
    )
    root = atom(files, "genshin/feed.xml")
    for tag in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{tag}") is not None
    entries = root.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert titles == ["Genshin Impact: NEWERCODE1", "Genshin Impact: OLDERCODE1"]
    first = entries[0]
    assert first.findtext(f"{ATOM}id") == f"{SITE}genshin/#code-NEWERCODE1"
    assert first.findtext(f"{ATOM}updated") == "2025-03-01T10:00:00+00:00"
    # The feed is as new as its newest entry, not as the render.
    assert root.findtext(f"{ATOM}updated") == "2025-03-01T10:00:00+00:00"
    link = first.find(f"{ATOM}link")
    assert link is not None
    assert link.get("href") == f"{SITE}genshin/#code-NEWERCODE1"
    content = first.findtext(f"{ATOM}content") or ""
    assert 'href="https://genshin.hoyoverse.com/en/gift?code=NEWERCODE1"' in content
    self_link = [x for x in root.findall(f"{ATOM}link") if x.get("rel") == "self"]
    assert [x.get("href") for x in self_link] == [f"{SITE}genshin/feed.xml"]


def test_entry_ids_stay_put_when_other_codes_arrive() -> None:
    def ids(files: dict[str, bytes]) -> dict[str, str]:
        return {
            e.findtext(f"{ATOM}title") or "": e.findtext(f"{ATOM}id") or ""
            for e in atom(files, "feed.xml").findall(f"{ATOM}entry")
        }

    before = ids(render(view("zzz", "ZZZCODE001")))
    after = ids(render(view("zzz", "ZZZCODE001"), view("genshin", "GENSHINGIFT")))
    key = "Zenless Zone Zero: ZZZCODE001"
    assert before[key] == after[key]
    assert len(set(after.values())) == 2


def test_all_games_feed_mixes_games_newest_first() -> None:
    files = render(
        view("hsr", "STARRAILGIFT", first_seen=NOW - timedelta(hours=1)),
        view("genshin", "GENSHINGIFT", first_seen=NOW - timedelta(hours=3)),
        view("wuwa", "WUWACODE01", first_seen=NOW - timedelta(hours=2)),
    )
    titles = [e.findtext(f"{ATOM}title") for e in atom(files, "feed.xml").iter(f"{ATOM}entry")]
    assert titles == [
        "Honkai: Star Rail: STARRAILGIFT",
        "Wuthering Waves: WUWACODE01",
        "Genshin Impact: GENSHINGIFT",
    ]


def test_feed_keeps_the_newest_codes_only() -> None:
    codes = [
        view("genshin", f"GIFT{i:04d}", first_seen=NOW - timedelta(minutes=i))
        for i in range(FEED_MAX_ENTRIES + 5)
    ]
    entries = atom(render(*codes), "genshin/feed.xml").findall(f"{ATOM}entry")
    assert len(entries) == FEED_MAX_ENTRIES
    assert entries[0].findtext(f"{ATOM}title") == "Genshin Impact: GIFT0000"


def test_empty_feed_is_valid_and_stable() -> None:
    files = render()
    root = atom(files, "hi3/feed.xml")
    assert root.findall(f"{ATOM}entry") == []
    assert root.findtext(f"{ATOM}updated") == "1970-01-01T00:00:00+00:00"


def test_atom_escapes_hostile_rewards_text() -> None:
    files = render(view("genshin", "ESCAPEME1", rewards=HOSTILE))
    raw = files["genshin/feed.xml"].decode()
    assert "<script>" not in raw
    entry = atom(files, "genshin/feed.xml").find(f"{ATOM}entry")
    assert entry is not None
    content = entry.find(f"{ATOM}content")
    assert content is not None
    assert content.get("type") == "html"
    # The content is HTML carried as text: once XML-decoded it is still escaped HTML.
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &#34;quoted&#34; &amp; more" in (
        content.text or ""
    )


@settings(max_examples=60, deadline=None)
@given(rewards=st.text(max_size=120), name=st.text(max_size=40))
def test_any_web_text_gives_valid_json_and_atom(rewards: str, name: str) -> None:
    files = render(
        view("genshin", "ANYTEXT01", rewards=rewards, items=(RewardItem(name or "x", 1),))
    )
    doc = load(files, "genshin/codes.json")
    shown = doc["games"][0]["codes"][0]["rewards"]
    assert len(shown) <= 300
    atom(files, "genshin/feed.xml")
    atom(files, "feed.xml")


# --- sitemap, robots --------------------------------------------------------------------


def test_sitemap_lists_every_page() -> None:
    files = render(view("genshin", "GENSHINGIFT"))
    root = etree.fromstring(files["sitemap.xml"])
    assert root.tag == f"{SITEMAP}urlset"
    urls = {loc.text for loc in root.iter(f"{SITEMAP}loc")}
    pages = {p for p in files if p.endswith(".html")}
    expected = {SITE + p.removesuffix("index.html") for p in pages}
    assert urls == expected
    assert SITE in urls
    assert f"{SITE}zzz/" in urls


def test_robots_points_at_the_sitemap() -> None:
    robots = render()["robots.txt"].decode()
    assert f"Sitemap: {SITE}sitemap.xml" in robots.splitlines()


@pytest.mark.parametrize("base", ["https://codes.example.org", "https://codes.example.org/"])
def test_site_url_without_trailing_slash_is_accepted(base: str) -> None:
    files = render_site(
        SiteSnapshot(games=GAMES, codes=(), sources=(), generated_at=NOW, site_url=base)
    )
    assert b"https://codes.example.org/sitemap.xml" in files["robots.txt"]


@settings(max_examples=60, deadline=None)
@given(
    code=st.text(min_size=1, max_size=40),
    rewards=st.text(max_size=80),
    source=st.text(max_size=20),
)
def test_json_is_byte_for_byte_what_json_dumps_writes(
    code: str, rewards: str, source: str
) -> None:
    # The JSON is written field by field for speed; it must stay exactly the standard form.
    item = RewardItem(rewards or "x", 2, "https://cdn.example.net/i.png")
    files = render(view("genshin", code, rewards=rewards, sources=(source,), items=(item,)))
    for path in ("codes.json", "genshin/codes.json"):
        raw = files[path]
        standard = json.dumps(json.loads(raw), ensure_ascii=False, separators=(",", ":"))
        assert raw == (standard + "\n").encode()


def test_feed_escapes_a_hostile_game_name_and_note() -> None:
    odd = Game(
        id="odd",
        name='Odd <b>"&',
        pattern="[A-Z0-9]+",
        redeem_url="https://odd.example.net/r?c={code}&lang=en",
        note="Note <i>",
    )
    files = render_site(
        SiteSnapshot(
            games=(odd,),
            codes=(view("odd", "ODDCODE1"), view("odd", "ODDOLD1", CodeStatus.EXPIRED)),
            sources=(),
            generated_at=NOW,
            site_url=SITE,
        ),
        RENDERER,
    )
    for path in ("feed.xml", "odd/feed.xml"):
        root = atom(files, path)
        titles = [e.findtext(f"{ATOM}title") for e in root.iter(f"{ATOM}entry")]
        assert titles == ['Odd <b>"&: ODDCODE1', 'Odd <b>"&: ODDOLD1']
    root = atom(files, "odd/feed.xml")
    assert root.findtext(f"{ATOM}title") == 'Odd <b>"& codes'
    contents = [e.findtext(f"{ATOM}content") or "" for e in root.iter(f"{ATOM}entry")]
    assert 'href="https://odd.example.net/r?c=ODDCODE1&amp;lang=en"' in contents[0]
    assert "Odd &lt;b&gt;&#34;&amp;" in contents[0]
    # An expired code has no redeem link; the game's note says where to go instead.
    assert "<p>Note &lt;i&gt;</p>" in contents[1]
