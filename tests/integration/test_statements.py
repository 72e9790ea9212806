"""One write per commit: what completing each step of a PI cycle costs in SQL statements on
a warm engine (its specs, forms and the cycle itself in memory), acting user known.

A completion locks the cycle, writes its row once, writes the task rows and timers that
changed (and only those), and puts all of its audit events in with one INSERT."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.db.models import PendingTimer
from picycle.engine.services import comments, notification_settings, tasks
from sqlalchemy import event, select

from tests.support import Driver

TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)
# Typical completions: no owners to look up, nothing but the task and the cycle, and who is
# told by e-mail of the task it opens.
TYPICAL = ("Leadership approval", "Evaluate results")
MOST_FOR_A_TYPICAL_COMPLETION = 6


@dataclass
class Statement:
    sql: str
    rows: int  # parameter sets: more than one for an executemany

    def touches(self, table: str) -> bool:
        return re.search(rf"\b{table}\b", self.sql) is not None

    def verb(self) -> str:
        return self.sql.split(None, 1)[0].upper()


@dataclass
class Step:
    title: str
    statements: list[Statement] = field(default_factory=list)
    events: int = 0
    timers_before: set = field(default_factory=set)
    timers_after: set = field(default_factory=set)

    def on(self, table: str) -> list[Statement]:
        return [s for s in self.statements if s.touches(table)]

    def writes(self, table: str) -> list[Statement]:
        return [s for s in self.on(table) if s.verb() in ("INSERT", "UPDATE", "DELETE")]


class CountingDriver(Driver):
    """Counts the SQL statements of each completion's unit of work, from entering it to
    leaving it: the acting user is looked up before (authentication is not counted)."""

    def __init__(self, make_engine):
        super().__init__(make_engine)
        self.steps: list[Step] = []
        self._counting: Step | None = None
        event.listen(self.engine.database, "before_cursor_execute", self._seen)

    def _seen(self, _connection, _cursor, statement, parameters, _context, executemany):
        if self._counting is None or TRANSACTION_CONTROL.match(statement):
            return
        rows = len(parameters) if executemany else 1
        self._counting.statements.append(Statement(" ".join(statement.split()), rows))

    @contextmanager
    def counting(self, title: str, cycle_id: int) -> Iterator[Step]:
        step = Step(title, timers_before=self.timers(cycle_id))
        events_before = len(self.events(cycle_id))
        self._counting = step
        try:
            yield step
        finally:
            self._counting = None
        step.events = len(self.events(cycle_id)) - events_before
        step.timers_after = self.timers(cycle_id)
        self.steps.append(step)

    def complete_task(self, by: str, task_id: str, data: dict[str, Any]):
        actor = self.actor(by)
        detail = self.task_detail(task_id)
        with self.counting(detail.title, detail.cycle_id), self.engine.unit_of_work() as uow:
            return tasks.complete_task(uow, actor, task_id, data)

    def timers(self, cycle_id: int) -> set[tuple]:
        with self.engine.unit_of_work(write=False) as uow:
            rows = uow.session.execute(
                select(PendingTimer.task_id, PendingTimer.element_id, PendingTimer.due_at).where(
                    PendingTimer.cycle_id == cycle_id
                )
            )
            return set(rows)


@pytest.fixture
def counted(engine, database_url, clock) -> CountingDriver:
    """A warm engine: a whole cycle of another unit has loaded every spec and form."""
    from picycle.engine import Engine

    made = CountingDriver(lambda: Engine(database_url, clock))
    made.add_people()
    warm_up = made.start(unit="Directorate of Finance")
    made.work_whole_cycle(warm_up)
    made.steps.clear()
    yield made
    made.engine.dispose()


def report(steps: list[Step]) -> str:
    return "\n".join(
        f"{step.title:40} {len(step.statements)} statements, {step.events} events" for step in steps
    )


def test_each_completion_of_a_whole_cycle_writes_once(counted, record_property):
    cycle_id = counted.start()
    counted.work_whole_cycle(cycle_id)
    steps = counted.steps
    record_property("statements per step", report(steps))
    assert [s.title for s in steps][0] == "Assess performance" and len(steps) == 9

    for step in steps:
        shown = f"{step.title}:\n" + "\n".join(s.sql[:120] for s in step.statements)
        # The cycle's row is written once, its status and end only by the step that ends
        # it (an indexed column set is an index entry written, changed or not); the task
        # rows in one statement.
        (written,) = step.writes("cycles")
        ends_the_cycle = step is steps[-1]
        assert ("status=" in written.sql) == ends_the_cycle, shown
        assert ("ended_at=" in written.sql) == ends_the_cycle, shown
        assert "definition_id=" not in written.sql, shown
        assert len(step.writes("tasks")) == 1, shown
        # Every audit event of the completion goes in with one INSERT.
        (inserted,) = step.writes("audit_events")
        assert inserted.verb() == "INSERT" and inserted.rows == step.events >= 2, shown
        assert not step.on("audit_chains"), shown  # a cycle's chain head is on its row
        # Timers: untouched when none changed; dropped or written only those that did.
        gone = {t[0] for t in step.timers_before} - {t[0] for t in step.timers_after}
        new = step.timers_after - step.timers_before
        if not gone and not new:
            assert not step.on("pending_timers"), shown
        else:
            timer_writes = step.writes("pending_timers")
            assert [s.verb() for s in timer_writes if s.verb() == "DELETE"] == (
                ["DELETE"] if gone else []
            ), shown
            upserted = [s for s in timer_writes if s.verb() in ("INSERT", "UPDATE")]
            assert sum(s.rows for s in upserted) == len(new), shown

    for step in steps:
        if step.title in TYPICAL:
            assert len(step.statements) <= MOST_FOR_A_TYPICAL_COMPLETION, report([step])


def test_an_unchanged_timer_is_not_written_again(counted, clock):
    cycle_id = counted.start()
    counted.assess(cycle_id)
    counted.identify_gaps(cycle_id)
    counted.design(cycle_id, clock().date())
    counted.approve(cycle_id)
    approval = counted.steps[-1]
    assert len(approval.timers_after) == 2  # one per microproject
    counted.implement_all(cycle_id)
    first, second = counted.steps[-2:]
    # Completing the first microproject drops its timer and leaves the other's alone.
    assert len(first.timers_after) == 1 and first.timers_after < first.timers_before
    assert [s.verb() for s in first.on("pending_timers")] == ["DELETE"]
    assert [s.verb() for s in second.on("pending_timers")] == ["DELETE"]


def test_a_claim_or_a_comment_leaves_the_workflow_state_alone(counted, clock):
    cycle_id = counted.start()
    counted.assess(cycle_id)
    task = counted.task(cycle_id, "identify_gaps")
    dana = counted.actor("dana")
    with counted.counting("claim", cycle_id) as claim, counted.engine.unit_of_work() as uow:
        tasks.claim_task(uow, dana, task.id)
    with counted.counting("comment", cycle_id) as comment, counted.engine.unit_of_work() as uow:
        comments.add_comment(uow, dana, task.id, "Starting on the causes")
    for step in (claim, comment):
        (row,) = step.writes("cycles")
        # The row's revision and chain head move; the workflow state is not rewritten.
        assert not re.search(r"\bstate\s*=", row.sql), row.sql
        assert not re.search(r"\bdata\s*=", row.sql), row.sql
        assert not step.on("pending_timers")
        (inserted,) = step.writes("audit_events")
        assert inserted.rows == step.events == 1
    assert len(claim.writes("tasks")) == 1 and not comment.writes("tasks")


def reads_who_is_told(step: Step) -> bool:
    return any("notify_group_open" in s.sql for s in step.statements)


def test_who_is_told_is_read_again_only_once_the_directory_changed(counted):
    # The warm-up's cycle told this unit's groups of each of their tasks.
    cycle_id = counted.start(unit="Directorate of Finance")
    counted.assess(cycle_id)
    assert not reads_who_is_told(counted.steps[-1]), report(counted.steps[-1:])
    with counted.engine.unit_of_work() as uow:
        notification_settings.change_settings(uow, SYSTEM, "omar", email="omar@example.org")
    counted.identify_gaps(cycle_id)
    assert reads_who_is_told(counted.steps[-1])
