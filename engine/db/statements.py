"""Statements whose SQL differs between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def upsert(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows``, or overwrite the ones whose primary key exists, in one statement."""
    if rows:
        connection = session.connection()
        connection.execute(_upsert_statement(connection.dialect.name, table, tuple(rows[0])), rows)


@cache  # built once per table and set of columns; the hot path only binds values
def _upsert_statement(dialect: str, table: Table, columns: tuple[str, ...]):
    statement = _INSERTS[dialect](table)
    keys = [column.name for column in table.primary_key]
    changed = {name: statement.excluded[name] for name in columns if name not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=changed)


def advance(session: Session, table: Table, key: tuple[Any, ...], moment: Any) -> bool:
    """Move the ``moment`` of the row of ``table`` whose primary key is ``key`` on to
    ``moment``, inserting the row when there is none; False when it already was there or
    later. Of transactions advancing one row at once, one wins: on PostgreSQL the others
    wait for it and then find the row moved; on SQLite they run one after another."""
    dialect = session.get_bind().dialect.name
    keys = [column.name for column in table.primary_key]
    statement = _INSERTS[dialect](table).values(**dict(zip(keys, key, strict=True)), moment=moment)
    statement = statement.on_conflict_do_update(
        index_elements=keys,
        set_={"moment": statement.excluded.moment},
        where=table.c.moment < statement.excluded.moment,
    )
    # RETURNING, not rowcount: psycopg does not count an upsert's rows.
    return session.execute(statement.returning(table.c.moment)).first() is not None


def insert_new(session: Session, table: Table, row: dict[str, Any]) -> None:
    """Insert ``row`` unless a row with its primary key exists (then nothing changes)."""
    statement = _INSERTS[session.get_bind().dialect.name](table)
    session.execute(statement.on_conflict_do_nothing(), [row])
