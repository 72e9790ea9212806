"""Firing due timers (escalations of overdue microprojects and the like)."""

from __future__ import annotations

from sqlalchemy import select

from ..actors import SYSTEM
from ..db.models import PendingTimer
from ..projection import load_instance, save_cycle
from ..uow import Engine, UnitOfWork
from .cycles import RUNNING, get_cycle


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
    cycle = get_cycle(uow, cycle_id, for_update=True)
    if cycle.status != RUNNING:
        return 0
    instance = load_instance(uow, cycle)
    fired = instance.fire_due_timers(uow.now)
    for timer in fired:
        uow.record(
            SYSTEM.name,
            "timer_fired",
            cycle_id=cycle.id,
            task_id=timer.task_id,
            element_id=timer.element_id,
            due=timer.due_at.isoformat(),
        )
    save_cycle(uow, cycle, instance, SYSTEM.name)
    return len(fired)


def fire_due_timers(engine: Engine) -> int:
    """One pass of the worker: each due cycle in its own transaction."""
    with engine.unit_of_work(write=False) as uow:
        due = cycles_with_due_timers(uow)
    fired = 0
    for cycle_id in due:
        with engine.unit_of_work() as uow:
            fired += fire_cycle_timers(uow, cycle_id)
            uow.commit()
    return fired
