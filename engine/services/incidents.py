"""Incidents: steps of a cycle's model that failed, kept for admins to see, retry, dismiss.

A failed attempt changes nothing: its transaction is rolled back. What is kept, in a
transaction of its own, is the incident: the attempt (a completion with its form data, or
the cycle's due timers), who made it, and why it failed. A second failure of the same
attempt counts on the open incident instead of raising another. The timer worker leaves a
cycle with an open timer incident alone until an admin retries it: the same model would
only fail again, using its whole budget each time.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import func, select

from ..actors import SYSTEM, Actor, require_admin
from ..cycle import Cycle
from ..db.models import Incident
from ..errors import Conflict, ModelError, NotFound
from ..read_models import IncidentView, Page, incident_view
from ..uow import UnitOfWork
from ..vocabulary import IncidentAction, IncidentResolution
from .users import actor_named, task_workers


def raise_incident(
    uow: UnitOfWork,
    actor: Actor,
    action: IncidentAction,
    failure: ModelError,
    *,
    cycle_id: int | None = None,
    task_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> IncidentView:
    """Roll the failed attempt back and record it as an incident of its cycle (found by
    ``cycle_id``, else by ``task_id``); ``failure`` learns the incident's id."""
    uow.rollback()
    cycle = uow.cycles.lock(cycle_id) if cycle_id is not None else uow.cycles.lock_for_task(task_id)
    row = uow.session.scalar(
        select(Incident).where(
            Incident.cycle_id == cycle.id,
            Incident.action == action,
            Incident.task_id.is_(None) if task_id is None else Incident.task_id == task_id,
            Incident.resolved_at.is_(None),
        )
    )
    if row is None:
        row = Incident(cycle_id=cycle.id, action=action, task_id=task_id, failures=0)
        row.raised_at = uow.now
        uow.session.add(row)
    row.failures += 1
    row.last_failed_at = uow.now
    row.attempted_by = actor.name
    row.data = data
    row.element_id = failure.element_id
    row.message = str(failure)
    row.budget_limit = failure.limit
    uow.session.flush()
    view = incident_view(row)
    cycle.incident_raised(actor, view)
    uow.commit()
    failure.incident_id = view.id
    return view


def list_incidents(
    uow: UnitOfWork,
    actor: Actor,
    *,
    open_only: bool = True,
    cycle_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[IncidentView]:
    """Incidents, newest first: open ones only unless asked for all (admins)."""
    require_admin(actor, "list incidents")
    query = select(Incident)
    if open_only:
        query = query.where(Incident.resolved_at.is_(None))
    if cycle_id is not None:
        query = query.where(Incident.cycle_id == cycle_id)
    total = uow.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = uow.session.scalars(query.order_by(Incident.id.desc()).limit(limit).offset(offset))
    return Page([incident_view(row) for row in rows], total)


def get_incident(uow: UnitOfWork, actor: Actor, incident_id: int) -> IncidentView:
    require_admin(actor, "read incidents")
    row = uow.session.get(Incident, incident_id)
    if row is None:
        raise NotFound(f"there is no incident #{incident_id}")
    return incident_view(row)


def retry_incident(uow: UnitOfWork, actor: Actor, incident_id: int) -> IncidentView:
    """Make the failed attempt again (after the model was fixed or the cycle migrated): the
    same completion, as the member who submitted it, or the cycle's due timers. A new
    failure counts on the incident and is raised again."""
    require_admin(actor, "retry incidents")
    row = _open(uow, incident_id)
    attempted = SYSTEM if row.attempted_by == SYSTEM.name else actor_named(uow, row.attempted_by)
    action, cycle_id, task_id, data = row.action, row.cycle_id, row.task_id, row.data
    try:
        cycle = _attempt_again(uow, attempted, action, cycle_id, task_id, data)
    except ModelError as failure:
        raise_incident(
            uow, attempted, action, failure, cycle_id=cycle_id, task_id=task_id, data=data
        )
        raise
    return _resolve(uow, actor, cycle, row, IncidentResolution.RETRIED, None)


def dismiss_incident(uow: UnitOfWork, actor: Actor, incident_id: int, reason: str) -> IncidentView:
    """Close an incident without trying again (the member will submit anew, the cycle was
    cancelled...); the reason goes into the trail."""
    require_admin(actor, "dismiss incidents")
    row = _open(uow, incident_id)
    cycle = uow.cycles.lock(row.cycle_id)
    return _resolve(uow, actor, cycle, row, IncidentResolution.DISMISSED, reason)


def dismiss_open_incidents(uow: UnitOfWork, actor: Actor, cycle: Cycle, reason: str) -> None:
    """Close the open incidents of a cycle that stops (cancelled): nothing of them can be
    tried again. The caller commits."""
    rows = uow.session.scalars(
        select(Incident).where(Incident.cycle_id == cycle.id, Incident.resolved_at.is_(None))
    )
    for row in rows:
        _close(uow, actor, row, IncidentResolution.DISMISSED, reason)
        cycle.incident_resolved(actor, incident_view(row))


def _attempt_again(
    uow: UnitOfWork,
    attempted: Actor,
    action: str,
    cycle_id: int,
    task_id: str | None,
    data: dict[str, Any] | None,
) -> Cycle:
    cycle = uow.cycles.lock(cycle_id)
    if action == IncidentAction.FIRE_TIMERS:
        cycle.fire_due_timers(attempted)
        return cycle
    if task_id not in cycle.open_tasks:
        raise Conflict(
            f"task {task_id} is no longer open (it was completed or withdrawn since): "
            "dismiss the incident instead"
        )
    cycle.complete(attempted, task_id, data or {}, partial(task_workers, uow))
    return cycle


def _resolve(
    uow: UnitOfWork,
    actor: Actor,
    cycle: Cycle,
    row: Incident,
    resolution: IncidentResolution,
    reason: str | None,
) -> IncidentView:
    _close(uow, actor, row, resolution, reason)
    view = incident_view(row)
    cycle.incident_resolved(actor, view)
    uow.commit()
    return view


def _close(
    uow: UnitOfWork,
    actor: Actor,
    row: Incident,
    resolution: IncidentResolution,
    reason: str | None,
) -> None:
    row.resolved_at = uow.now
    row.resolved_by = actor.name
    row.resolution = resolution
    row.reason = reason


def _open(uow: UnitOfWork, incident_id: int) -> Incident:
    """The incident, locked (two admins resolving it at once: the second one is told)."""
    row = uow.session.get(Incident, incident_id, with_for_update=True)
    if row is None:
        raise NotFound(f"there is no incident #{incident_id}")
    if row.resolved_at is not None:
        raise Conflict(f"incident #{incident_id} was {row.resolution} by {row.resolved_by}")
    return row
