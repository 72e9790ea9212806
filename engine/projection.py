"""Keeps the index tables (inbox tasks, pending timers, the cycle's data) in step with a
cycle's workflow after every change, so reads never restore a workflow."""

from __future__ import annotations

from sqlalchemy import delete, select

from .db.models import Cycle, PendingTimer, Task
from .services.definitions import form_of, spec_loader
from .spiff.runner import CycleInstance, HumanTask
from .uow import UnitOfWork

OPEN = "open"


def load_instance(uow: UnitOfWork, cycle: Cycle) -> CycleInstance:
    """The cycle's running instance, to change and then ``save_cycle``; call it only with
    the cycle row locked (``get_cycle(..., for_update=True)``)."""
    return uow.runner.checkout(
        cycle.id,
        (cycle.revision, cycle.definition_id),
        cycle.definition_id,
        spec_loader(uow, cycle.definition_id),
        cycle.state,
    )


def save_cycle(
    uow: UnitOfWork, cycle: Cycle, instance: CycleInstance, actor: str, refresh_open: bool = False
) -> None:
    """Write the instance's state and project what it now waits for. ``refresh_open``
    rewrites the open tasks' descriptions too (after a move to another definition version)."""
    _project_tasks(uow, cycle, instance.ready_human_tasks(), actor, refresh_open)
    uow.session.execute(delete(PendingTimer).where(PendingTimer.cycle_id == cycle.id))
    for timer in instance.waiting_timers():
        uow.session.add(
            PendingTimer(
                task_id=timer.task_id,
                cycle_id=cycle.id,
                element_id=timer.element_id,
                due_at=timer.due_at,
            )
        )
    cycle.state = instance.dump()
    cycle.data = instance.snapshot()
    if instance.completed and cycle.status == "running":
        cycle.status = "completed"
        cycle.ended_at = uow.now
        uow.record(
            actor, "cycle_completed", cycle_id=cycle.id, targets_met=cycle.data.get("targets_met")
        )
    if not instance.completed:
        # Read after commit: the revision the flush gave the row is the one to match.
        uow.after_commit(
            lambda: uow.runner.checkin(cycle.id, (cycle.revision, cycle.definition_id), instance)
        )


def _project_tasks(
    uow: UnitOfWork, cycle: Cycle, ready: list[HumanTask], actor: str, refresh_open: bool
) -> None:
    open_rows = {
        row.id: row
        for row in uow.session.scalars(
            select(Task).where(Task.cycle_id == cycle.id, Task.state == OPEN)
        )
    }
    ready_ids = {task.id for task in ready}
    for task_id, row in open_rows.items():
        if task_id not in ready_ids:
            # The workflow moved on without it (cancelled cycle, interrupting event).
            row.state = "withdrawn"
            row.ended_at = uow.now
            uow.record(
                actor,
                "task_withdrawn",
                cycle_id=cycle.id,
                task_id=task_id,
                element_id=row.element_id,
            )
    for task in ready:
        if task.id in open_rows:
            if refresh_open:
                _describe(uow, cycle, open_rows[task.id], task)
            continue
        row = Task(id=task.id, cycle_id=cycle.id, state=OPEN, created_at=uow.now)
        _describe(uow, cycle, row, task)
        uow.session.add(row)
        uow.record(
            actor,
            "task_created",
            cycle_id=cycle.id,
            task_id=task.id,
            element_id=task.element_id,
            title=task.title,
            candidate_group=task.candidate_group,
            assignee=task.assignee,
            due=task.due_at.isoformat() if task.due_at else None,
        )


def _describe(uow: UnitOfWork, cycle: Cycle, row: Task, task: HumanTask) -> None:
    form = form_of(uow, cycle.definition.deployment_id, task.form_file) if task.form_file else None
    row.element_id = task.element_id
    row.title = task.title
    row.instructions = task.instructions
    row.candidate_group = task.candidate_group
    row.assignee = task.assignee
    row.due_at = task.due_at
    row.form_file = task.form_file
    row.form_data = form.starting_data(task.data) if form else {}
