"""Fixtures shared by unit, integration and BDD tests.

Engine-level tests run once on SQLite and once on PostgreSQL. Locally, the PostgreSQL runs
are skipped with the reason when no server answers; under CI (CI=true) that is a failure.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import sqlite3
from collections.abc import Hashable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from picycle.engine import Engine
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.clock import Clock, FixedClock
from picycle.engine.db.database import upgrade_schema
from picycle.engine.db.models import Base
from picycle.engine.services import definitions
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from tests.mail import SmtpServer
from tests.support import Driver, unavailable

POSTGRES_URL = os.environ.get(
    "PICYCLE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# The fixtures whose "postgresql" parameter runs a test on PostgreSQL.
ON_EITHER_DATABASE = ("database_url", "blank_database_url")


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that runs on PostgreSQL is marked ``postgres``, so ``-m "not postgres"``
    runs the SQLite tests alone."""
    for item in items:
        params = item.callspec.params if hasattr(item, "callspec") else {}
        if any(params.get(name) == "postgresql" for name in ON_EITHER_DATABASE) or {
            "postgres_server",
            "postgres_snapshots",
        } & set(item.fixturenames):
            item.add_marker(pytest.mark.postgres)


class PostgresServer:
    """Databases of this run's own on the PostgreSQL server: created empty or as copies of
    another (``TEMPLATE``), dropped when the run ends."""

    def __init__(self, url: str):
        self._server = create_engine(url, isolation_level="AUTOCOMMIT")
        self._prefix = f"picycle_test_{os.getpid()}_{secrets.token_hex(4)}"
        self._made: list[str] = []
        self._numbers = itertools.count()

    def create(self, template: str | None = None, name: str | None = None) -> str:
        """A new database (a copy of ``template``, which nobody may be connected to); its
        URL."""
        name = name or f"{self._prefix}_{next(self._numbers)}"
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
        if name in self._made:
            self._made.remove(name)

    def answers(self) -> None:
        """OperationalError when the server does not answer."""
        with self._server.connect() as connection:
            connection.execute(text("SELECT 1"))

    def url_of(self, name: str) -> str:
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def close(self) -> None:
        for name in list(self._made):
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
        unavailable(reason)
    yield server
    server.close()


def _settings(clock: Clock | None) -> Hashable:
    """What a template depends on: nothing for a migrated one; for a deployed one, the time
    and the settings an engine reads from the environment (the audit key seals the trail's
    head, the model limits judge the models)."""
    if clock is None:
        return None
    settings = (
        (k, v)
        for k, v in os.environ.items()
        if k.startswith("PICYCLE_") and not k.startswith(EVIDENCE_SETTINGS)
    )
    return clock(), tuple(sorted(settings))


def _deploy_shipped(url: str, clock: Clock) -> None:
    engine = Engine(url, clock)
    with engine.unit_of_work() as uow:
        definitions.deploy(uow, SYSTEM, read_bundle(shipped_processes()))
    engine.dispose()


class SqliteTemplates:
    """Database files built once per run, copied for each test: migrating and deploying
    take far longer than copying a file."""

    def __init__(self, folder: Path):
        self._folder = folder
        self._files: dict[Hashable, Path] = {}

    def copy(self, target: Path, deployed_at: Clock | None = None) -> None:
        """``target`` becomes a migrated database; with the shipped processes deployed at
        ``deployed_at``'s time when given."""
        key = _settings(deployed_at)
        if key not in self._files:
            self._files[key] = self._build(deployed_at)
        shutil.copyfile(self._files[key], target)

    def _build(self, deployed_at: Clock | None) -> Path:
        path = self._folder / f"template_{len(self._files)}.db"
        url = f"sqlite:///{path}"
        engine = Engine(url)
        engine.upgrade_schema()
        engine.dispose()
        if deployed_at is not None:
            _deploy_shipped(url, deployed_at)
        # WAL mode: everything into the main file, the only one copied.
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
        return path


def _restart(sequence: str, last: int | None) -> str:
    """SQL that makes ``sequence`` go on after ``last``; from 1 when it is None."""
    return f"SELECT setval('{sequence}', {last or 1}, {last is not None})"


class PostgresSnapshots:
    """One migrated database for the run, reset for each test to a snapshot of its rows
    kept in a schema of its own. Deleting every row and inserting the snapshot's takes
    milliseconds; TRUNCATE, or CREATE DATABASE from a template, take hundreds."""

    def __init__(self, url: str):
        self.url = url
        self._database = create_engine(url)
        with self._database.connect() as connection:
            self._triggers = self._user_triggers(connection)
        self._tables = tables = [table.name for table in Base.metadata.sorted_tables]
        self._resets: dict[Hashable, str] = {}
        # The trail's guards refuse DELETE; every test starts with them on.
        self._empty = [
            *(f"ALTER TABLE {table} DISABLE TRIGGER USER" for table in tables),
            *(f"DELETE FROM {table}" for table in reversed(tables)),
        ]
        self._guards_on = [f"ALTER TABLE {table} ENABLE TRIGGER USER" for table in tables]
        # The rows the migrations wrote (the global chain's head, the directory's token).
        self._migrated = self._capture("snapshot_migrated")

    def reset(self, deployed_at: Clock | None = None) -> None:
        """The database as just migrated; with the shipped processes deployed at
        ``deployed_at``'s time when given."""
        key = _settings(deployed_at)
        if key not in self._resets:
            self._resets[key] = self._snapshot(deployed_at, f"snapshot_{len(self._resets)}")
        with self._database.begin() as connection:
            connection.exec_driver_sql(self._resets[key])

    def check_schema(self) -> None:
        """Rows are reset, the schema is not: a test that drops a guard needs a database of
        its own (blank_database_url)."""
        with self._database.connect() as connection:
            assert self._user_triggers(connection) == self._triggers, "the test changed the schema"

    def _snapshot(self, deployed_at: Clock | None, schema: str) -> str:
        with self._database.begin() as connection:
            connection.exec_driver_sql(self._migrated)
        if deployed_at is not None:
            _deploy_shipped(self.url, deployed_at)
        return self._capture(schema)

    def _capture(self, schema: str) -> str:
        """Keeps the database's rows in ``schema``; returns the SQL that brings them back."""
        with self._database.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            filled = []
            for table in self._tables:
                if connection.scalar(text(f"SELECT EXISTS (SELECT FROM {table})")):
                    connection.execute(text(f'CREATE TABLE "{schema}".{table} AS TABLE {table}'))
                    filled.append(table)
            sequences = [
                _restart(name, last)
                for name, last in connection.execute(
                    text(
                        "SELECT sequencename, last_value FROM pg_sequences "
                        "WHERE schemaname = current_schema()"
                    )
                )
            ]
        refill = [
            f'INSERT INTO {table} OVERRIDING SYSTEM VALUE SELECT * FROM "{schema}".{table}'
            for table in filled
        ]
        return ";".join([*self._empty, *refill, *sequences, *self._guards_on])

    @staticmethod
    def _user_triggers(connection) -> list[str]:
        return connection.scalars(
            text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1")
        ).all()

    def close(self) -> None:
        self._database.dispose()


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("templates"))


@pytest.fixture(scope="session")
def postgres_snapshots(postgres_server) -> Iterator[PostgresSnapshots]:
    """A migrated database of this run's own on the PostgreSQL server, dropped at the end,
    so concurrent runs on one server do not disturb each other."""
    url = postgres_server.create()
    database = create_engine(url)
    upgrade_schema(database)
    database.dispose()
    snapshots = PostgresSnapshots(url)
    yield snapshots
    snapshots.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, clock) -> Iterator[str]:
    """A migrated database with no rows, for this test alone; for a test that uses the
    ``engine`` fixture, with the shipped processes deployed (from a template built once)."""
    deployed_at = clock if "engine" in request.fixturenames else None
    if request.param == "sqlite":
        path = tmp_path / "picycle.db"
        request.getfixturevalue("sqlite_templates").copy(path, deployed_at)
        yield f"sqlite:///{path}"
        return
    snapshots: PostgresSnapshots = request.getfixturevalue("postgres_snapshots")
    snapshots.reset(deployed_at)
    yield snapshots.url
    snapshots.check_schema()


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


# Where evidence files are kept does not change what a template holds.
EVIDENCE_SETTINGS = "PICYCLE_EVIDENCE_"


@pytest.fixture(scope="session", autouse=True)
def _evidence_kept_aside(tmp_path_factory) -> Iterator[None]:
    """Engines the tests make keep evidence files in this run's folder, never in the
    user's data directory (the evidence tests give each test a store of its own)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PICYCLE_EVIDENCE_DIR", str(tmp_path_factory.mktemp("evidence")))
        yield


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def engine(database_url, clock):
    """An engine on a fresh database with the shipped processes deployed (database_url
    deploys them for a test that uses this fixture)."""
    instance = Engine(database_url, clock)
    yield instance
    instance.dispose()


@pytest.fixture
def driver(engine, database_url, clock) -> Driver:
    """People in place; every ``restart()`` builds a new engine on the same database."""
    made = Driver(lambda: Engine(database_url, clock))
    made.add_people()
    yield made
    made.engine.dispose()


@pytest.fixture
def smtp_server():
    """A local SMTP server on a free port of 127.0.0.1, for the test alone."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
