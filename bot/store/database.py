"""Engine, sessions and migrations: how codecast reaches its database."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

# The newest migration in alembic/versions (a test keeps the two equal). A database already
# at this revision needs no migration, and the daemon then never imports Alembic (~12 MB).
SCHEMA_REVISION = "0010"

# A pooled PostgreSQL connection back in use within this many seconds of its last use is not
# pinged first. A delivery worker checks one out for every claim and every write of outcomes,
# dozens a second, and a ping costs three round trips (BEGIN, a query, ROLLBACK): more than
# the work itself. A restart of PostgreSQL finds connections idle, which are pinged as before.
PING_IDLE_AFTER_SECONDS = 1.0

# The top-level alembic/ folder of the checkout, installed as this package (pyproject.toml).
MIGRATIONS_PACKAGE = "codecast_migrations"


def migrations_dir() -> Path:
    """The folder of Alembic's env.py and versions/, wherever codecast is installed.

    It is a namespace package (an alembic/__init__.py would shadow the Alembic library in a
    checkout), so its folder is read from the import spec: importlib.resources cannot open one
    under an editable install on Python 3.11, whose path holds a placeholder beside it.
    """
    spec = importlib.util.find_spec(MIGRATIONS_PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(location)
        if (folder / "env.py").is_file():
            return folder
    raise RuntimeError(f"codecast is installed without its migrations ({MIGRATIONS_PACKAGE})")


class DatabaseNotReady(Exception):
    """The database cannot be used as it is: missing, unreachable or not at this schema.

    The message is one line for a person: which database (never its password) and what to run.
    """


def shown(url: str) -> str:
    """A database URL as codecast prints it: with the password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def _reason(exc: BaseException) -> str:
    """The first line of what went wrong; for a driver's error, the driver's own words."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        lines = str(exc.orig).strip().splitlines()
        if lines:
            return lines[0]
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def create_engine(url: str, **overrides: Any) -> AsyncEngine:
    """An async engine with settings fit for a long-running daemon on either backend.

    It creates no folder: only migrating (`upgrade`, `ensure_schema`) may create a database.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # Prepared statements kept per connection (128 by default): an IN list of another
        # length is another statement, so the cache fills with one-offs that stay in memory.
        connect_args = {"timeout": 30, "cached_statements": 32}
        engine = create_async_engine(url, connect_args=connect_args, **overrides)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    options: dict[str, Any] = {
        "pool_size": 10,
        "max_overflow": 10,
        "pool_recycle": 1800,
    }
    options.update(overrides)
    engine = create_async_engine(url, **options)
    if not options.get("pool_pre_ping"):
        # A dropped connection (PostgreSQL restart) is noticed before use, not mid-query.
        _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """`pool_pre_ping` for connections idle `PING_IDLE_AFTER_SECONDS` or more, the others
    used at once: a failed ping (DisconnectionError) makes the pool connect afresh."""
    dialect = engine.dialect

    def connected(dbapi_connection: Any, record: Any) -> None:
        record.info["codecast_used_at"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        used_at = record.info.get("codecast_used_at", 0.0)
        if time.monotonic() - used_at >= PING_IDLE_AFTER_SECONDS:
            try:
                dialect.do_ping(dbapi_connection)
            except Exception as exc:
                if isinstance(exc, dialect.loaded_dbapi.Error) and dialect.is_disconnect(
                    exc, dbapi_connection, None
                ):
                    raise DisconnectionError(str(exc)) from exc
                raise

    def checkin(dbapi_connection: Any, record: Any) -> None:
        record.info["codecast_used_at"] = time.monotonic()

    event.listen(engine.sync_engine, "connect", connected)
    event.listen(engine.sync_engine, "checkout", checkout)
    event.listen(engine.sync_engine, "checkin", checkin)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the site renderer read while a cycle writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # SQLite's own page cache, per connection (2 MB by default): filled as the database
    # grows, it stays with the pooled connection for the life of the process. The
    # operating system caches the file anyway; 512 KiB each keeps the daemon's memory from
    # creeping up with the size of the outbox.
    cursor.execute("PRAGMA cache_size=-512")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    # ConfigParser interpolation would eat the % of URL-encoded passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database to `revision`, creating a SQLite file (and its folder) if missing.

    Blocking: call it before the loop or in a thread. Raises DatabaseNotReady when the
    database cannot be reached or migrated.
    """
    from alembic import command

    file = sqlite_file(url)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
    log.info("migrating database to %s", revision)
    try:
        command.upgrade(alembic_config(url), revision)
    except (OSError, DBAPIError) as exc:
        log.debug("migration failed", exc_info=True)
        raise DatabaseNotReady(
            f"cannot migrate the database {shown(url)}: {_reason(exc)}"
        ) from exc


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    try:
        command.downgrade(alembic_config(url), revision)
    except (OSError, DBAPIError) as exc:
        log.debug("migration failed", exc_info=True)
        raise DatabaseNotReady(
            f"cannot migrate the database {shown(url)}: {_reason(exc)}"
        ) from exc


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None for a database never migrated."""
    try:
        async with engine.connect() as connection:
            revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    except DBAPIError:
        return None
    return None if revision is None else str(revision)


async def check_schema(url: str) -> str | None:
    """The revision of an existing, reachable database; None if it was never migrated.

    Creates nothing: a missing SQLite file is reported (DatabaseNotReady), not made, and so is
    a database that cannot be reached.
    """
    file = sqlite_file(url)
    if file is not None and not file.is_file():
        raise DatabaseNotReady(
            f"no database at {shown(url)}: run `codecast db upgrade` to create it"
        )
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return await schema_revision(engine)
    except OSError as exc:
        raise DatabaseNotReady(f"cannot reach the database {shown(url)}: {_reason(exc)}") from exc
    except DBAPIError as exc:
        raise DatabaseNotReady(f"cannot use the database {shown(url)}: {_reason(exc)}") from exc
    finally:
        await engine.dispose()


async def require_schema(url: str) -> None:
    """Raise DatabaseNotReady unless the database exists at this codecast's schema."""
    revision = await check_schema(url)
    if revision is None:
        raise DatabaseNotReady(
            f"the database {shown(url)} is not migrated: run `codecast db upgrade`"
        )
    if revision != SCHEMA_REVISION:
        raise DatabaseNotReady(
            f"the database {shown(url)} is at schema {revision}, this codecast's is "
            f"{SCHEMA_REVISION}: run `codecast db upgrade`"
        )


async def ensure_schema(url: str) -> None:
    """Migrate to the newest revision unless the database is there already."""
    file = sqlite_file(url)
    if file is not None:
        # Connecting creates the file; the folder must be there first.
        file.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    try:
        current = await schema_revision(engine)
    except OSError as exc:
        raise DatabaseNotReady(f"cannot reach the database {shown(url)}: {_reason(exc)}") from exc
    finally:
        await engine.dispose()
    if current != SCHEMA_REVISION:
        # Alembic's env runs its own event loop, so it gets a thread of its own.
        await asyncio.to_thread(upgrade, url)
