"""Firing due timers (escalations of overdue microprojects and the like) and starting the
next cycles completed cycles planned.

Any number of workers may run at once: each claims one due cycle at a time
(``engine/db/claims.py``), fires its due timers and commits, in one transaction. Which
timers are due is read from the locked cycle's own state, so a cycle claimed again just
after another worker fired it fires nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import func, select

from ..actors import SYSTEM
from ..db.claims import claim_next
from ..db.database import reaching_database
from ..db.models import Cycle, Incident, PendingTimer
from ..errors import ModelError
from ..read_models import TimerBacklog
from ..uow import Engine, UnitOfWork
from ..vocabulary import IncidentAction
from .incidents import raise_incident
from .next_cycles import start_planned_cycle

log = logging.getLogger("picycle.timers")

CYCLES = Cycle.__table__
TIMERS = PendingTimer.__table__


def _awaits_admin(cycle_id):
    """The cycle's timers failed: they wait for an admin to retry them."""
    return (
        select(Incident.id)
        .where(
            Incident.cycle_id == cycle_id,
            Incident.action == IncidentAction.FIRE_TIMERS,
            Incident.resolved_at.is_(None),
        )
        .exists()
    )


def _due_cycles(uow: UnitOfWork, passed: list[int]):
    """Cycles with a timer due, the most overdue first, but for those waiting for an admin
    and those ``passed`` already."""
    due = (
        select(TIMERS.c.cycle_id, func.min(TIMERS.c.due_at).label("due_at"))
        .where(TIMERS.c.due_at <= uow.now)
        .group_by(TIMERS.c.cycle_id)
        .subquery()
    )
    query = (
        select(CYCLES.c.id)
        .join(due, due.c.cycle_id == CYCLES.c.id)
        .where(~_awaits_admin(CYCLES.c.id))
        .order_by(due.c.due_at, CYCLES.c.id)
    )
    return query.where(CYCLES.c.id.not_in(passed)) if passed else query


def cycles_with_due_timers(uow: UnitOfWork) -> list[int]:
    """Cycles with a timer due, but for those whose timers failed and wait for an admin."""
    return list(uow.session.scalars(_due_cycles(uow, [])))


def fire_next_due(uow: UnitOfWork, passed: list[int]) -> int | None:
    """Claim the most overdue cycle that no other worker holds and is not in ``passed``,
    fire its due timers and commit; the cycle joins ``passed``. Returns how many fired
    (0 when the model failed: an incident is raised), or None when there is nothing to
    claim."""
    claimed = claim_next(uow.session, _due_cycles(uow, passed), CYCLES)
    if claimed is None:
        return None
    cycle_id = claimed.id
    passed.append(cycle_id)
    try:
        cycle = uow.cycles.lock(cycle_id)
        if not cycle.running:  # a completed cycle waits only to start the next one
            return start_planned_cycle(uow, cycle)
        fired = cycle.fire_due_timers(SYSTEM)
        uow.commit()
    except ModelError as failure:
        raise_incident(uow, SYSTEM, IncidentAction.FIRE_TIMERS, failure, cycle_id=cycle_id)
        log.warning("cycle #%d: its timers failed, incident raised: %s", cycle_id, failure)
        return 0
    if fired:
        log.info("cycle #%d: fired %d timer(s)", cycle_id, fired)
    return fired


def fire_due_timers(engine: Engine, stopping: Callable[[], bool] = lambda: False) -> int:
    """One pass of a worker: every cycle it can claim, each in its own transaction, until
    none is left or ``stopping()`` says so; a cycle another worker holds is left to it.
    Returns how many timers fired; Unavailable when the database cannot be reached (what
    was committed stays, the rest waits for the next pass)."""
    passed: list[int] = []
    fired = 0
    with reaching_database():
        while not stopping():
            with engine.unit_of_work() as uow:
                count = fire_next_due(uow, passed)
            if count is None:
                break
            fired += count
    return fired


def timer_backlog(uow: UnitOfWork) -> TimerBacklog:
    """What the workers have yet to do: timers due now, the oldest due time, and timers
    held back because their cycle waits for an admin."""
    held = _awaits_admin(TIMERS.c.cycle_id)
    due_now = TIMERS.c.due_at <= uow.now
    with reaching_database():
        due, oldest = uow.session.execute(
            select(func.count(), func.min(TIMERS.c.due_at)).where(due_now, ~held)
        ).one()
        waiting = uow.session.scalar(select(func.count()).where(due_now, held))
    return TimerBacklog(uow.now, due, oldest, waiting)
