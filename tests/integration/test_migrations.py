"""Migrations upgrade and downgrade cleanly, and the models match what they create."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from bot.store import database
from bot.store.models import Base
from tests.conftest import POSTGRES_ADMIN_URL, postgres_admin

TABLES = {
    "codes",
    "sources",
    "code_sources",
    "subscriptions",
    "chat_languages",
    "announcements",
    "announcement_codes",
    "deliveries",
    "verify_accounts",
    "verify_families",
    "targets",
    "boards",
    "submissions",
    "reporters",
    "moderation_posts",
    "paid_spend",
}


async def _inspect(url: str) -> tuple[set[str], list[Any]]:
    engine = database.create_engine(url)

    def look(connection: Connection) -> tuple[set[str], list[Any]]:
        tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return tables, compare_metadata(context, Base.metadata)

    try:
        async with engine.connect() as connection:
            return await connection.run_sync(look)
    finally:
        await engine.dispose()


def _pending_index(url: str) -> str:
    """The definition of the outbox's index of pending rows, as the database keeps it."""
    if url.startswith("sqlite"):
        sql = "SELECT sql FROM sqlite_master WHERE name = 'ix_deliveries_pending'"
    else:
        sql = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_deliveries_pending'"
    [(definition,)] = asyncio.run(_rows(url, sql))
    return str(definition)


def _round_trip(url: str) -> None:
    database.upgrade(url)
    tables, differences = asyncio.run(_inspect(url))
    assert tables == TABLES
    assert differences == []
    # Partial, which autogenerate does not compare (the model leaves it to the migration).
    definition = _pending_index(url)
    assert "platform" in definition
    assert "WHERE" in definition.upper()
    assert "'pending'" in definition
    database.downgrade(url, "base")
    tables, _ = asyncio.run(_inspect(url))
    assert tables == set()
    database.upgrade(url)
    tables, _ = asyncio.run(_inspect(url))
    assert tables == TABLES


def test_migrations_round_trip_on_sqlite(tmp_path: Path) -> None:
    _round_trip(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_migrations_round_trip_on_postgresql(postgres_url: str) -> None:
    # A database of its own: the shared test database is in use by other tests.
    name = postgres_url.rsplit("/", 1)[1] + "_mig"
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]

    asyncio.run(postgres_admin(f'CREATE DATABASE "{name}"'))
    try:
        _round_trip(f"{base}/{name}")
    finally:
        asyncio.run(postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_the_schema_revision_constant_is_the_newest_migration() -> None:
    from alembic.script import ScriptDirectory

    from bot.store.database import SCHEMA_REVISION, alembic_config, migrations_dir

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert script.get_current_head() == SCHEMA_REVISION
    assert (migrations_dir() / "versions").is_dir()


async def test_ensure_schema_migrates_a_new_database_once(tmp_path: Path) -> None:
    from bot.store.database import SCHEMA_REVISION, create_engine, ensure_schema, schema_revision

    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    await ensure_schema(url)
    engine = create_engine(url)
    try:
        assert await schema_revision(engine) == SCHEMA_REVISION
    finally:
        await engine.dispose()
    await ensure_schema(url)  # already there: nothing to do


async def _rows(url: str, sql: str, params: list[dict[str, Any]] | None = None) -> list[Any]:
    engine = database.create_engine(url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(sql), params)
            return list(result.all()) if result.returns_rows else []
    finally:
        await engine.dispose()


def test_audiences_known_without_asking_are_filled_in(tmp_path: Path) -> None:
    """0010: a Telegram chat with a positive id is a private chat, an audience of one; the
    sizes of groups, channels and servers are learnt at their next /subscribe."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    database.upgrade(url, "0009")
    chats = [("telegram", "4242"), ("telegram", "-1001234"), ("telegram", "-55")]
    chats.append(("discord", "998877"))
    asyncio.run(
        _rows(
            url,
            "INSERT INTO subscriptions (id, platform, chat_id, game, options, active, "
            "created_at, updated_at) VALUES (:id, :platform, :chat_id, 'genshin', '{}', 1, "
            "'2026-12-01', '2026-12-01')",
            [
                {"id": i, "platform": platform, "chat_id": chat}
                for i, (platform, chat) in enumerate(chats, start=1)
            ],
        )
    )
    database.upgrade(url)
    rows = asyncio.run(_rows(url, "SELECT chat_id, audience FROM subscriptions ORDER BY id"))
    assert [tuple(r) for r in rows] == [
        ("4242", 1),
        ("-1001234", None),
        ("-55", None),
        ("998877", None),
    ]
