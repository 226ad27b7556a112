"""Per-code details on the site: reward icons, times and expiry, families, sources, escaping.

Also a structural HTML check of every page (balanced tags, content models the pages use,
unique ids, a label for every control, sized pictures with alt text).
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from lxml import etree

from bot.core.catalog import load_catalog
from bot.core.domain import CodeStatus, CodeView, Game, RewardItem, SourceHealth
from bot.core.language import LANGUAGES
from bot.site import SiteRenderer, SiteSnapshot
from bot.site.health import plain_error
from bot.site.icons import Icon

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SITE = "https://codes.example.org/"
GAMES = tuple(load_catalog().games.values())
RENDERER = SiteRenderer()
GEM_URL = "https://cdn.example.net/gem.png"
GEM = Icon(webp="0123456789abcdef.webp", png="fedcba9876543210.png", width=32, height=32)
EVIL = '<x-evil a="1">&amp;\'"'


def view(game: str, code: str, **changes: object) -> CodeView:
    base = CodeView(
        game=game,
        code=code,
        status=CodeStatus.ACTIVE,
        rewards="Primogems x60",
        items=(),
        first_seen=NOW - timedelta(hours=3),
        last_seen=NOW,
        expires_at=None,
        sources=("fandom-genshin",),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def render(
    *codes: CodeView,
    sources: tuple[SourceHealth, ...] = (),
    icons: dict[str, Icon] | None = None,
    games: tuple[Game, ...] = GAMES,
    source_names: dict[str, str] | None = None,
) -> dict[str, bytes]:
    snapshot = SiteSnapshot(
        games=games,
        codes=codes,
        sources=sources,
        generated_at=NOW,
        site_url=SITE,
        icons=icons or {},
        source_names=source_names or {},
    )
    return RENDERER.render(snapshot)


def card_of(html: str, code: str) -> str:
    start = html.index(f'<code class="code">{code}</code>')
    start = html.rindex("<li", 0, start)
    return html[start : html.index("</li>", start)]


def health(source_id: str, **changes: object) -> SourceHealth:
    base = SourceHealth(
        id=source_id,
        game="genshin",
        kind="fandom",
        url="https://genshin-impact.fandom.com/api.php",
        last_attempt=NOW,
        last_success=NOW - timedelta(minutes=5),
        last_error=None,
        consecutive_failures=0,
        last_count=10,
        probably_broken=False,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# --- reward items and icons ---------------------------------------------------------------


def test_an_item_with_a_stored_icon_is_a_sized_picture_with_a_png_fallback() -> None:
    code = view("genshin", "ICONCODE1", items=(RewardItem("Primogem", 60, GEM_URL),))
    files = render(code, icons={GEM_URL: GEM})
    card = card_of(files["genshin/index.html"].decode(), "ICONCODE1")
    assert (
        '<picture><source srcset="../icons/0123456789abcdef.webp" type="image/webp">'
        '<img src="../icons/fedcba9876543210.png" width="32" height="32" alt=""'
    ) in card
    # A named item says its name in text; the picture is decoration.
    assert "Primogem \u00d760" in card
    front = files["index.html"].decode()
    assert 'srcset="icons/0123456789abcdef.webp"' in front
    assert 'src="icons/fedcba9876543210.png" width="32" height="32"' in front


def test_an_unnamed_item_shows_its_icon_and_amount_with_alt_text() -> None:
    # HoYoLAB names no item: only an icon and an amount.
    code = view("genshin", "HOYOCODE1", rewards="", items=(RewardItem("", 100, GEM_URL),))
    card = card_of(render(code, icons={GEM_URL: GEM})["genshin/index.html"].decode(), "HOYOCODE1")
    assert 'alt="Reward"' in card
    assert "</picture>\u00d7100</span>" in card
    assert "Rewards not listed" not in card


def test_an_item_whose_icon_could_not_be_had_falls_back_to_text() -> None:
    code = view(
        "genshin",
        "NOICON001",
        rewards="",
        items=(RewardItem("", 100, "https://cdn.example.net/broken.png"),),
    )
    files = render(code, icons={GEM_URL: GEM})
    card = card_of(files["genshin/index.html"].decode(), "NOICON001")
    assert "<img" not in card
    assert "Reward \u00d7100" in card
    assert "cdn.example.net" not in files["genshin/index.html"].decode()
    item = json.loads(files["genshin/codes.json"])["games"][0]["codes"][0]["items"][0]
    assert item == {
        "name": "",
        "amount": 100,
        "icon_url": "https://cdn.example.net/broken.png",
        "icon": None,
    }


def test_json_carries_the_stored_icon_as_absolute_urls() -> None:
    code = view("genshin", "ICONCODE1", items=(RewardItem("Primogem", 60, GEM_URL),))
    doc = json.loads(render(code, icons={GEM_URL: GEM})["codes.json"])
    assert doc["games"][0]["codes"][0]["items"][0]["icon"] == {
        "webp": f"{SITE}icons/0123456789abcdef.webp",
        "png": f"{SITE}icons/fedcba9876543210.png",
        "width": 32,
        "height": 32,
    }


def test_items_without_icons_keep_the_sources_rewards_text() -> None:
    code = view(
        "genshin", "TEXTCODE1", rewards="Primogems x60, Mora x5000", items=(RewardItem("Mora", 1),)
    )
    card = card_of(render(code)["genshin/index.html"].decode(), "TEXTCODE1")
    assert '<p class="rw">Primogems x60, Mora x5000</p>' in card


# --- times and expiry ---------------------------------------------------------------------


def test_expiry_in_the_future_says_expires_with_the_exact_time() -> None:
    expires = NOW + timedelta(days=2, minutes=7, seconds=5)
    files = render(view("genshin", "DATED0001", expires_at=expires))
    card = card_of(files["genshin/index.html"].decode(), "DATED0001")
    assert (
        '<time class="exp" datetime="2025-03-03T12:07:05Z" title="2025-03-03 12:07:05 UTC">'
        "expires 2025-03-03 12:07 UTC</time>"
    ) in card
    assert 'class="card"' in card
    front = files["index.html"].decode()
    assert '<time class="exp" datetime="2025-03-03T12:07:05Z">expires 2025-03-03</time>' in front


def test_a_passed_expiry_is_expired_in_the_archive() -> None:
    files = render(view("genshin", "DATED0002", expires_at=NOW - timedelta(minutes=1)))
    html = files["genshin/index.html"].decode()
    card = card_of(html, "DATED0002")
    assert 'class="card old"' in card
    assert ">expired 2025-03-01 11:59 UTC</time>" in card
    assert "Redeem" not in card
    assert html.index("DATED0002") > html.index('<details class="list expired">')
    assert "DATED0002" not in files["index.html"].decode()
    assert json.loads(files["codes.json"])["games"][0]["codes"][0]["status"] == "expired"


def test_expiry_exactly_now_counts_as_passed() -> None:
    html = render(view("genshin", "DATED0003", expires_at=NOW))["genshin/index.html"].decode()
    assert 'class="card old"' in card_of(html, "DATED0003")


def test_relative_times_are_left_to_the_browser() -> None:
    # "3 h ago" in the HTML would change every file every cycle; the page carries the time.
    files = render(view("genshin", "SEENCODE1", first_seen=NOW - timedelta(hours=3)))
    for path in ("index.html", "genshin/index.html"):
        html = files[path].decode()
        assert " ago" not in html
        assert 'datetime="2025-03-01T09:00:00Z"' in html
    script = next(v for k, v in files.items() if re.fullmatch(r"static/site\.\w+\.js", k))
    assert b"time[datetime]" in script
    assert b" ago" in script


def test_times_move_with_the_clock_but_the_bytes_do_not() -> None:
    code = view("genshin", "STABLE001", expires_at=NOW + timedelta(days=3))
    first = render(code)
    later = RENDERER.render(
        SiteSnapshot(
            games=GAMES,
            codes=(code,),
            sources=(),
            generated_at=NOW + timedelta(hours=5),
            site_url=SITE,
        )
    )
    assert first == later


# --- families, sources, redeem ----------------------------------------------------------


@pytest.mark.parametrize(
    ("game", "code", "family"),
    [
        ("zzz", "ZZZ24GIFT", "ZZZ24"),
        ("zzz", "zzz07abc", "ZZZ07"),
        ("zzz", "ZZZFREE100", None),
        ("zzz", "ZZ24ABCDE", None),
        ("genshin", "ZZZ24GIFT", None),
    ],
)
def test_zzz_family_codes_carry_the_family_note(game: str, code: str, family: str | None) -> None:
    files = render(view(game, code))
    card = card_of(files[f"{game}/index.html"].decode(), code)
    entry = json.loads(files[f"{game}/codes.json"])["games"][0]["codes"][0]
    assert entry["family"] == family
    if family:
        assert f"Family {family}: only one code of this family works per account." in card
    else:
        assert "Family" not in card


def test_sources_listing_a_code_link_to_their_health_entries() -> None:
    files = render(
        view("genshin", "LISTED001", sources=("game8-genshin", "fandom-genshin")),
        sources=(health("fandom-genshin"), health("game8-genshin")),
    )
    card = card_of(files["genshin/index.html"].decode(), "LISTED001")
    assert 'listed by <a href="../sources.html#src-fandom-genshin">fandom-genshin</a>' in card
    sources = files["sources.html"].decode()
    assert '<li class="source ok" id="src-fandom-genshin">' in sources
    assert 'id="src-game8-genshin"' in sources


def test_players_see_the_names_of_the_sources_not_their_ids() -> None:
    catalog = load_catalog()
    names = {source.id: source.label for source in catalog.sources}
    assert names["hoyolab-genshin"] == "HoYoLAB"
    code = view("genshin", "NAMED0001", sources=("hoyolab-genshin", "fandom-genshin"))
    files = render(code, source_names=names)
    card = card_of(files["genshin/index.html"].decode(), "NAMED0001")
    assert 'listed by <a href="../sources.html#src-fandom-genshin">Fandom</a>, ' in card
    assert '<a href="../sources.html#src-hoyolab-genshin">HoYoLAB</a>' in card
    assert "hoyolab-genshin</a>" not in card
    entry = etree.fromstring(files["genshin/feed.xml"]).find("{http://www.w3.org/2005/Atom}entry")
    assert entry is not None
    assert "Listed by Fandom, HoYoLAB." in (
        entry.findtext("{http://www.w3.org/2005/Atom}content") or ""
    )
    # The API keeps the ids: programs match on them.
    api = json.loads(files["genshin/codes.json"])["games"][0]["codes"][0]
    assert api["sources"] == ["fandom-genshin", "hoyolab-genshin"]


def test_the_redeem_link_is_there_for_web_redeem_games_only() -> None:
    files = render(view("genshin", "WEBCODE01"), view("wuwa", "GAMECODE1"))
    assert "Redeem<span" in card_of(files["genshin/index.html"].decode(), "WEBCODE01")
    assert "Redeem<span" not in card_of(files["wuwa/index.html"].decode(), "GAMECODE1")


# --- source health ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "words"),
    [
        ("unavailable: timed out (ReadTimeout)", "The site did not answer in time."),
        ("unavailable: HTTP 503", "The site had a server error (HTTP 503)."),
        ("unavailable: HTTP 429", "asked us to slow down"),
        ("unavailable: network error: [Errno 111] refused", "could not be reached"),
        ("rejected: HTTP 404", "The page is gone (HTTP 404): it has probably moved."),
        ("rejected: HTTP 403", "The site refused access (HTTP 403)."),
        ("rejected: HoYoLAB retcode -502002: not logged in", "its error code -502002"),
        ("rejected: too many redirects", "redirects in circles"),
        ("too-large: more than the 5000000-byte cap", "larger than codecast reads"),
        ("too-slow: too slow to parse (over 20s)", "took too long to read"),
        ("changed: fandom: no code-row templates", "its layout probably changed"),
        ("changed: parser crashed: KeyError('x')", "reader for it failed"),
        ("listed no codes, though it did before", "listed no codes this time"),
        ("something nobody planned for", "Reading it failed."),
    ],
)
def test_stored_errors_read_as_plain_words(stored: str, words: str) -> None:
    assert words in plain_error(stored)


def test_the_health_page_shows_plain_words_the_detail_and_the_flag() -> None:
    files = render(
        sources=(
            health("fandom-genshin"),
            health(
                "game8-genshin",
                last_error="rejected: HTTP 404",
                consecutive_failures=6,
                probably_broken=True,
                last_attempt=NOW - timedelta(minutes=3),
            ),
        )
    )
    html = files["sources.html"].decode()
    assert "1 of 2 sources working; 1 probably broken." in html
    assert "The page is gone (HTTP 404): it has probably moved." in html
    assert '<span class="detail">rejected: HTTP 404</span>' in html
    assert "Probably broken" in html
    doc = json.loads(files["sources.json"])
    assert doc["version"] == 1
    broken = next(s for s in doc["sources"] if s["id"] == "game8-genshin")
    assert broken == {
        "id": "game8-genshin",
        "game": "genshin",
        "kind": "fandom",
        "host": "genshin-impact.fandom.com",
        "state": "broken",
        "probably_broken": True,
        "last_success": "2025-03-01T11:00:00Z",
        "last_attempt": "2025-03-01T11:00:00Z",
        "consecutive_failures": 6,
        "last_count": 10,
        "last_error": "The page is gone (HTTP 404): it has probably moved.",
        "error_detail": "rejected: HTTP 404",
    }


# --- escaping of every field --------------------------------------------------------------


def hostile_site() -> dict[str, bytes]:
    game = Game(
        id="evil",
        name=f"Game {EVIL}",
        pattern="[A-Z0-9]{4,20}",
        redeem_url="https://redeem.example.org/?c={code}&n=" + '"<b>',
        note=f"Note {EVIL}",
    )
    code = view(
        "evil",
        f"CODE{EVIL}",
        rewards=f"Rewards {EVIL}",
        items=(RewardItem(f"Item {EVIL}", 3, GEM_URL), RewardItem("", 5, f"{GEM_URL}?{EVIL}")),
        sources=(f"src {EVIL}",),
        expires_at=NOW + timedelta(days=1),
    )
    # Items with icons are shown instead of the text; a code without shows the text.
    plain = view("evil", "PLAINCODE", rewards=f"Rewards {EVIL}", sources=(f"src {EVIL}",))
    source = health(
        f"src {EVIL}",
        game="evil",
        kind=f"kind {EVIL}",
        url=f"https://{EVIL}.example.org/",
        last_error=f"changed: {EVIL}",
        consecutive_failures=1,
    )
    return render(code, plain, sources=(source,), icons={GEM_URL: GEM}, games=(game,))


def test_every_field_is_escaped_in_every_page() -> None:
    files = hostile_site()
    for path, data in files.items():
        if path.endswith(".html"):
            text = data.decode()
            assert "<x-evil" not in text, path
            assert "<b>" not in text, path
            check_html(text)
    game_page = files["evil/index.html"].decode()
    for escaped in (
        "CODE&lt;x-evil a=&#34;1&#34;&gt;&amp;amp;&#39;&#34;",
        "Rewards &lt;x-evil",
        "Item &lt;x-evil",
        "Game &lt;x-evil",
        "Note &lt;x-evil",
        "src &lt;x-evil",
    ):
        assert escaped in game_page
    sources = files["sources.html"].decode()
    assert "kind &lt;x-evil" in sources
    assert "changed: &lt;x-evil" in sources


def test_every_field_survives_as_data_in_json_and_atom() -> None:
    files = hostile_site()
    codes = json.loads(files["evil/codes.json"])["games"][0]["codes"]
    entry = next(c for c in codes if c["code"] == f"CODE{EVIL}")
    assert entry["rewards"] == f"Rewards {EVIL}"
    assert entry["items"][0]["name"] == f"Item {EVIL}"
    assert entry["sources"] == [f"src {EVIL}"]
    assert json.loads(files["sources.json"])["sources"][0]["kind"] == f"kind {EVIL}"
    for path in ("feed.xml", "evil/feed.xml"):
        root = etree.fromstring(files[path])
        content = root.findtext(".//{http://www.w3.org/2005/Atom}content") or ""
        assert f"CODE{EVIL}".replace("&", "&amp;").replace("<", "&lt;")[:8] in content
        assert "<x-evil" not in content


# --- valid HTML -----------------------------------------------------------------------------

VOID = {"meta", "link", "img", "source", "input", "br", "hr"}
# Elements that hold only phrasing content: no blocks inside them.
PHRASING_ONLY = {"p", "span", "a", "code", "time", "strong", "em", "label", "summary", "h1", "h2"}
BLOCKS = {"p", "div", "ul", "ol", "li", "section", "form", "details", "dl", "h1", "h2", "main"}
PARENTS = {
    "li": {"ul", "ol"},
    "source": {"picture"},
    "dt": {"dl"},
    "dd": {"dl"},
    "option": {"select"},
    "summary": {"details"},
}


class Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.ids: Counter[str] = Counter()
        self.labels: set[str] = set()
        self.controls: set[str] = set()
        self.doctype = False

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl.lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if len(values) != len(attrs):
            self.problems.append(f"<{tag}> repeats an attribute")
        if element_id := values.get("id"):
            self.ids[element_id] += 1
        parent = self.stack[-1] if self.stack else None
        if tag in PARENTS and parent not in PARENTS[tag]:
            self.problems.append(f"<{tag}> inside <{parent}>")
        if tag in BLOCKS and any(t in PHRASING_ONLY for t in self.stack):
            self.problems.append(f"<{tag}> inside {self.stack}")
        if tag == "img" and not {"alt", "width", "height"} <= set(values):
            self.problems.append(f"<img> without alt, width and height: {values}")
        if tag == "label":
            self.labels.add(values.get("for") or "")
        if tag in ("input", "select", "textarea"):
            self.controls.add(values.get("id") or "")
        if tag == "time" and not re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", values.get("datetime") or ""
        ):
            self.problems.append(f"<time> with datetime {values.get('datetime')!r}")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"self-closing <{tag}/> in HTML")

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            self.problems.append(f"end tag for void <{tag}>")
        elif not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-3:]}")
        else:
            self.stack.pop()


def check_html(html: str) -> None:
    checker = Checker()
    checker.feed(html)
    checker.close()
    assert checker.doctype
    assert checker.stack == []
    assert checker.problems == []
    assert [i for i, n in checker.ids.items() if n > 1] == []
    # Every control has a label, and every label names a control.
    assert checker.controls <= checker.labels
    assert checker.labels <= checker.controls


def test_every_page_is_well_formed_html() -> None:
    codes = [
        view("genshin", "ACTIVE001", items=(RewardItem("Primogem", 60, GEM_URL),)),
        view("genshin", "OLDCODE01", status=CodeStatus.EXPIRED, expires_at=NOW),
        view("zzz", "ZZZ24ABCD", status=CodeStatus.UNKNOWN),
        view("hsr", "HSRCODE01", rewards="", items=(RewardItem("", 5, GEM_URL),)),
    ]
    sources = (
        health("fandom-genshin"),
        health("game8-genshin", last_error="unavailable: HTTP 502", consecutive_failures=2),
        health("new-source", last_success=None, last_attempt=None, last_count=None),
    )
    files = render(*codes, sources=sources, icons={GEM_URL: GEM})
    pages = [p for p in files if p.endswith(".html")]
    # Every page in every language the site speaks.
    assert len(pages) == (len(GAMES) + 2) * len(LANGUAGES)
    for path in pages:
        check_html(files[path].decode())


def test_the_checker_finds_what_it_looks_for() -> None:
    for broken in (
        "<!doctype html><p><div></div></p>",
        "<!doctype html><ul><p>x</p></ul><li>x</li>",
        '<!doctype html><img src="a.png">',
        '<!doctype html><input id="q">',
        '<!doctype html><b id="a"></b><i id="a"></i>',
        "<!doctype html><span>",
    ):
        with pytest.raises(AssertionError):
            check_html(broken)


def test_feed_entries_carry_the_same_details_as_the_cards() -> None:
    code = view(
        "zzz",
        "ZZZ24GIFT",
        rewards="",
        items=(RewardItem("", 100, GEM_URL),),
        expires_at=NOW + timedelta(days=2),
        sources=("fandom-zzz", "game8-zzz"),
    )
    files = render(code, icons={GEM_URL: GEM})
    entry = etree.fromstring(files["zzz/feed.xml"]).find("{http://www.w3.org/2005/Atom}entry")
    assert entry is not None
    content = entry.findtext("{http://www.w3.org/2005/Atom}content") or ""
    assert "Rewards: Reward \u00d7100" in content
    assert "Expires 2025-03-03 12:00 UTC." in content
    assert "Family ZZZ24: only one code of this family works per account." in content
    assert "Listed by fandom-zzz, game8-zzz." in content
    assert 'href="https://zenless.hoyoverse.com/redemption?code=ZZZ24GIFT"' in content


def test_front_page_with_icons_on_every_code_stays_under_15_kb_gzipped() -> None:
    icons = {f"{GEM_URL}?{i}": replace(GEM, webp=f"{i:016x}.webp") for i in range(3)}
    codes = [
        view(
            game.id,
            f"CODE{game.id.upper()}{n:04d}",
            rewards="",
            items=tuple(RewardItem("", 60 + n, url) for url in icons),
            first_seen=NOW - timedelta(hours=n),
            expires_at=NOW + timedelta(days=1, hours=n),
        )
        for game in GAMES
        for n in range(50)
    ]
    index = render(*codes, icons=icons)["index.html"]
    assert index.count(b"<picture>") == 3 * 50 * len(GAMES)
    assert len(gzip.compress(index, compresslevel=9, mtime=0)) < 15 * 1024
