"""Changing the next cycle a completed cycle planned, before it starts: another date or
title, or calling it off.

Whoever may start a cycle in the unit may change its plan (admins, members whose
memberships cover the unit). The plan is pending while its timer waits
(``NEXT_CYCLE_TIMER``): the worker deletes it when the plan starts or is skipped, and a
plan called off here deletes it too, so the worker never starts it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import select

from ..actors import Actor, require_writer
from ..cycle import NEXT_CYCLE_TIMER, Cycle, NextCycle, planned_next
from ..db.models import Cycle as CycleRow
from ..db.models import PendingTimer
from ..errors import Message, NotFound, PermissionDenied
from ..read_models import PlannedCycle
from ..spiff.runner import WaitingTimer
from ..uow import UnitOfWork
from .cycles import startable_unit, visible


def planned_cycle(uow: UnitOfWork, actor: Actor, cycle_id: int) -> PlannedCycle | None:
    """The next cycle ``cycle_id`` planned, for whoever may see the cycle; None when it
    planned none."""
    row = uow.session.execute(
        select(CycleRow.unit_id, CycleRow.data).where(CycleRow.id == cycle_id, visible(actor))
    ).one_or_none()
    if row is None:
        raise NotFound(Message(f"there is no cycle #{cycle_id}", "no_cycle"))
    plan = planned_next(row.data)
    if plan is None:
        return None
    pending = _pending_timer(uow, cycle_id) is not None
    planned = _planned(cycle_id, plan, pending, pending and _may_plan(uow, actor, row.unit_id))
    if pending:
        return planned
    followed = uow.session.execute(
        select(CycleRow.id, CycleRow.cycle_number)
        .where(CycleRow.previous_cycle_id == cycle_id, visible(actor))
        .order_by(CycleRow.id)
        .limit(1)
    ).first()
    if followed is None:
        return planned
    return replace(planned, followed_by=followed.id, followed_by_number=followed.cycle_number)


def change_planned_cycle(
    uow: UnitOfWork,
    actor: Actor,
    cycle_id: int,
    start_on: date | None = None,
    title: str | None = None,
) -> PlannedCycle:
    """Move the planned next cycle to ``start_on`` and/or retitle it; the worker starts it
    on the new date."""
    cycle = _plannable(uow, actor, cycle_id)
    plan = cycle.change_plan(actor, _pending_timer(uow, cycle_id), start_on, title)
    uow.commit()
    return _planned(cycle_id, plan, pending=True, may_change=True)


def call_off_planned_cycle(
    uow: UnitOfWork, actor: Actor, cycle_id: int, reason: str
) -> PlannedCycle:
    """Call the planned next cycle off: it never starts by itself."""
    cycle = _plannable(uow, actor, cycle_id)
    plan = cycle.call_off_plan(actor, _pending_timer(uow, cycle_id), reason)
    uow.commit()
    return _planned(cycle_id, plan, pending=False, may_change=False)


def _plannable(uow: UnitOfWork, actor: Actor, cycle_id: int) -> Cycle:
    """The cycle, locked, when ``actor`` may change what it planned; as if it did not
    exist for whoever may not see it."""
    require_writer(actor, "change a planned cycle")
    cycle = uow.cycles.lock(cycle_id)
    if uow.session.scalar(select(CycleRow.id).where(CycleRow.id == cycle_id, visible(actor))):
        startable_unit(uow, actor, cycle.record.unit_id)
        return cycle
    raise NotFound(Message(f"there is no cycle #{cycle_id}", "no_cycle"))


def _may_plan(uow: UnitOfWork, actor: Actor, unit_id: int) -> bool:
    try:
        startable_unit(uow, actor, unit_id)
    except PermissionDenied:
        return False
    return True


def _pending_timer(uow: UnitOfWork, cycle_id: int) -> WaitingTimer | None:
    """The timer that starts the cycle's planned next one, while it waits."""
    row = uow.session.execute(
        select(PendingTimer.task_id, PendingTimer.element_id, PendingTimer.due_at).where(
            PendingTimer.cycle_id == cycle_id, PendingTimer.element_id == NEXT_CYCLE_TIMER
        )
    ).one_or_none()
    return WaitingTimer(row.task_id, row.element_id, row.due_at) if row else None


def _planned(cycle_id: int, plan: NextCycle, pending: bool, may_change: bool) -> PlannedCycle:
    return PlannedCycle(cycle_id, plan.start_on, plan.title, pending, may_change)
