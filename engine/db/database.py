"""Opening the database and bringing its schema up to date."""

from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from ..errors import Unavailable
from .sqlite_writers import queue_writers

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
WRITE = {"picycle_write": True}
# A reading transaction on PostgreSQL is READ ONLY: a write in it fails instead of being
# rolled back unseen, so it can end with COMMIT, which, unlike ROLLBACK, keeps the
# connection's prepared statements (psycopg forgets them all at a rollback).
READ = {"postgresql_readonly": True}
# Seconds a write transaction on SQLite waits for the one ahead before giving up.
SQLITE_LOCK_TIMEOUT = 30.0


def open_database(url: str) -> Engine:
    """An SQLAlchemy engine; SQLite gets WAL and write transactions that lock up front."""
    if make_url(url).get_backend_name() == "sqlite":
        return _open_sqlite(url)
    # Named in pg_stat_activity, so an operator tells picycle's connections apart.
    named = {} if "application_name" in make_url(url).query else {"application_name": "picycle"}
    # Ten kept open: a web process's eight request threads never wait for a connection
    # nor open and close one per request; five more at peaks.
    engine = create_engine(url, pool_size=10, max_overflow=5, connect_args=named)
    event.listen(engine, "checkout", partial(_refuse_closed, engine.dialect))
    return engine


def _refuse_closed(dialect, dbapi_connection, _record, _proxy) -> None:
    """A pooled connection the server ended (a restart, an idle timeout, an operator) is
    replaced before it is used. An idle connection has nothing to read unless the server
    wrote to say it is ending it, so the socket is asked first, which, unlike a ping, costs
    no round trip; only a connection with something to read is pinged."""
    readable = select.poll()
    readable.register(dbapi_connection.fileno(), select.POLLIN)
    if not readable.poll(0):
        return
    try:
        dialect.do_ping(dbapi_connection)
    except dialect.loaded_dbapi.Error as error:
        raise DisconnectionError(f"the server closed the connection: {error}") from error


def _open_sqlite(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": SQLITE_LOCK_TIMEOUT})
    writers = queue_writers(engine, SQLITE_LOCK_TIMEOUT)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" hook below issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Builds that zero every freed page (Debian's) would write a cycle's whole former
        # state again at each change, as zeros; FAST zeroes only what is written anyway.
        cursor.execute("PRAGMA secure_delete=FAST")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        # A write transaction takes the write lock at BEGIN, so two writers queue instead of
        # one failing with "database is locked" when it upgrades its read lock.
        if not connection.get_execution_options().get("picycle_write"):
            connection.exec_driver_sql("BEGIN")
            return
        writers.enter(connection.info)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writers.leave(connection.info)
            raise

    return engine


@contextmanager
def reaching_database() -> Iterator[None]:
    """Unavailable instead of the driver's error when the database cannot be reached or
    drops the connection (a restart, a network fault)."""
    try:
        yield
    except (OperationalError, InterfaceError) as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise Unavailable(f"the database cannot be reached: {reason}") from error


# Alembic is imported where a migration is read or run: it takes a tenth of a second to
# load, which every command line call and worker start would otherwise wait for.


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade_schema(engine: Engine) -> None:
    """Apply every migration not yet applied (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


@cache
def head_revision() -> str:
    """The newest migration this code ships."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def schema_revision(engine: Engine) -> str | None:
    """The migration the database's schema is at; None for an empty database. (Read
    directly: Alembic's own reader logs a line each time, and health checks come often.)"""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.scalar(text("SELECT version_num FROM alembic_version"))
