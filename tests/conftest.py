"""Fixtures shared by unit, integration and BDD tests.

Engine-level tests run once on SQLite and once on PostgreSQL. Locally, the PostgreSQL runs
are skipped with the reason when no server answers; under CI (CI=true) that is a failure.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.clock import FixedClock
from picycle.engine.db.database import upgrade_schema
from picycle.engine.db.models import Base
from picycle.engine.services import definitions
from picycle.engine.uow import Engine
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from tests.support import Driver

POSTGRES_URL = os.environ.get(
    "PICYCLE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A migrated database of this run's own on the PostgreSQL server, dropped at the end,
    so concurrent runs on one server do not disturb each other."""
    server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"picycle_test_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        server.dispose()
        reason = f"PostgreSQL is not reachable at {POSTGRES_URL}: {error.orig}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    database = create_engine(url)
    upgrade_schema(database)
    database.dispose()
    yield url
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    server.dispose()


def _empty_postgres(url: str) -> None:
    database = create_engine(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with database.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        # Tamper tests switch the append-only guard off; every test starts with it on.
        connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
    database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'picycle.db'}"
    url = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


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
        uow.commit()
    yield instance
    instance.dispose()


@pytest.fixture
def driver(engine, database_url, clock) -> Driver:
    """People in place; every ``restart()`` builds a new engine on the same database."""
    made = Driver(lambda: Engine(database_url, clock))
    made.add_people()
    yield made
    made.engine.dispose()
