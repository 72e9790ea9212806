"""Working the inbox: list, read, claim, unclaim and complete human tasks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select

from ..actors import Actor, require_writer
from ..db.models import Cycle, Task, User
from ..errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from ..forms import Form
from ..projection import OPEN, load_instance, save_cycle
from ..rules import RuleContext, apply_rules
from ..uow import UnitOfWork
from .cycles import get_cycle
from .definitions import form_of

SCOPES = ("mine", "groups", "all")


@dataclass(frozen=True)
class InboxQuery:
    scope: str = "mine"
    cycle_id: int | None = None
    unit: str | None = None
    process_id: str | None = None
    overdue: bool = False
    due_before: datetime | None = None
    sort: str = "created"
    limit: int = 50
    offset: int = 0


def list_inbox(uow: UnitOfWork, actor: Actor, query: InboxQuery) -> tuple[list[Task], int]:
    """Open tasks for the actor from the inbox index; never restores a workflow.

    ``mine``: held by or assigned to the actor, plus unassigned tasks of their groups;
    ``groups``: only the unclaimed tasks of their groups; ``all``: admins and auditors.
    """
    statement = select(Task).where(Task.state == OPEN)
    unheld_in_groups = and_(
        Task.claimed_by.is_(None),
        Task.assignee.is_(None),
        Task.candidate_group.in_(sorted(actor.groups)),
    )
    if query.scope == "mine":
        statement = statement.where(
            or_(
                Task.claimed_by == actor.name,
                and_(Task.claimed_by.is_(None), Task.assignee == actor.name),
                unheld_in_groups,
            )
        )
    elif query.scope == "groups":
        statement = statement.where(unheld_in_groups)
    elif query.scope == "all":
        if not actor.reads_everything:
            raise PermissionDenied("only admins and auditors may list all open tasks")
    else:
        raise ValidationFailed(f"unknown scope '{query.scope}'", {"scope": [f"one of {SCOPES}"]})
    if query.cycle_id is not None:
        statement = statement.where(Task.cycle_id == query.cycle_id)
    if query.unit or query.process_id:
        statement = statement.join(Cycle, Cycle.id == Task.cycle_id)
        if query.unit:
            statement = statement.where(Cycle.unit == query.unit)
        if query.process_id:
            statement = statement.where(Cycle.process_id == query.process_id)
    if query.overdue:
        statement = statement.where(Task.due_at < uow.now)
    if query.due_before is not None:
        statement = statement.where(Task.due_at < query.due_before)
    total = uow.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    order = (Task.due_at, Task.id) if query.sort == "due" else (Task.created_at, Task.id)
    rows = uow.session.scalars(statement.order_by(*order).limit(query.limit).offset(query.offset))
    return list(rows), total


def get_task(uow: UnitOfWork, actor: Actor, task_id: str) -> Task:
    task = uow.session.get(Task, task_id)
    if task is None:
        raise NotFound(f"there is no task {task_id}")
    if not (actor.reads_everything or _may_work(actor, task) or task.completed_by == actor.name):
        raise PermissionDenied(f"task {task_id} is neither yours nor open to your groups")
    return task


def task_form(uow: UnitOfWork, task: Task) -> Form | None:
    if not task.form_file:
        return None
    cycle = uow.session.get(Cycle, task.cycle_id)
    return form_of(uow, cycle.definition.deployment_id, task.form_file)


def claim_task(uow: UnitOfWork, actor: Actor, task_id: str) -> Task:
    _, task = _lock_open_task(uow, actor, task_id, "claim")
    if task.claimed_by == actor.name:
        return task
    task.claimed_by = actor.name
    uow.record(
        actor.name,
        "task_claimed",
        cycle_id=task.cycle_id,
        task_id=task.id,
        element_id=task.element_id,
    )
    return task


def unclaim_task(uow: UnitOfWork, actor: Actor, task_id: str) -> Task:
    _, task = _lock_open_task(uow, actor, task_id, "unclaim")
    if task.claimed_by is None:
        raise Conflict(f"task {task_id} is not claimed")
    previous = task.claimed_by
    task.claimed_by = None
    uow.record(
        actor.name,
        "task_unclaimed",
        cycle_id=task.cycle_id,
        task_id=task.id,
        element_id=task.element_id,
        previous_holder=previous,
    )
    return task


def complete_task(uow: UnitOfWork, actor: Actor, task_id: str, data: dict[str, Any]) -> Task:
    """Validate the form data (schema, then the method's rules) and move the cycle on."""
    cycle, task = _lock_open_task(uow, actor, task_id, "complete")
    if not isinstance(data, dict):
        raise ValidationFailed("the form data must be a JSON object", {"data": ["not an object"]})
    form = task_form(uow, task)
    accepted = form.accept(data) if form else data
    instance = load_instance(uow, cycle)
    ready = instance.human_task(task_id)
    if ready.rules:
        context = RuleContext(
            task_data=ready.data,
            today=uow.now.date(),
            user_exists=lambda name: _user_exists(uow, name),
        )
        accepted = apply_rules(ready.rules, accepted, context)
    if task.claimed_by is None:
        task.claimed_by = actor.name
        uow.record(
            actor.name,
            "task_claimed",
            cycle_id=cycle.id,
            task_id=task.id,
            element_id=task.element_id,
        )
    instance.complete_task(task_id, accepted, uow.now)
    task.state = "completed"
    task.completed_by = actor.name
    task.ended_at = uow.now
    uow.record(
        actor.name,
        "task_completed",
        cycle_id=cycle.id,
        task_id=task.id,
        element_id=task.element_id,
        title=task.title,
        data=accepted,
    )
    save_cycle(uow, cycle, instance, actor.name)
    return task


def _user_exists(uow: UnitOfWork, name: str) -> bool:
    return uow.session.scalar(select(User.id).where(User.name == name, User.active)) is not None


def _lock_open_task(uow: UnitOfWork, actor: Actor, task_id: str, action: str) -> tuple[Cycle, Task]:
    """The task and its cycle, the cycle locked so concurrent changes queue behind us."""
    require_writer(actor, f"{action} a task")
    task = uow.session.get(Task, task_id)
    if task is None:
        raise NotFound(f"there is no task {task_id}")
    cycle = get_cycle(uow, task.cycle_id, for_update=True)
    uow.session.refresh(task)
    if task.state != OPEN:
        by = f" by {task.completed_by}" if task.completed_by else ""
        raise Conflict(f"task {task_id} ('{task.title}') is no longer open: {task.state}{by}")
    if task.claimed_by not in (None, actor.name) and not (action == "unclaim" and actor.is_admin):
        raise Conflict(f"task {task_id} ('{task.title}') is held by {task.claimed_by}")
    if not (_may_work(actor, task) or actor.is_admin):
        raise PermissionDenied(_why_not(actor, task))
    return cycle, task


def _may_work(actor: Actor, task: Task) -> bool:
    if actor.role == "auditor":
        return False
    if task.claimed_by == actor.name or task.assignee == actor.name:
        return True
    return task.assignee is None and task.candidate_group in actor.groups


def _why_not(actor: Actor, task: Task) -> str:
    if task.assignee:
        return f"task '{task.title}' is assigned to {task.assignee}"
    return (
        f"task '{task.title}' is for the {task.candidate_group} group, which {actor.name} is not in"
    )
