"""Working a task: read it, claim it, give it back, complete it. Listing is the inbox's
(``inbox.py``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy import select

from ..actors import Actor, hidden, may_read, require_writer
from ..cycle import Cycle, DefinitionRef, TaskRecord
from ..db.models import HELD_TASK_COLUMNS, ProcessDefinition, Task
from ..db.models import Cycle as CycleRow
from ..errors import Conflict, Message, ModelError, NotFound, PermissionDenied
from ..read_models import TaskDetail, task_detail
from ..repository import TASK_COLUMNS, task_record
from ..uow import UnitOfWork
from ..vocabulary import IncidentAction, TaskState
from .incidents import raise_incident
from .users import task_workers


def get_task(uow: UnitOfWork, actor: Actor, task_id: str) -> TaskDetail:
    """A task with its form, for whoever may work it, completed it, or reads everything."""
    task, definition = readable_task(uow, actor, task_id)
    form = uow.cycles.models.form(definition, task.form_file) if task.form_file else None
    return task_detail(task, form)


def readable_task(uow: UnitOfWork, actor: Actor, task_id: str) -> tuple[TaskRecord, DefinitionRef]:
    """The task (open or closed) and the process version its cycle runs on, if ``actor``
    may read it."""
    row = uow.session.execute(
        select(
            *(getattr(Task, name) for name in TASK_COLUMNS),
            ProcessDefinition.id.label("definition_id"),
            ProcessDefinition.process_id,
            ProcessDefinition.version,
            ProcessDefinition.deployment_id,
        )
        .join(CycleRow, CycleRow.id == Task.cycle_id)
        .join(ProcessDefinition, ProcessDefinition.id == CycleRow.definition_id)
        .where(Task.id == task_id)
    ).one_or_none()
    if row is None:
        raise NotFound(Message(f"there is no task {task_id}", "no_task"))
    task = task_record(row)
    if hidden(actor, task):
        raise NotFound(Message(f"there is no task {task_id}", "no_task"))
    if not may_read(actor, task):
        raise PermissionDenied(
            Message(f"task {task_id} is neither yours nor open to your groups", "task_not_yours")
        )
    return task, DefinitionRef(row.definition_id, row.process_id, row.version, row.deployment_id)


def claim_task(uow: UnitOfWork, actor: Actor, task_id: str) -> TaskDetail:
    """Hold a task so that colleagues see who works it."""
    return _act(uow, actor, "claim", task_id, lambda cycle: cycle.claim(actor, task_id))


def unclaim_task(uow: UnitOfWork, actor: Actor, task_id: str) -> TaskDetail:
    """Give a held task back to its group (its holder, or an admin)."""
    return _act(uow, actor, "unclaim", task_id, lambda cycle: cycle.unclaim(actor, task_id))


def complete_task(uow: UnitOfWork, actor: Actor, task_id: str, data: dict[str, Any]) -> TaskDetail:
    """Validate the form data (schema, then the method's rules) and move the cycle on."""
    exists = partial(task_workers, uow)
    try:
        return _act(
            uow,
            actor,
            "complete",
            task_id,
            lambda cycle: cycle.complete(actor, task_id, data, exists),
        )
    except ModelError as failure:
        raise_incident(
            uow, actor, IncidentAction.COMPLETE_TASK, failure, task_id=task_id, data=data
        )
        raise


def _act(
    uow: UnitOfWork,
    actor: Actor,
    verb: str,
    task_id: str,
    action: Callable[[Cycle], TaskRecord],
) -> TaskDetail:
    """Lock the task's cycle, act on it, commit, and show the task as it now is."""
    require_writer(actor, f"{verb} a task")
    cycle = uow.cycles.lock_for_task(task_id)
    if task_id not in cycle.open_tasks:
        raise _no_longer_open(uow, actor, task_id)
    task = action(cycle)
    done = cycle.task_detail(task)
    uow.commit()
    return done


def _no_longer_open(uow: UnitOfWork, actor: Actor, task_id: str) -> Conflict | NotFound:
    task = uow.session.execute(
        select(Task.state, *HELD_TASK_COLUMNS).where(Task.id == task_id)
    ).one()
    if hidden(actor, task):
        return NotFound(f"there is no task {task_id}")
    by = f" by {task.completed_by}" if task.completed_by else ""
    return Conflict(
        f"task {task_id} ('{task.title}') is no longer open: {TaskState(task.state)}{by}"
    )
