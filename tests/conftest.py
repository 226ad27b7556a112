"""Shared test set-up: no internet, real databases (SQLite and PostgreSQL), recorded pages."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.store import database
from bot.store.models import Base
from tests.recorded import IN_CI, require_shared

POSTGRES_ADMIN_URL = os.environ.get(
    "CODECAST_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test marked `recorded` needs ../shared: skipped without it, failed when CI=true."""
    if item.get_closest_marker("recorded") is not None:
        require_shared()


# --- no internet -------------------------------------------------------------------------

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _is_local(address: Any) -> bool:
    if isinstance(address, str | bytes):  # a unix socket path
        return True
    host = address[0]
    if host in ("localhost", "127.0.0.1", "::1"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        # The other spellings of an IPv4 address the resolver takes: 127.1, 2130706433.
        return ipaddress.ip_address(socket.inet_aton(host)).is_loopback
    except (OSError, TypeError, ValueError):
        return False


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if not _is_local(address):
        raise ConnectionRefusedError(f"tests may not reach the internet: {address!r}")
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if not _is_local(address):
        raise ConnectionRefusedError(f"tests may not reach the internet: {address!r}")
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and not _is_local((name, 0)):
        raise socket.gaierror(f"tests may not resolve internet hosts: {name!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to reach a host other than this machine."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)


# --- databases ---------------------------------------------------------------------------


async def _postgres_reachable() -> str | None:
    engine = database.create_engine(POSTGRES_ADMIN_URL, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        await engine.dispose()


async def postgres_admin(sql: str, admin_url: str = POSTGRES_ADMIN_URL) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE) on the admin database
    (the test server's unless another is named)."""
    engine = database.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, migrated to head; dropped afterwards."""
    error = asyncio.run(_postgres_reachable())
    if error is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required when CI=true and is unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    name = f"codecast_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]

    asyncio.run(postgres_admin(f'CREATE DATABASE "{name}"'))
    url = f"{base}/{name}"
    try:
        database.upgrade(url)
        yield url
    finally:
        asyncio.run(postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (migrating once is faster)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    database.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A migrated, empty database: a copied SQLite file, or the run's PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "codecast.db"
        path.write_bytes(sqlite_template.read_bytes())
        yield f"sqlite+aiosqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    asyncio.run(_truncate(url))


async def _truncate(url: str) -> None:
    engine = database.create_engine(url)
    try:
        async with engine.begin() as connection:
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "codecast.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = database.create_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return database.session_factory(engine)


class FakeClock:
    """A clock tests move by hand; starts at a fixed UTC time."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        from datetime import timedelta

        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
