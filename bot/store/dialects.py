"""The statements and types that only one database has, imported when a session first needs them.

`from sqlalchemy.dialects import postgresql` at the top of a module loads PostgreSQL's whole
dialect (its catalog, its types, every driver's dialect class: about 2 MB) into a daemon that
runs on SQLite and never uses it, and SQLite's into one on PostgreSQL. Here each is imported
the first time a session of that database asks for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert


def is_postgresql(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


def upsert(session: AsyncSession, table: Any) -> PostgresInsert | SqliteInsert:
    """`INSERT` with `ON CONFLICT` clauses, in the session's database's own construct."""
    if is_postgresql(session):
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


def array_of(item: TypeEngine[Any]) -> TypeEngine[Any]:
    """PostgreSQL's array of `item` (for statements that only PostgreSQL runs)."""
    from sqlalchemy.dialects import postgresql

    return postgresql.ARRAY(item)
