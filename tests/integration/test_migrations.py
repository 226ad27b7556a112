"""Migrations upgrade and downgrade cleanly, and the models match what they create."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
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


def _round_trip(url: str) -> None:
    database.upgrade(url)
    tables, differences = asyncio.run(_inspect(url))
    assert tables == TABLES
    assert differences == []
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
