"""The databases the fixtures give each test: copies of templates built once per run must
hold what migrating and deploying would, and on PostgreSQL nothing of one test's may be
left for the next."""

from __future__ import annotations

import pytest
from picycle.engine import Engine
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.db.models import Base, User
from picycle.engine.services import definitions, users
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError


def rows(engine: Engine) -> dict[str, list[tuple]]:
    """Every table's rows; the directory's token, random from its migration on, as there
    or not."""
    with engine.database.connect() as connection:
        found = {
            table.name: list(connection.execute(select(table).order_by(*table.primary_key)))
            for table in Base.metadata.sorted_tables
        }
    found["directory_version"] = [
        (id, token is not None) for id, token in found["directory_version"]
    ]
    return found


@pytest.mark.parametrize(
    ("database_url", "blank_database_url"),
    [("sqlite", "sqlite"), ("postgresql", "postgresql")],
    indirect=True,
)
def test_a_tests_database_holds_what_migrating_and_deploying_make(
    engine, blank_database_url, clock
):
    made = Engine(blank_database_url, clock)
    made.upgrade_schema()
    with made.unit_of_work() as uow:
        definitions.deploy(uow, SYSTEM, read_bundle(shipped_processes()))
    try:
        assert rows(engine) == rows(made)
        assert rows(engine)["process_definitions"]
    finally:
        made.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_next_test_finds_none_of_the_rows_and_every_guard_on(engine, postgres_snapshots, clock):
    before = rows(engine)

    def add_user() -> int:
        with engine.unit_of_work() as uow:
            users.add_user(uow, SYSTEM, "pia", "member", ["PI Unit"])
        with engine.database.connect() as connection:
            return connection.scalar(select(User.id))

    first_id = add_user()
    with engine.database.begin() as connection:
        connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    engine.dispose()
    postgres_snapshots.reset(clock)
    assert rows(engine) == before
    assert add_user() == first_id  # the sequences start again where the template left them
    with pytest.raises(DatabaseError, match="append-only"), engine.database.begin() as connection:
        connection.execute(text("DELETE FROM audit_events"))
