"""The site and players' reports: the sources page counts them; a reported code says so."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.catalog import load_catalog
from bot.core.domain import PLAYERS, CodeStatus, CodeView
from bot.core.submission import ReportCounts
from bot.site.render import SiteSnapshot, render_site

CATALOG = load_catalog()
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def snapshot(reports: ReportCounts | None) -> SiteSnapshot:
    code = CodeView(
        game="genshin",
        code="PLAYERGIFT1",
        status=CodeStatus.ACTIVE,
        rewards="60 Primogems",
        items=(),
        first_seen=NOW,
        last_seen=NOW,
        expires_at=None,
        sources=(PLAYERS.id,),
        credit="Pat",
    )
    return SiteSnapshot(
        games=tuple(CATALOG.games.values()),
        codes=(code,),
        sources=(),
        generated_at=NOW,
        site_url="https://codes.example/",
        source_names={PLAYERS.id: PLAYERS.label},
        reports=reports,
    )


def test_sources_page_counts_reports_and_a_reported_code_names_players_as_its_source() -> None:
    files = render_site(snapshot(ReportCounts(accepted=3, rejected=2, waiting=1)))
    sources = files["sources.html"].decode()
    assert '<section id="src-players">' in sources
    assert "<dt>Accepted</dt><dd>3</dd>" in sources
    assert "<dt>Rejected</dt><dd>2</dd>" in sources
    page = files["genshin/index.html"].decode()
    assert 'href="../sources.html#src-players">reported by players</a>' in page
    assert "listed by <a" not in page.split('id="code-')[1]  # a code only players reported
    # A credited name is for announcements only, never the site.
    assert "Pat" not in page


def test_without_reports_the_sources_page_has_no_players_section() -> None:
    assert "src-players" not in render_site(snapshot(None))["sources.html"].decode()
