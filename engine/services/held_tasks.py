"""Tasks held by someone who may no longer work them: an admin took the holder out of the
task's group, made them an auditor or deactivated them. Left held, such a task would stay
out of its group's reach until an admin gave it back by hand."""

from __future__ import annotations

from sqlalchemy import null, select

from ..actors import Actor, may_work, why_not
from ..db.models import Task
from ..uow import UnitOfWork
from ..vocabulary import TaskState


def give_back_unworkable(uow: UnitOfWork, actor: Actor, name: str, holder: Actor | None) -> None:
    """The open tasks ``name`` holds that ``holder`` (the user as they now are; None once
    deactivated) may no longer work go back to their group, each recorded as given back
    by ``actor`` with the reason."""
    held = uow.session.execute(
        select(
            Task.id,
            Task.cycle_id,
            Task.title,
            Task.unit_id,
            Task.candidate_group,
            Task.assignee,
            Task.completed_by,
            null().label("claimed_by"),  # judged as if no one held it
        )
        .where(Task.state == TaskState.OPEN, Task.claimed_by == name)
        .order_by(Task.cycle_id, Task.id)
    )
    for task in held:
        if holder is None:
            reason = f"{name} was deactivated"
        elif may_work(holder, task):
            continue
        else:
            reason = str(why_not(holder, task))
        uow.cycles.lock(task.cycle_id).give_back(actor, task.id, reason)
