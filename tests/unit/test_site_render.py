"""The static site's HTML: content, order, escaping, self-containment, size, determinism."""

from __future__ import annotations

import gzip
import random
import string
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.catalog import load_catalog
from bot.core.domain import CodeStatus, CodeView, Game, RewardItem, SourceHealth
from bot.core.language import LANGUAGES
from bot.site import SiteRenderer, SiteSnapshot, render_site
from bot.site.view import _clean_fully, clean_text

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SITE = "https://codes.example.org/"
GAMES = tuple(load_catalog().games.values())
TIMES = "\N{MULTIPLICATION SIGN}"
HOSTILE = '<script>alert(1)</script> "quoted" & more'

REWARDS = [
    f"Primogems {TIMES}60, Mora {TIMES}10000",
    f"Stellar Jade {TIMES}100, Credit {TIMES}50000",
    f"Polychrome {TIMES}300, Dennies {TIMES}30000",
    f"Crystals {TIMES}100",
    f"Astrite {TIMES}50, Premium Tuning Module {TIMES}1",
    f"Hero's Wit {TIMES}5, Mystic Enhancement Ore {TIMES}5",
]


def view(
    game: str,
    code: str,
    status: CodeStatus = CodeStatus.ACTIVE,
    *,
    rewards: str = f"Primogems {TIMES}60",
    first_seen: datetime = NOW - timedelta(days=1),
    expires_at: datetime | None = None,
    sources: tuple[str, ...] = ("fandom",),
    items: tuple[RewardItem, ...] = (),
) -> CodeView:
    return CodeView(
        game=game,
        code=code,
        status=status,
        rewards=rewards,
        items=items,
        first_seen=first_seen,
        last_seen=NOW,
        expires_at=expires_at,
        sources=sources,
    )


def snapshot(*codes: CodeView, sources: tuple[SourceHealth, ...] = ()) -> SiteSnapshot:
    return SiteSnapshot(games=GAMES, codes=codes, sources=sources, generated_at=NOW, site_url=SITE)


def page(files: dict[str, bytes], path: str) -> str:
    return files[path].decode()


def big_snapshot(per_game: int, games: tuple[Game, ...] = GAMES) -> SiteSnapshot:
    rnd = random.Random(7)
    codes = []
    for game in games:
        for i in range(per_game):
            code = "".join(rnd.choice(string.ascii_uppercase + string.digits) for _ in range(12))
            codes.append(
                view(
                    game.id,
                    code,
                    rewards=rnd.choice(REWARDS),
                    first_seen=NOW - timedelta(hours=3 * i + rnd.randint(0, 2)),
                    sources=("fandom", "game8", "hoyolab")[: rnd.randint(1, 3)],
                )
            )
    return SiteSnapshot(
        games=games, codes=tuple(codes), sources=(), generated_at=NOW, site_url=SITE
    )


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src", "action", "srcset", "poster") and value is not None:
                self.refs.append((tag, name, value))


def test_codes_and_game_pages_are_rendered() -> None:
    files = render_site(snapshot(view("genshin", "GENSHINGIFT")))
    assert "GENSHINGIFT" in page(files, "index.html")
    assert "GENSHINGIFT" in page(files, "genshin/index.html")
    for game in GAMES:
        assert f"{game.id}/index.html" in files
        assert f"{game.id}/codes.json" in files
        assert f"{game.id}/feed.xml" in files
    for path in ("index.html", "codes.json", "feed.xml", "sitemap.xml", "robots.txt"):
        assert path in files
    assert "sources.html" in files


def test_current_codes_come_before_expired_ones_in_details() -> None:
    files = render_site(
        snapshot(
            view("hsr", "OLDEXPIRED1", CodeStatus.EXPIRED, first_seen=NOW - timedelta(days=1)),
            view("hsr", "STILLACTIVE", first_seen=NOW - timedelta(days=30)),
            view("hsr", "MAYBEACTIVE", CodeStatus.UNKNOWN, first_seen=NOW - timedelta(days=2)),
        )
    )
    html = page(files, "hsr/index.html")
    details = html.index('<details class="list')
    assert html.index("MAYBEACTIVE") < html.index("STILLACTIVE") < details
    assert html.index("OLDEXPIRED1") > details
    assert "Expired codes (1)" in html
    assert "Status not confirmed" in html
    index = page(files, "index.html")
    # The front page lists current codes only; expired ones live on the game page.
    assert "STILLACTIVE" in index
    assert "OLDEXPIRED1" not in index
    assert "1 expired code" in index


def test_a_passed_expiry_date_moves_the_code_to_expired() -> None:
    files = render_site(
        snapshot(view("genshin", "DATEDCODE1", expires_at=NOW - timedelta(hours=1)))
    )
    html = page(files, "genshin/index.html")
    assert html.index("DATEDCODE1") > html.index("<details")


def test_redeem_link_per_game() -> None:
    files = render_site(
        snapshot(
            view("genshin", "GENSHINGIFT"),
            view("hsr", "STARRAILGIFT"),
            view("zzz", "ZZZ10THANKS"),
        )
    )
    assert 'href="https://genshin.hoyoverse.com/en/gift?code=GENSHINGIFT"' in page(
        files, "genshin/index.html"
    )
    assert 'href="https://hsr.hoyoverse.com/gift?code=STARRAILGIFT"' in page(
        files, "hsr/index.html"
    )
    zzz = page(files, "zzz/index.html")
    assert 'href="https://zenless.hoyoverse.com/redemption?code=ZZZ10THANKS"' in zzz
    assert "one code per family per account" in zzz


@pytest.mark.parametrize("game", ["hi3", "wuwa"])
def test_in_game_games_have_no_redeem_link(game: str) -> None:
    files = render_site(snapshot(view(game, "INGAMEONLY1")))
    html = page(files, f"{game}/index.html")
    assert "INGAMEONLY1" in html
    assert "Redeem in game" in html
    assert "redeem" not in html.split("<main", 1)[1].split("INGAMEONLY1", 1)[1].split("</li>")[0]
    assert "hoyoverse.com" not in html


def test_first_seen_is_a_time_element_and_the_sources_are_named() -> None:
    seen = datetime(2025, 2, 3, 4, 5, 6, 789, tzinfo=UTC)
    files = render_site(
        snapshot(view("genshin", "TIMEDCODE1", first_seen=seen, sources=("a-1", "b", "c")))
    )
    html = page(files, "genshin/index.html")
    # Exact UTC in the attribute and the title; the script makes the text relative.
    assert (
        '<time datetime="2025-02-03T04:05:06Z" title="2025-02-03 04:05:06 UTC">'
        "2025-02-03 04:05 UTC</time>"
    ) in html
    assert (
        'listed by <a href="../sources.html#src-a-1">a-1</a>, '
        '<a href="../sources.html#src-b">b</a>, <a href="../sources.html#src-c">c</a>'
    ) in html


def test_naive_datetimes_are_taken_as_utc() -> None:
    naive = datetime(2025, 2, 3, 4, 5, 6)  # noqa: DTZ001 - SQLite hands these back
    files = render_site(snapshot(view("genshin", "NAIVECODE1", first_seen=naive)))
    assert 'datetime="2025-02-03T04:05:06Z"' in page(files, "genshin/index.html")


@pytest.mark.parametrize("path", ["index.html", "genshin/index.html"])
def test_rewards_text_is_escaped_in_html(path: str) -> None:
    files = render_site(snapshot(view("genshin", "ESCAPEME1", rewards=HOSTILE)))
    html = page(files, path)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;quoted&#34; &amp; more" in html


def test_code_item_names_and_source_errors_are_escaped() -> None:
    broken = SourceHealth(
        id="page-<b>x</b>",
        game="genshin",
        kind="page",
        url="https://example.net/<p>",
        last_attempt=NOW,
        last_success=None,
        last_error='layout changed: <img src=x onerror="alert(1)">',
        consecutive_failures=5,
        last_count=None,
        probably_broken=True,
    )
    files = render_site(
        snapshot(
            view("genshin", 'AB"<i>', rewards="", items=(RewardItem("<svg onload=x>", 2),)),
            sources=(broken,),
        )
    )
    html = page(files, "genshin/index.html")
    assert "<i>" not in html.split("<main", 1)[1]
    assert f"&lt;svg onload=x&gt; {TIMES}2" in html
    sources = page(files, "sources.html")
    assert "<img" not in sources
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in sources
    assert "Probably broken" in sources
    assert "<b>x</b>" not in sources


def test_unsafe_redeem_urls_are_dropped() -> None:
    evil = Game(
        id="evil", name="Evil", pattern="[A-Z0-9]{4,20}", redeem_url="javascript:go('{code}')"
    )
    snap = SiteSnapshot(
        games=(evil,),
        codes=(view("evil", "EVILCODE1"),),
        sources=(),
        generated_at=NOW,
        site_url=SITE,
    )
    files = render_site(snap)
    html = page(files, "evil/index.html")
    assert "EVILCODE1" in html
    assert "javascript:" not in html
    assert "javascript:" not in page(files, "evil/codes.json")


def test_games_with_unsafe_ids_get_no_folder() -> None:
    odd = Game(id="../etc", name="Odd", pattern="[A-Z]+")
    snap = SiteSnapshot(games=(*GAMES, odd), codes=(), sources=(), generated_at=NOW, site_url=SITE)
    assert not any(".." in path for path in render_site(snap))


def test_zero_codes_still_render_index_and_game_pages() -> None:
    files = render_site(snapshot())
    index = page(files, "index.html")
    assert index.count("No current codes.") == len(GAMES)
    for game in GAMES:
        html = page(files, f"{game.id}/index.html")
        assert "No current codes" in html
        assert '<details class="list' not in html


def test_same_snapshot_gives_same_bytes() -> None:
    snap = big_snapshot(20)
    assert render_site(snap) == render_site(snap)
    renderer = SiteRenderer()
    assert renderer.render(snap) == renderer.render(snap) == render_site(snap)


def test_code_order_in_input_does_not_change_output() -> None:
    snap = big_snapshot(10)
    shuffled = list(snap.codes)
    random.Random(3).shuffle(shuffled)
    reordered = replace(snap, codes=tuple(shuffled))
    assert render_site(snap) == render_site(reordered)


def test_a_later_cycle_with_nothing_new_changes_no_file() -> None:
    # Same codes, seen again half an hour later in the same hour, sources re-read: the
    # generation time and last_seen move, the bytes must not.
    snap = big_snapshot(5)
    later = replace(
        snap,
        generated_at=NOW + timedelta(minutes=30),
        codes=tuple(replace(c, last_seen=NOW + timedelta(minutes=29)) for c in snap.codes),
    )
    assert render_site(snap) == render_site(later)


def test_index_gzipped_stays_under_15_kb_for_5_games_of_50_codes() -> None:
    files = render_site(big_snapshot(50))
    size = len(gzip.compress(files["index.html"], compresslevel=9, mtime=0))
    assert size < 15 * 1024, size


def test_pages_load_nothing_from_other_hosts() -> None:
    files = render_site(big_snapshot(3))
    redeem_prefixes = tuple(
        g.redeem_url.split("{code}")[0] for g in GAMES if g.redeem_url is not None
    )
    html_paths = [p for p in files if p.endswith(".html")]
    assert len(html_paths) == (len(GAMES) + 2) * len(LANGUAGES)
    for path in html_paths:
        html = page(files, path)
        parser = Links()
        parser.feed(html)
        for tag, attr, value in parser.refs:
            if tag in ("script", "img", "iframe", "source") or (tag == "link" and attr == "href"):
                assert not value.startswith(("http:", "https:", "//")) or value.startswith(SITE), (
                    path,
                    tag,
                    value,
                )
            if value.startswith(("http:", "https:", "//")):
                assert value.startswith(SITE) or value.startswith(redeem_prefixes), (path, value)
        assert "<style" not in html
        assert "@import" not in html


def test_pages_reference_the_hashed_assets_they_ship_with() -> None:
    files = render_site(snapshot(view("genshin", "GENSHINGIFT")))
    assets = sorted(p for p in files if p.startswith("static/"))
    assert sorted(a.rsplit(".", 1)[1] for a in assets) == ["css", "js", "js"]
    filter_js = next(a for a in assets if a.startswith("static/filter."))
    for path in ("index.html", "sources.html"):
        for asset in assets:
            if asset != filter_js or path == "index.html":
                assert f'"{asset}"' in page(files, path)
    assert filter_js not in page(files, "sources.html")  # nothing to filter there
    for asset in assets:
        assert f'"../{asset}"' in page(files, "genshin/index.html")


def test_copy_button_is_left_to_script_and_the_code_stays_text() -> None:
    files = render_site(snapshot(view("genshin", "GENSHINGIFT")))
    html = page(files, "genshin/index.html")
    assert '<code class="code">GENSHINGIFT</code>' in html
    assert "<button" not in html  # no dead button without JavaScript
    script = next(v for k, v in files.items() if k.endswith(".js")).decode()
    assert "Copied" in script
    assert "aria-label" in script


def test_stylesheet_covers_dark_mode_and_long_codes() -> None:
    files = render_site(snapshot())
    css = next(v for k, v in files.items() if k.endswith(".css")).decode()
    assert "prefers-color-scheme: dark" in css
    assert "word-break: break-all" in css
    assert ".g-genshin{--accent:#e8b64c}" in css


def test_no_file_shows_the_generation_time() -> None:
    code = view("genshin", "GENSHINGIFT", first_seen=NOW - timedelta(3))
    files = render_site(snapshot(replace(code, last_seen=NOW - timedelta(days=1))))
    for path, data in files.items():
        assert b"2025-03-01" not in data, path


def test_indexnow_key_file_is_rendered_when_a_key_is_given() -> None:
    files = render_site(replace(snapshot(), indexnow_key="0123abcd-key"))
    assert files["0123abcd-key.txt"] == b"0123abcd-key"
    assert not any(p.endswith(".txt") and p != "robots.txt" for p in render_site(snapshot()))
    bad = render_site(replace(snapshot(), indexnow_key="../../etc/passwd"))
    assert not any("passwd" in p for p in bad)


def test_site_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="site_url"):
        render_site(replace(snapshot(), site_url="javascript:alert(1)//"))


def test_source_health_page_words_each_state() -> None:
    def health(source_id: str, **changes: Any) -> SourceHealth:
        base = SourceHealth(
            id=source_id,
            game="hsr",
            kind="fandom",
            url="https://honkai-star-rail.fandom.com/api.php?action=query",
            last_attempt=NOW,
            last_success=NOW - timedelta(minutes=7),
            last_error=None,
            consecutive_failures=0,
            last_count=12,
            probably_broken=False,
        )
        return replace(base, **changes)

    sources = (
        health("a-working", last_error="timed out two days ago"),
        health("b-failing", consecutive_failures=2, last_error="HTTP 503"),
        health("c-new", last_success=None, last_attempt=None, last_count=None),
    )
    html = page(render_site(snapshot(sources=sources)), "sources.html")
    assert "Working" in html
    assert "Failing" in html
    assert "Not read yet" in html
    assert "HTTP 503" in html
    assert "timed out two days ago" not in html
    assert "honkai-star-rail.fandom.com" in html
    assert "api.php" not in html  # the host is named, the scraping URL is not linked
    # Cut to the hour: the page does not change every cycle a source is read.
    assert (
        '<time class="hour" datetime="2025-03-01T11:00:00Z" title="2025-03-01 11:00:00 UTC">'
        "2025-03-01 11:00 UTC</time>"
    ) in html


def test_a_code_that_needs_percent_encoding_gets_the_games_own_link() -> None:
    genshin = next(g for g in GAMES if g.id == "genshin")
    odd = "GIFT/2025+&X"
    files = render_site(snapshot(view("genshin", odd), view("genshin", "PLAIN-CODE_1.0~")))
    html = page(files, "genshin/index.html")
    for code in (odd, "PLAIN-CODE_1.0~"):
        link = genshin.redeem_link(code)
        assert link is not None
        assert f'href="{link}"' in html
    assert "GIFT%2F2025%2B%26X" in html


# Printable text with spaces, and whitespace and characters XML cannot carry to mix in.
PLAIN = " ab×…"
TRICKY = "\t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000\x00\x7f\ufffe\ud800\u200d"


@settings(max_examples=400, deadline=None)
@given(
    text=st.text(st.sampled_from(PLAIN), max_size=12)
    | st.text(st.sampled_from(PLAIN) | st.sampled_from(TRICKY), max_size=12)
    | st.text(max_size=30),
    limit=st.integers(min_value=1, max_value=14),
)
def test_clean_text_shortcut_gives_what_the_full_cleaning_gives(text: str, limit: int) -> None:
    assert clean_text(text, limit) == _clean_fully(text, limit)
