"""Fixtures shared by unit, integration and BDD tests.

Engine-level tests run once on SQLite and once on PostgreSQL. Locally, the PostgreSQL runs
are skipped with the reason when no server answers; under CI (CI=true) that is a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from picycle.engine import Engine
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.clock import FixedClock
from picycle.engine.db.database import upgrade_schema
from picycle.engine.db.models import Base
from picycle.engine.services import definitions
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from tests.support import Driver

POSTGRES_URL = os.environ.get(
    "PICYCLE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class PostgresServer:
    """Databases of this run's own on the PostgreSQL server: created empty or as copies of
    another (``TEMPLATE``), dropped when the run ends."""

    def __init__(self, url: str):
        self._server = create_engine(url, isolation_level="AUTOCOMMIT")
        self._prefix = f"picycle_test_{os.getpid()}_{secrets.token_hex(4)}"
        self._made: list[str] = []

    def create(self, template: str | None = None, name: str | None = None) -> str:
        """A new database (a copy of ``template``, which nobody may be connected to); its
        URL."""
        name = name or f"{self._prefix}_{len(self._made)}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with self._server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        if name not in self._made:
            self._made.append(name)
        return self.url_of(name)

    def drop(self, name: str) -> None:
        """Drop the database, disconnecting whoever is still connected to it."""
        with self._server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def answers(self) -> None:
        """OperationalError when the server does not answer."""
        with self._server.connect() as connection:
            connection.execute(text("SELECT 1"))

    def url_of(self, name: str) -> str:
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def close(self) -> None:
        for name in self._made:
            self.drop(name)
        self._server.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The PostgreSQL server, or the test skipped with the reason when no server answers
    (under CI, CI=true, that is a failure)."""
    server = PostgresServer(POSTGRES_URL)
    try:
        server.answers()
    except OperationalError as error:
        server.close()
        reason = f"PostgreSQL is not reachable at {POSTGRES_URL}: {error.orig}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    yield server
    server.close()


@pytest.fixture(scope="session")
def postgres_url(postgres_server) -> str:
    """A migrated database of this run's own on the PostgreSQL server, dropped at the end,
    so concurrent runs on one server do not disturb each other."""
    url = postgres_server.create()
    database = create_engine(url)
    upgrade_schema(database)
    database.dispose()
    return url


def _empty_postgres(url: str) -> None:
    database = create_engine(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    guarded = ("audit_events", "audit_chains", "cycles")
    with database.begin() as connection:
        # The trail's guards refuse TRUNCATE; tamper tests switch them off. Every test
        # starts with an empty database and the guards on.
        for table in guarded:
            connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        for table in guarded:
            connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'picycle.db'}"
    url = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_database_url(request, tmp_path) -> Iterator[str]:
    """A database with no tables at all, of this test's own (for migrations and for
    restoring a database from a copy)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create()
    yield url
    server.drop(make_url(url).database)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def engine(database_url, clock):
    """An engine on a fresh database with the shipped processes deployed."""
    instance = Engine(database_url, clock)
    instance.upgrade_schema()
    with instance.unit_of_work() as uow:
        definitions.deploy(uow, SYSTEM, read_bundle(shipped_processes()))
    yield instance
    instance.dispose()


@pytest.fixture
def driver(engine, database_url, clock) -> Driver:
    """People in place; every ``restart()`` builds a new engine on the same database."""
    made = Driver(lambda: Engine(database_url, clock))
    made.add_people()
    yield made
    made.engine.dispose()
