"""Starting, reading, listing and cancelling cycles."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, true, union

from ..actors import Actor, require_admin, require_writer
from ..cycle import MAX_REASON_LENGTH, MAX_TITLE_LENGTH, Cycle, CycleRecord, records_of
from ..db.models import Cycle as CycleRow
from ..db.models import ProcessDefinition, Task, Unit
from ..deployed import latest_version
from ..errors import Conflict, Message, NotFound
from ..inputs import require_text, require_title
from ..read_models import (
    CycleDetail,
    CycleSummary,
    NextCycle,
    Page,
    TaskSummary,
    task_summary,
)
from ..uow import UnitOfWork
from ..vocabulary import CycleStatus, TaskState
from .incidents import dismiss_open_incidents
from .units import FoundUnit, find_unit, require_reach, units_at_or_below

DEFAULT_PROCESS = "pi_cycle"


def start_cycle(
    uow: UnitOfWork,
    actor: Actor,
    unit: int | str,
    title: str,
    process_id: str = DEFAULT_PROCESS,
    data: dict[str, Any] | None = None,
    number: int | None = None,
) -> CycleDetail:
    """The unit's next cycle, seeded from its previous completed one's indicators.

    ``unit`` is the unit's id, or its name when no other unit has it. Admins start cycles
    for any unit, members for the units their memberships cover. ``number``: the cycle
    number the caller means to start (as ``next_cycle`` showed it); when ``actor`` already
    started that very cycle (a form sent twice) it is returned and nothing new starts, and
    when the unit has moved on otherwise it is a conflict."""
    if number is not None:
        earlier = _started_already(uow, actor, unit, title, number)
        if earlier is not None:
            return get_cycle(uow, actor, earlier)
    started = begin_cycle(uow, actor, unit, title, process_id, data, number).detail()
    uow.commit()
    return started


def _started_already(
    uow: UnitOfWork, actor: Actor, unit: int | str, title: str, number: int
) -> int | None:
    where_unit = Unit.id == unit if isinstance(unit, int) else Unit.name == unit.strip()
    return uow.session.scalar(
        select(CycleRow.id)
        .join(Unit, Unit.id == CycleRow.unit_id)
        .where(
            where_unit,
            CycleRow.cycle_number == number,
            CycleRow.started_by == actor.name,
            CycleRow.title == title,
        )
    )


def next_cycle(uow: UnitOfWork, actor: Actor, unit_id: int) -> NextCycle:
    """What the unit's next cycle would start as, for those who may start it."""
    return _next_cycle(uow, startable_unit(uow, actor, unit_id))


def startable_unit(uow: UnitOfWork, actor: Actor, unit: int | str) -> FoundUnit:
    """The unit, when ``actor`` may start its cycles (and so plan them). A refusal names
    the field the unit came in: ``unit_id`` for an id, ``unit`` for a name."""
    require_writer(actor, "start a cycle")
    if isinstance(unit, str):
        require_text(unit=(unit, 255))
    found = find_unit(uow, unit, "unit" if isinstance(unit, str) else "unit_id")
    require_reach(actor, found)
    return found


def begin_cycle(
    uow: UnitOfWork,
    actor: Actor,
    unit: int | str,
    title: str,
    process_id: str = DEFAULT_PROCESS,
    data: dict[str, Any] | None = None,
    number: int | None = None,
) -> Cycle:
    """``start_cycle`` up to the commit: the new cycle, added to the unit of work."""
    found = startable_unit(uow, actor, unit)
    require_title(title=(title, MAX_TITLE_LENGTH))
    if not found.active:
        text = f"unit {found.name} (#{found.id}) is inactive"
        raise Conflict(Message(text, "unit_inactive", unit=found.name))
    definition = latest_version(uow, process_id)
    plan = _next_cycle(uow, found)
    if plan.running_cycle_id is not None:
        text = (
            f"{found.name}'s cycle {plan.cycle_number - 1} (#{plan.running_cycle_id}) is still "
            "running; complete or cancel it before starting the next one"
        )
        raise Conflict(Message(text, "cycle_running", number=plan.cycle_number - 1))
    if number is not None and number != plan.cycle_number:
        text = (
            f"{found.name}'s next cycle is number {plan.cycle_number}, not {number}: another "
            "cycle was started since"
        )
        raise Conflict(Message(text, "cycle_number_taken", number=plan.cycle_number))
    start_data = {
        **(data or {}),
        "unit": found.name,
        "title": title,
        "cycle_number": plan.cycle_number,
        "previous_cycle": plan.previous_cycle_id,
    }
    if plan.seeded_from_id is not None and "indicators" not in start_data:
        start_data["indicators"] = list(plan.indicators)
    models = uow.cycles.models
    record = CycleRecord(
        id=None,
        definition=definition,
        unit_id=found.id,
        unit=found.name,
        title=title,
        cycle_number=plan.cycle_number,
        previous_cycle_id=plan.previous_cycle_id,
        status=CycleStatus.RUNNING,
        started_at=uow.now,
        started_by=actor.name,
        ended_at=None,
        data={},
    )
    cycle = Cycle.start(record, models.start(definition, start_data), models, actor)
    uow.cycles.add(cycle)
    return cycle


def _next_cycle(uow: UnitOfWork, unit: FoundUnit) -> NextCycle:
    """The unit's next cycle as it would start now. A cancelled cycle measured nothing
    worth carrying on: the seed is the unit's last completed cycle."""
    latest = (
        select(CycleRow.id, CycleRow.cycle_number, CycleRow.status, CycleRow.data)
        .where(CycleRow.unit_id == unit.id)
        .order_by(CycleRow.cycle_number.desc())
        .limit(1)
    )
    previous = uow.session.execute(latest).one_or_none()
    if previous is None:
        return NextCycle(unit.id, unit.name, 1, None, None, None, [], None)
    seed = previous
    if previous.status != CycleStatus.COMPLETED:
        completed = latest.where(CycleRow.status == CycleStatus.COMPLETED)
        seed = uow.session.execute(completed).one_or_none()
    return NextCycle(
        unit_id=unit.id,
        unit=unit.name,
        cycle_number=previous.cycle_number + 1,
        previous_cycle_id=previous.id,
        seeded_from_id=seed.id if seed else None,
        seeded_from_number=seed.cycle_number if seed else None,
        indicators=next_baselines(seed.data) if seed else [],
        running_cycle_id=previous.id if previous.status == CycleStatus.RUNNING else None,
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
    # Their cycles found once, not tested per cycle: listing thousands of cycles must not
    # look up each one's tasks. Every state is named so that each lookup runs down an
    # index that starts with the state (the inbox's), in any state.
    states = [state.value for state in TaskState]
    theirs = union(
        select(Task.cycle_id).where(Task.state.in_(states), Task.assignee == actor.name),
        select(Task.cycle_id).where(Task.state.in_(states), Task.claimed_by == actor.name),
    )
    return or_(CycleRow.unit_id.in_(sorted(actor.unit_ids)), CycleRow.id.in_(theirs))


def get_cycle(uow: UnitOfWork, actor: Actor, cycle_id: int) -> CycleDetail:
    """A cycle with its open tasks and what it has recorded, from the index tables; as if
    it did not exist for whoever may not see it."""
    row = uow.session.execute(
        _summaries().add_columns(CycleRow.data).where(CycleRow.id == cycle_id, visible(actor))
    ).one_or_none()
    if row is None:
        raise NotFound(Message(f"there is no cycle #{cycle_id}", "no_cycle"))
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
    unit_id: int | None = None  # that unit's own cycles, none of those below it
    status: CycleStatus | None = None
    process_id: str | None = None


def cycle_summaries(
    uow: UnitOfWork, actor: Actor, cycle_ids: Iterable[int]
) -> dict[int, CycleSummary]:
    """The summaries of those of these cycles ``actor`` may see, by id: what names each
    (its unit, its number in the unit) beside a list of its tasks."""
    wanted = sorted(set(cycle_ids))
    if not wanted:
        return {}
    rows = uow.session.execute(_summaries().where(CycleRow.id.in_(wanted), visible(actor)))
    return {row.id: _summary(row) for row in rows}


def list_cycles(
    uow: UnitOfWork,
    actor: Actor,
    filters: CycleFilter = CycleFilter(),
    limit: int = 50,
    offset: int = 0,
) -> Page[CycleSummary]:
    """The cycles ``actor`` may see, newest first; filtered by unit, the units below it
    are included."""
    conditions = [visible(actor)]
    if filters.unit:
        conditions.append(CycleRow.unit_id.in_(units_at_or_below(uow, filters.unit)))
    if filters.unit_id is not None:
        conditions.append(CycleRow.unit_id == filters.unit_id)
    if filters.status:
        conditions.append(CycleRow.status == filters.status)
    if filters.process_id:
        conditions.append(CycleRow.process_id == filters.process_id)
    # Counted and paged on the cycles' ids alone: only the page's own rows are joined and
    # read whole, however many thousands of cycles the caller sees.
    total = uow.session.scalar(select(func.count()).select_from(CycleRow).where(*conditions))
    page = select(CycleRow.id).where(*conditions).order_by(CycleRow.id.desc())
    rows = uow.session.execute(
        _summaries()
        .where(CycleRow.id.in_(page.limit(limit).offset(offset)))
        .order_by(CycleRow.id.desc())
    )
    return Page([_summary(row) for row in rows], total or 0)


def cancel_cycle(uow: UnitOfWork, actor: Actor, cycle_id: int, reason: str) -> CycleDetail:
    """Stop a running cycle; its open tasks are withdrawn, its open incidents dismissed."""
    require_admin(actor, "cancel a cycle")
    require_text(reason=(reason, MAX_REASON_LENGTH))
    cycle = uow.cycles.lock(cycle_id)
    cycle.cancel(actor, reason)
    dismiss_open_incidents(uow, actor, cycle, f"the cycle was cancelled: {reason}")
    cancelled = cycle.detail()
    uow.commit()
    return cancelled
