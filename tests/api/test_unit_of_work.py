"""One request, one unit of work: the caller is authenticated in the transaction that does
the request's work, a completion costs a handful of statements, every request gives its
connection back, and a refused write is recorded without waiting for the request's lock."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from sqlalchemy import event

from tests.api.conftest import Walker, assert_problem, audit_events

# Statements of a warm completion (its cycle kept in memory since the step before, the forms
# of its process cached), authentication included: authenticate, lock the cycle, write its
# row, its changed tasks and its events. SQLite adds its BEGIN IMMEDIATE (PostgreSQL's BEGIN
# and every COMMIT are not statements a cursor executes). Reading the cycle afresh would
# add two more. One more finds who is told by e-mail of the task it opens (notifications'
# recipients, read in the same transaction as the change).
WARM_COMPLETION = 6
# What some steps do besides, at most: the design checks that each of its two
# microprojects' owners is an active user; the approval arms the overdue timers, each
# implementation disarms its own; planning the next cycle arms its start.
EXTRA = {
    "design_microprojects": 2,
    "leadership_approval": 1,
    "implement_microproject": 1,
    "plan_next_cycle": 1,
}


@dataclass
class Traffic:
    """What the database saw while it was watched: statements, the connections they
    went through, and the transactions begun and committed."""

    statements: list[str] = field(default_factory=list)
    connections: set[int] = field(default_factory=set)
    begins: int = 0
    commits: int = 0


@contextmanager
def watching(engine):
    seen = Traffic()

    def executing(connection, cursor, statement, parameters, context, executemany):
        seen.statements.append(statement)
        seen.connections.add(id(connection.connection.dbapi_connection))

    def began(connection):
        seen.begins += 1

    def committed(connection):
        seen.commits += 1

    listeners = [("before_cursor_execute", executing), ("begin", began), ("commit", committed)]
    for name, listener in listeners:
        event.listen(engine.database, name, listener)
    try:
        yield seen
    finally:
        for name, listener in listeners:
            event.remove(engine.database, name, listener)


class WatchedWalker(Walker):
    """Walks a cycle through the API, watching the request of each completion alone."""

    def __init__(self, api, cycle_id: int, engine):
        super().__init__(api, cycle_id)
        self.engine = engine
        self.steps: list[tuple[str, Traffic]] = []

    def complete(self, who: str, element_id: str, data: dict) -> dict:
        return self.complete_task(who, self.task(element_id), data)

    def complete_task(self, who: str, task: dict, data: dict) -> dict:
        with watching(self.engine) as seen:
            response = self.api.post(who, f"/tasks/{task['id']}/complete", json={"data": data})
        assert response.status_code == 200, response.json
        self.steps.append((task["element_id"], seen))
        return response.json

    def implement_all(self) -> None:
        for task in self.cycle()["open_tasks"]:
            if task["element_id"] == "implement_microproject":
                self.complete_task(task["assignee"], task, {"status": "done", "report": "Done"})


def walk_through(walk: Walker, today) -> None:
    walk.assess()
    walk.identify_gaps()
    walk.design(today)
    walk.approve()
    walk.implement_all()
    walk.evaluate(permits=82, backlog=55)
    walk.institutionalise()
    walk.plan_next()
    assert walk.cycle()["status"] == "completed"


def test_each_completion_is_one_transaction_of_a_few_statements(
    api, walker, start_cycle, engine, clock
):
    walk_through(walker(unit="Warming up"), clock().date())  # the forms are cached now
    walk = WatchedWalker(api, start_cycle()["id"], engine)
    walk_through(walk, clock().date())

    counts = [(step, len(seen.statements)) for step, seen in walk.steps]
    assert [step for step, _ in counts] == [
        "assess_performance",
        "identify_gaps",
        "design_microprojects",
        "leadership_approval",
        "implement_microproject",
        "implement_microproject",
        "evaluate_results",
        "institutionalise_and_share",
        "plan_next_cycle",
    ]
    begin = 1 if engine.database.dialect.name == "sqlite" else 0
    for step, seen in walk.steps:
        # Authentication and the work: one connection, one transaction, committed once.
        assert len(seen.connections) == 1, (step, seen.statements)
        assert (seen.begins, seen.commits) == (1, 1), (step, seen.statements)
        allowed = begin + WARM_COMPLETION + EXTRA.get(step, 0)
        assert len(seen.statements) <= allowed, (step, seen.statements)
    plain = [n for step, n in counts if step not in EXTRA]
    assert max(plain) <= 7


def test_a_read_is_one_transaction_too(api, assessment_task, engine):
    with watching(engine) as seen:
        response = api.get("pia", f"/tasks/{assessment_task['id']}")
    assert response.status_code == 200
    assert len(seen.connections) == 1
    # Nothing to commit: rolled back at the end; on PostgreSQL, where a reading transaction
    # is READ ONLY, committed (a rollback would make the driver forget its prepared statements).
    assert (seen.begins, seen.commits) == (1, 1 if engine.commit_reads else 0)


def test_every_request_gives_its_connection_back(api, walker, clock, engine):
    walk = walker()
    walk.assess()
    walk.identify_gaps()
    walk.design(clock().date())
    walk.approve()
    refused = api.post("audrey", f"/cycles/{walk.cycle_id}/cancel", json={"reason": "x"})
    assert_problem(refused, 403)
    assert api.get("audrey", "/audit/events?format=csv").status_code == 200
    assert engine.database.pool.checkedout() == 0


# --- a refused write on SQLite -------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_refused_write_is_recorded_without_waiting_for_a_lock(api, assessment_task, engine):
    """A write request holds SQLite's write lock from its start (BEGIN IMMEDIATE). The
    refusal is recorded in a transaction of its own, begun only after the request's has
    ended: even on connections that give up at once on a lock, it is on the record."""
    open_now: list[object] = []
    open_at_begin: list[int] = []

    def impatient(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA busy_timeout = 0")

    def began(connection):
        open_now.append(connection)
        open_at_begin.append(len(open_now))

    def ended(connection):
        if connection in open_now:
            open_now.remove(connection)

    listeners = [("connect", impatient), ("begin", began), ("commit", ended), ("rollback", ended)]
    for name, listener in listeners:
        event.listen(engine.database, name, listener)
    engine.database.dispose()  # every connection from here on is impatient
    claim = f"/tasks/{assessment_task['id']}/claim"
    try:
        started = time.monotonic()
        response = api.post("audrey", claim)
        took = time.monotonic() - started
    finally:
        for name, listener in listeners:
            event.remove(engine.database, name, listener)
    assert_problem(response, 403)
    # The request's transaction, rolled back, then the refusal's: never both at once.
    assert open_at_begin == [1, 1]
    assert took < 5
    (refusal,) = audit_events(engine, "access_denied")
    assert (refusal.actor, refusal.data["action"]) == ("audrey", f"POST /api/v1{claim}")
    assert api.post("pia", claim).status_code == 200  # and nothing was left locked
