"""Firing due timers (escalations of overdue microprojects and the like) and starting the
next cycles completed cycles planned."""

from __future__ import annotations

from sqlalchemy import select

from ..actors import SYSTEM
from ..db.models import Incident, PendingTimer
from ..errors import ModelError
from ..uow import Engine, UnitOfWork
from ..vocabulary import IncidentAction
from .incidents import raise_incident
from .next_cycles import start_planned_cycle

_OPEN_TIMER_INCIDENT = (
    select(Incident.id)
    .where(
        Incident.cycle_id == PendingTimer.cycle_id,
        Incident.action == IncidentAction.FIRE_TIMERS,
        Incident.resolved_at.is_(None),
    )
    .exists()
)


def cycles_with_due_timers(uow: UnitOfWork) -> list[int]:
    """Cycles with a timer due, but for those whose timers failed and wait for an admin."""
    return list(
        uow.session.scalars(
            select(PendingTimer.cycle_id)
            .where(PendingTimer.due_at <= uow.now, ~_OPEN_TIMER_INCIDENT)
            .distinct()
            .order_by(PendingTimer.cycle_id)
        )
    )


def fire_cycle_timers(uow: UnitOfWork, cycle_id: int) -> int:
    """Fire the cycle's due timers; returns how many fired. When the model fails, an
    incident is raised and none fire."""
    try:
        cycle = uow.cycles.lock(cycle_id)
        if not cycle.running:  # a completed cycle waits only to start the next one
            return start_planned_cycle(uow, cycle)
        fired = cycle.fire_due_timers(SYSTEM)
        uow.commit()
    except ModelError as failure:
        raise_incident(uow, SYSTEM, IncidentAction.FIRE_TIMERS, failure, cycle_id=cycle_id)
        return 0
    return fired


def fire_due_timers(engine: Engine) -> int:
    """One pass of the worker: each due cycle in its own transaction."""
    with engine.unit_of_work(write=False) as uow:
        due = cycles_with_due_timers(uow)
    fired = 0
    for cycle_id in due:
        with engine.unit_of_work() as uow:
            fired += fire_cycle_timers(uow, cycle_id)
    return fired
