"""SQLite write transactions of one process queue in the process: each begins as the one
before it ends, instead of sleeping in SQLite's busy handler (engine/db/sqlite_writers.py).
Here SQLite is told not to wait at all, so a writer that reached SQLite while another
held its lock would fail at once."""

from __future__ import annotations

import threading
import time

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.db.sqlite_writers import writers_of
from picycle.engine.services import users
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def impatient(engine):
    """The engine's SQLite connections give up at once on a lock another holds."""
    database = engine.database
    database.dispose()
    event.listen(database, "connect", lambda dbapi, _: dbapi.execute("PRAGMA busy_timeout = 0"))
    with database.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE scratch (n INTEGER)")
    return engine


def test_a_writer_waits_in_the_process_for_the_one_before_it(impatient):
    writer = impatient.database.execution_options(picycle_write=True)
    outcome = {}

    def second() -> None:
        try:
            with writer.begin() as connection:
                connection.exec_driver_sql("INSERT INTO scratch VALUES (2)")
            outcome["second"] = "written"
        except OperationalError as error:
            outcome["second"] = str(error.orig)

    waiting = threading.Thread(target=second)
    with writer.begin() as first:
        first.exec_driver_sql("INSERT INTO scratch VALUES (1)")
        waiting.start()
        time.sleep(0.2)  # long enough for the second to reach its BEGIN
        assert "second" not in outcome  # it waits
    waiting.join(timeout=10)
    assert outcome == {"second": "written"}
    assert writers_of(impatient.database).free


def test_eight_request_threads_writing_at_once_all_get_through(impatient):
    failures = []

    def add(name: str) -> None:
        try:
            with impatient.unit_of_work() as uow:
                users.add_user(uow, SYSTEM, name, "member", [])
        except Exception as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=add, args=(f"user{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    with impatient.unit_of_work(write=False) as uow:
        assert {u.name for u in users.list_users(uow, SYSTEM)} >= {f"user{n}" for n in range(8)}
    assert writers_of(impatient.database).free


def test_a_write_that_fails_or_is_left_frees_the_queue(impatient):
    writer = impatient.database.execution_options(picycle_write=True)
    queue = writers_of(impatient.database)
    with pytest.raises(OperationalError), writer.begin() as connection:
        connection.exec_driver_sql("INSERT INTO scratch VALUES (1)")
        connection.exec_driver_sql("INSERT INTO no_such_table VALUES (1)")  # rolled back
    assert queue.free
    with impatient.unit_of_work() as uow:  # left without a commit
        uow.session.execute(text("INSERT INTO scratch VALUES (2)"))
        assert not queue.free
    assert queue.free
    connection = writer.connect()
    connection.begin()
    connection.exec_driver_sql("INSERT INTO scratch VALUES (2)")
    connection.invalidate()  # the connection is dropped mid-transaction
    assert queue.free
    connection.close()
