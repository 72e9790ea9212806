"""Firing due timers (escalations of overdue microprojects and the like)."""

from __future__ import annotations

from sqlalchemy import select

from ..actors import SYSTEM
from ..db.models import PendingTimer
from ..uow import Engine, UnitOfWork


def cycles_with_due_timers(uow: UnitOfWork) -> list[int]:
    return list(
        uow.session.scalars(
            select(PendingTimer.cycle_id)
            .where(PendingTimer.due_at <= uow.now)
            .distinct()
            .order_by(PendingTimer.cycle_id)
        )
    )


def fire_cycle_timers(uow: UnitOfWork, cycle_id: int) -> int:
    """Fire the cycle's due timers; returns how many fired."""
    fired = uow.cycles.lock(cycle_id).fire_due_timers(SYSTEM)
    uow.commit()
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
