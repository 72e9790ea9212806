"""A unit of work after its service has committed: a second service in it records only its
own changes, and a cycle written once can be worked on again. A commit that fails writes
nothing; a reading unit of work writes nothing."""

from __future__ import annotations

import time
from collections import Counter
from contextlib import contextmanager
from select import POLLIN, poll

import picycle.engine.uow as uow_module
import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.db.models import Unit
from picycle.engine.services import audit, tasks, users
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from tests.support import INDICATORS


def test_two_services_in_one_unit_of_work_record_each_event_once(driver):
    before = len(driver.events())
    with driver.engine.unit_of_work() as uow:
        users.add_user(uow, SYSTEM, "noor", "member", ["PI Unit"])
        users.add_user(uow, SYSTEM, "sami", "member", ["PI Unit"])
    recorded = [(e.type, e.data["user"]) for e in driver.events()[before:]]
    assert Counter(recorded) == {
        ("user_created", "noor"): 1,
        ("token_issued", "noor"): 1,
        ("user_created", "sami"): 1,
        ("token_issued", "sami"): 1,
    }
    assert audit.verify(driver.engine, SYSTEM).intact


def test_a_cycle_committed_once_is_worked_on_again_in_the_same_unit_of_work(driver):
    cycle_id = driver.start()
    task_id = driver.task(cycle_id, "assess_performance").id
    pia = driver.actor("pia")
    with driver.engine.unit_of_work() as uow:
        tasks.claim_task(uow, pia, task_id)
        done = tasks.complete_task(uow, pia, task_id, {"indicators": INDICATORS})
    assert (done.state, done.completed_by) == ("completed", "pia")
    types = [e.type for e in driver.events(cycle_id)]
    assert types == [
        "cycle_started",
        "task_created",
        "task_claimed",
        "task_completed",
        "task_created",
    ]
    row = driver.row(cycle_id)
    assert row.audit_length == len(types)
    assert audit.verify(driver.engine, SYSTEM).intact
    driver.identify_gaps(cycle_id)  # and the kept cycle is the one the database holds


def test_a_completion_whose_events_cannot_be_written_changes_nothing(driver, monkeypatch):
    cycle_id = driver.start()
    task_id = driver.task(cycle_id, "assess_performance").id
    before = driver.row(cycle_id)
    events_before = len(driver.events())

    def number_onto_a_taken_seq(session, events, drawn):
        real_number(session, events, drawn)
        events[-1].seq = driver.events()[0].seq  # on PostgreSQL refused only at COMMIT

    real_number = uow_module.number
    monkeypatch.setattr(uow_module, "number", number_onto_a_taken_seq)
    with pytest.raises(IntegrityError):
        driver.complete_task("pia", task_id, {"indicators": INDICATORS})
    monkeypatch.setattr(uow_module, "number", real_number)

    after = driver.row(cycle_id)
    assert (after.revision, after.state, after.audit_length) == (
        before.revision,
        before.state,
        before.audit_length,
    )
    assert len(driver.events()) == events_before
    assert driver.task_detail(task_id).state == "open"
    # The cycle goes on from what the database holds, not from the failed attempt.
    done = driver.complete_task("pia", task_id, {"indicators": INDICATORS})
    assert done.state == "completed"
    assert [e.type for e in driver.events(cycle_id)][-2:] == ["task_completed", "task_created"]
    assert audit.verify(driver.engine, SYSTEM).intact


def test_a_reading_unit_of_work_writes_nothing(engine):
    """On PostgreSQL its transaction is READ ONLY, so the write fails there and then; on
    SQLite it is rolled back. Either way no unit named Ghost exists afterwards."""
    try:
        with engine.unit_of_work(write=False) as uow:
            uow.session.execute(
                insert(Unit.__table__).values(name="Ghost", active=True, created_at=uow.now)
            )
    except DBAPIError as error:
        assert engine.database.dialect.name == "postgresql"
        assert "read-only transaction" in str(error)
    with engine.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(Unit.id).where(Unit.name == "Ghost")) is None


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_connection_cut_before_the_commit_loses_the_completion_and_no_more(driver, monkeypatch):
    """On PostgreSQL the writes and the COMMIT go out together: a connection cut between
    them is an error as SQLAlchemy gives it (the request answers 503), the connection is
    replaced, and nothing of the completion was committed."""
    cycle_id = driver.start()
    task_id = driver.task(cycle_id, "assess_performance").id
    real_commit = uow_module.committed_at_end

    @contextmanager
    def cut_before_commit(session):
        backend = session.execute(text("SELECT pg_backend_pid()")).scalar()
        with real_commit(session):
            yield
            with driver.engine.database.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})

    monkeypatch.setattr(uow_module, "committed_at_end", cut_before_commit)
    with pytest.raises(OperationalError) as cut:
        driver.complete_task("pia", task_id, {"indicators": INDICATORS})
    monkeypatch.setattr(uow_module, "committed_at_end", real_commit)
    assert cut.value.connection_invalidated

    assert driver.task_detail(task_id).state == "open"
    assert [e.type for e in driver.events(cycle_id)] == ["cycle_started", "task_created"]
    driver.complete_task("pia", task_id, {"indicators": INDICATORS})
    assert audit.verify(driver.engine, SYSTEM).intact


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_zeroes_freed_pages_only_where_it_writes_anyway(engine):
    """A change rewrites its cycle's whole state; with every freed page zeroed (how
    Debian builds SQLite) the former state would be written again, as zeros, each time."""
    with engine.unit_of_work(write=False) as uow:
        assert uow.session.execute(text("PRAGMA secure_delete")).scalar() == 2  # FAST


def end_pooled_connections(engine) -> int:
    """End, from the server's side, every connection the engine keeps (as a restart
    would), and wait until they are gone; returns how many there were."""
    with engine.database.connect() as own:
        mine = own.execute(text("SELECT pg_backend_pid()")).scalar()
    # Named otherwise, so it is not one of those it ends.
    outside = create_engine(engine.url, connect_args={"application_name": "test"})
    try:
        with outside.connect() as connection:
            pooled = (
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = 'picycle'"
            )
            ended = list(connection.execute(text(pooled)).scalars())
            end = "SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) AS pid"
            connection.execute(text(end), {"pids": ended})
            for _ in range(500):
                left = "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"
                if not connection.execute(text(left), {"pids": ended}).scalar():
                    break
                connection.commit()  # the next read sees the server's activity anew
                time.sleep(0.01)
    finally:
        outside.dispose()
    assert mine in ended
    return len(ended)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_connections_the_server_closed_while_pooled_cost_no_request(driver):
    """A database restart ends every connection in the pool: each is found closed before
    a request uses it, and replaced."""
    cycle_id = driver.start()
    task_id = driver.task(cycle_id, "assess_performance").id
    end_pooled_connections(driver.engine)
    driver.complete_task("pia", task_id, {"indicators": INDICATORS})
    assert driver.task_detail(task_id).state == "completed"
    end_pooled_connections(driver.engine)
    assert [t.element_id for t in driver.open_tasks(cycle_id)] == ["identify_gaps"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_pooled_connection_the_server_wrote_to_is_kept_while_it_still_answers(engine):
    """Checking out a connection asks its socket, not the server; one with something to
    read (here a notification) is pinged, and kept when it answers."""
    with engine.database.connect() as connection:
        connection.exec_driver_sql("LISTEN picycle_test")
        connection.commit()
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        connection.commit()
        socket = poll()
        socket.register(connection.connection.driver_connection.fileno(), POLLIN)
    outside = create_engine(engine.url, connect_args={"application_name": "test"})
    try:
        with outside.connect() as other:
            other.exec_driver_sql("NOTIFY picycle_test")
            other.commit()
    finally:
        outside.dispose()
    assert socket.poll(5000)  # the notification reached the pooled connection
    with engine.database.connect() as connection:
        assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() == pid
