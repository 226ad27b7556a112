"""PostgreSQL's connection pool: idle connections are checked before use, busy ones are not."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, text

from bot.store import database
from bot.store.database import PING_IDLE_AFTER_SECONDS
from tests.conftest import postgres_admin

pytestmark = pytest.mark.postgres


async def test_an_idle_connection_a_restart_dropped_is_replaced_unseen(postgres_url: str) -> None:
    engine = database.create_engine(postgres_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            before = await connection.scalar(text("SELECT pg_backend_pid()"))
        # PostgreSQL restarting ends the pooled connection's backend while it waits.
        await postgres_admin(f"SELECT pg_terminate_backend({before})")
        await asyncio.sleep(PING_IDLE_AFTER_SECONDS + 0.2)
        async with engine.connect() as connection:
            after = await connection.scalar(text("SELECT pg_backend_pid()"))
        assert after != before
    finally:
        await engine.dispose()


async def test_a_connection_in_steady_use_is_not_pinged_before_each_use(
    postgres_url: str,
) -> None:
    engine = database.create_engine(postgres_url, pool_size=1, max_overflow=0)
    queries: list[str] = []

    def log_queries(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(lambda q: queries.append(q.query))

    event.listen(engine.sync_engine, "connect", log_queries)
    try:
        for _ in range(20):
            async with engine.begin() as connection:
                await connection.execute(text("SELECT 1"))
        await asyncio.sleep(PING_IDLE_AFTER_SECONDS + 0.2)
        async with engine.begin() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    # asyncpg's ping is the empty statement ";" (between BEGIN and ROLLBACK): only the use
    # after a second of rest was preceded by one.
    assert queries.count(";") == 1
    assert queries.count("COMMIT;") == 21
