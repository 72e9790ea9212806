"""Starting, reading, listing and cancelling cycles."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select, true

from ..actors import Actor, require_admin, require_writer
from ..cycle import Cycle, CycleRecord, records_of
from ..db.models import Cycle as CycleRow
from ..db.models import ProcessDefinition, Task, Unit
from ..deployed import latest_version
from ..errors import Conflict, NotFound
from ..inputs import require_text
from ..read_models import CycleDetail, CycleSummary, Page, TaskSummary, task_summary
from ..uow import UnitOfWork
from ..vocabulary import CycleStatus, TaskState
from .incidents import dismiss_open_incidents
from .units import find_unit, require_reach, units_at_or_below

DEFAULT_PROCESS = "pi_cycle"


def start_cycle(
    uow: UnitOfWork,
    actor: Actor,
    unit: int | str,
    title: str,
    process_id: str = DEFAULT_PROCESS,
    data: dict[str, Any] | None = None,
) -> CycleDetail:
    """The unit's next cycle, seeded from its previous completed one's indicators.

    ``unit`` is the unit's id, or its name when no other unit has it. Admins start cycles
    for any unit, members for the units their memberships cover."""
    started = begin_cycle(uow, actor, unit, title, process_id, data).detail()
    uow.commit()
    return started


def begin_cycle(
    uow: UnitOfWork,
    actor: Actor,
    unit: int | str,
    title: str,
    process_id: str = DEFAULT_PROCESS,
    data: dict[str, Any] | None = None,
) -> Cycle:
    """``start_cycle`` up to the commit: the new cycle, added to the unit of work."""
    require_writer(actor, "start a cycle")
    if isinstance(unit, str):
        require_text(unit=(unit, 255))
    require_text(title=(title, 500))
    found = find_unit(uow, unit)
    require_reach(actor, found)
    if not found.active:
        raise Conflict(f"unit {found.name} (#{found.id}) is inactive")
    unit = found.name
    definition = latest_version(uow, process_id)
    previous = uow.session.execute(
        select(CycleRow.id, CycleRow.cycle_number, CycleRow.status, CycleRow.data)
        .where(CycleRow.unit_id == found.id)
        .order_by(CycleRow.cycle_number.desc())
        .limit(1)
    ).one_or_none()
    if previous is not None and previous.status == CycleStatus.RUNNING:
        raise Conflict(
            f"{unit}'s cycle {previous.cycle_number} (#{previous.id}) is still running; "
            "complete or cancel it before starting the next one"
        )
    cycle_number = previous.cycle_number + 1 if previous else 1
    start_data = {
        **(data or {}),
        "unit": unit,
        "title": title,
        "cycle_number": cycle_number,
        "previous_cycle": previous.id if previous else None,
    }
    if previous is not None and "indicators" not in start_data:
        # A cancelled cycle measured nothing worth carrying on: seed from the last completed.
        seed = (
            previous.data
            if previous.status == CycleStatus.COMPLETED
            else _last_completed(uow, found.id)
        )
        if seed is not None:
            start_data["indicators"] = next_baselines(seed)
    models = uow.cycles.models
    record = CycleRecord(
        id=None,
        definition=definition,
        unit_id=found.id,
        unit=unit,
        title=title,
        cycle_number=cycle_number,
        previous_cycle_id=previous.id if previous else None,
        status=CycleStatus.RUNNING,
        started_at=uow.now,
        started_by=actor.name,
        ended_at=None,
        data={},
    )
    cycle = Cycle.start(record, models.start(definition, start_data), models, actor)
    uow.cycles.add(cycle)
    return cycle


def _last_completed(uow: UnitOfWork, unit_id: int) -> dict[str, Any] | None:
    """The data of the unit's latest completed cycle, or None when it has none."""
    return uow.session.scalar(
        select(CycleRow.data)
        .where(CycleRow.unit_id == unit_id, CycleRow.status == CycleStatus.COMPLETED)
        .order_by(CycleRow.cycle_number.desc())
        .limit(1)
    )


def next_baselines(previous: dict[str, Any]) -> list[dict[str, Any]]:
    """The previous cycle's indicators, with their latest measured actual as the baseline."""
    actuals = {
        m["indicator"]: m["actual"]
        for m in previous.get("measurements", [])
        if isinstance(m, dict) and "indicator" in m and "actual" in m
    }
    return [
        {**indicator, "baseline": actuals.get(indicator["key"], indicator.get("baseline"))}
        for indicator in previous.get("indicators", [])
        if isinstance(indicator, dict) and "key" in indicator
    ]


def _summaries() -> Select:
    return (
        select(
            CycleRow.id,
            CycleRow.status,
            CycleRow.unit_id,
            Unit.name.label("unit"),
            CycleRow.title,
            CycleRow.cycle_number,
            CycleRow.previous_cycle_id,
            CycleRow.process_id,
            ProcessDefinition.version,
            CycleRow.started_at,
            CycleRow.started_by,
            CycleRow.ended_at,
        )
        .join(ProcessDefinition, ProcessDefinition.id == CycleRow.definition_id)
        .join(Unit, Unit.id == CycleRow.unit_id)
    )


_SUMMARY_FIELDS = [f.name for f in fields(CycleSummary)]


def _summary(row) -> CycleSummary:
    values = {name: row._mapping[name] for name in _SUMMARY_FIELDS}
    return CycleSummary(**{**values, "status": CycleStatus(row.status)})


def visible(actor: Actor) -> ColumnElement[bool]:
    """The condition a cycle meets when ``actor`` may see it: admins and auditors see every
    cycle, a member those of the units their memberships cover and those where they hold,
    or were assigned, a task (a microproject's owner, wherever they sit)."""
    if actor.reaches_everywhere:
        return true()
    theirs = exists().where(
        Task.cycle_id == CycleRow.id,
        or_(Task.assignee == actor.name, Task.claimed_by == actor.name),
    )
    return or_(CycleRow.unit_id.in_(sorted(actor.unit_ids)), theirs)


def get_cycle(uow: UnitOfWork, actor: Actor, cycle_id: int) -> CycleDetail:
    """A cycle with its open tasks and what it has recorded, from the index tables; as if
    it did not exist for whoever may not see it."""
    row = uow.session.execute(
        _summaries().add_columns(CycleRow.data).where(CycleRow.id == cycle_id, visible(actor))
    ).one_or_none()
    if row is None:
        raise NotFound(f"there is no cycle #{cycle_id}")
    return CycleDetail(
        **vars(_summary(row)),
        open_tasks=open_tasks(uow, cycle_id),
        records=records_of(row.data),
    )


def open_tasks(uow: UnitOfWork, cycle_id: int) -> list[TaskSummary]:
    rows = uow.session.scalars(
        select(Task)
        .where(Task.cycle_id == cycle_id, Task.state == TaskState.OPEN)
        .order_by(Task.created_at, Task.id)
    )
    return [task_summary(row) for row in rows]


@dataclass(frozen=True)
class CycleFilter:
    unit: str | None = None
    status: CycleStatus | None = None
    process_id: str | None = None


def list_cycles(
    uow: UnitOfWork,
    actor: Actor,
    filters: CycleFilter = CycleFilter(),
    limit: int = 50,
    offset: int = 0,
) -> Page[CycleSummary]:
    """The cycles ``actor`` may see, newest first; filtered by unit, the units below it
    are included."""
    query = _summaries().where(visible(actor))
    if filters.unit:
        query = query.where(CycleRow.unit_id.in_(units_at_or_below(uow, [filters.unit])))
    if filters.status:
        query = query.where(CycleRow.status == filters.status)
    if filters.process_id:
        query = query.where(CycleRow.process_id == filters.process_id)
    total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = uow.session.execute(query.order_by(CycleRow.id.desc()).limit(limit).offset(offset))
    return Page([_summary(row) for row in rows], total)


def cancel_cycle(uow: UnitOfWork, actor: Actor, cycle_id: int, reason: str) -> CycleDetail:
    """Stop a running cycle; its open tasks are withdrawn, its open incidents dismissed."""
    require_admin(actor, "cancel a cycle")
    require_text(reason=(reason, 2000))
    cycle = uow.cycles.lock(cycle_id)
    cycle.cancel(actor, reason)
    dismiss_open_incidents(uow, actor, cycle, f"the cycle was cancelled: {reason}")
    cancelled = cycle.detail()
    uow.commit()
    return cancelled
