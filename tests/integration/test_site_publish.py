"""SitePublisher on a real SQLite database: reward icons fetched once and shown; health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.catalog import load_catalog
from bot.site.publish import SitePublisher
from bot.store import database
from bot.store.models import CodeRow, CodeSourceRow, SourceRow
from tests.recorded import LOCAL_FIXTURES

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
ICON = "https://cdn.example.net/primogem.png"
BROKEN = "https://cdn.example.net/broken.png"


@pytest.fixture
async def sessions(sqlite_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = database.create_engine(sqlite_url)
    factory = database.session_factory(engine)
    async with factory.begin() as session:
        session.add(
            SourceRow(
                id="hoyolab-genshin",
                game="genshin",
                kind="hoyolab",
                url="https://bbs-api-os.hoyolab.example/material",
                last_attempt=NOW,
                last_success=NOW - timedelta(days=2),
                last_error="rejected: HTTP 404",
                consecutive_failures=7,
                probably_broken=True,
            )
        )
        row = CodeRow(
            game="genshin",
            code="LIVESTREAM1",
            code_key="LIVESTREAM1",
            rewards="",
            items=[
                {"name": "", "amount": 100, "icon_url": ICON},
                {"name": "", "amount": 5, "icon_url": BROKEN},
            ],
            status="active",
            first_seen=NOW - timedelta(hours=1),
            last_seen=NOW,
            expires_at=NOW + timedelta(days=2),
            expired_at=None,
            announced_at=NOW - timedelta(hours=1),
        )
        session.add(row)
        await session.flush()
        session.add(
            CodeSourceRow(
                code_id=row.id,
                source_id="hoyolab-genshin",
                status="active",
                first_seen=NOW,
                last_seen=NOW,
            )
        )
    yield factory
    await engine.dispose()


async def test_publishing_fetches_each_icon_once_and_shows_it(
    tmp_path: Path, sessions: async_sessionmaker[AsyncSession]
) -> None:
    requests: list[str] = []

    def cdn(request: httpx.Request) -> httpx.Response:
        requests.append(str(request.url))
        if str(request.url) == ICON:
            return httpx.Response(200, content=(LOCAL_FIXTURES / "icons" / "gem.png").read_bytes())
        return httpx.Response(200, content=(LOCAL_FIXTURES / "icons" / "corrupt.png").read_bytes())

    site = tmp_path / "public"
    async with httpx.AsyncClient(transport=httpx.MockTransport(cdn)) as http:
        publisher = SitePublisher(
            catalog=load_catalog(),
            sessions=sessions,
            site_dir=site,
            site_url="https://codes.example.org/",
            clock=lambda: NOW,
            http=http,
        )
        first = await publisher.publish()
        second = await publisher.publish()
    assert sorted(requests) == sorted([ICON, BROKEN])
    assert "genshin/index.html" in first.written
    assert second.written == ()  # nothing new: not one file rewritten

    page = (site / "genshin" / "index.html").read_text(encoding="utf-8")
    card = page[page.index('id="code-LIVESTREAM1"') :]
    card = card[: card.index("</li>")]
    # The icon that converted is shown with its amount; the corrupt one falls back to text.
    assert card.count("<picture>") == 1
    assert 'alt="Reward"' in card
    assert "</picture>\u00d7100" in card
    assert "Reward \u00d75" in card
    stored = sorted(p.name for p in (site / "icons").iterdir() if not p.name.startswith("."))
    assert sorted(name.rsplit(".", 1)[1] for name in stored) == ["png", "webp"]
    assert all(f"../icons/{name}" in card for name in stored)

    health = (site / "sources.html").read_text(encoding="utf-8")
    assert "Probably broken" in health
    assert "The page is gone (HTTP 404): it has probably moved." in health
