"""Starting the next cycle a completed cycle planned, when its date comes.

The plan is the completed cycle's ``next_cycle`` record; the pending timer
``NEXT_CYCLE_TIMER`` on that cycle says it is still to come. The timer worker fires it
as ``system``: the next cycle starts through ``begin_cycle``, so it is seeded from the
unit's latest completed cycle like any other. When the unit has moved on (a cycle running
or started since, the unit inactive) the plan is skipped, and the trail says why. A title
planned before titles were checked starts the cycle fit for one line.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from ..actors import SYSTEM
from ..cycle import NEXT_CYCLE_TIMER, Cycle, planned_next
from ..db.models import Cycle as CycleRow
from ..db.models import PendingTimer, Unit
from ..inputs import as_one_line, title_problems
from ..rules import MAX_TITLE_LENGTH
from ..uow import UnitOfWork
from ..vocabulary import CycleStatus
from .cycles import begin_cycle


def start_planned_cycle(uow: UnitOfWork, planned: Cycle) -> int:
    """Start the cycle ``planned`` (completed, locked) planned, or skip the plan with the
    reason; commits and returns how many cycles started (0 or 1)."""
    uow.session.execute(
        delete(PendingTimer).where(
            PendingTimer.cycle_id == planned.id, PendingTimer.element_id == NEXT_CYCLE_TIMER
        )
    )
    plan = planned_next(planned.record.data)
    reason = _why_not(uow, planned) if plan is not None else "the cycle planned no next cycle"
    if reason is None:
        title, reason = _startable(plan.title)
    if reason is not None:
        planned.next_cycle_skipped(SYSTEM, reason)
        uow.commit()
        return 0
    record = planned.record
    started = begin_cycle(uow, SYSTEM, record.unit_id, title, record.definition.process_id)
    planned.next_cycle_started(SYSTEM, started.summary())
    uow.commit()
    return 1


def _why_not(uow: UnitOfWork, planned: Cycle) -> str | None:
    """Why the planned cycle cannot start now; None when it can."""
    record = planned.record
    if not uow.session.scalar(select(Unit.active).where(Unit.id == record.unit_id)):
        return f"{record.unit} is inactive"
    latest = uow.session.execute(
        select(CycleRow.id, CycleRow.cycle_number, CycleRow.status)
        .where(CycleRow.unit_id == record.unit_id)
        .order_by(CycleRow.cycle_number.desc())
        .limit(1)
    ).one()
    if latest.id == record.id:
        return None
    if latest.status == CycleStatus.RUNNING:
        return f"{record.unit}'s cycle {latest.cycle_number} (#{latest.id}) is already running"
    return f"{record.unit}'s cycle {latest.cycle_number} (#{latest.id}) was started before"


def _startable(title: str) -> tuple[str, str | None]:
    """The title to start the planned cycle with, or why it cannot start. A title planned
    before titles were checked (a line break, a character turning text around) is made fit
    for one line: the plan was accepted as it was, and its cycle starts all the same."""
    if title_problems(title=(title, MAX_TITLE_LENGTH)):
        title = as_one_line(title)
        problems = title_problems(title=(title, MAX_TITLE_LENGTH))
        if problems:  # nothing left of it
            return title, f"its planned title {problems['title'][0]}"
    return title, None
