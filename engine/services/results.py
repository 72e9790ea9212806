"""Results across cycles: what a unit's cycles achieved, cycle after cycle, and an overview
that compares the organisation's units.

Everything is read from the cycles' recorded data (``cycles.data``) and the tasks index;
no workflow is restored. The overview is aggregate SQL over ``cycles`` and ``tasks`` (three
statements, whatever the number of cycles), so it stays quick at tens of thousands of
cycles.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select

from ..actors import SYSTEM, Actor
from ..db.models import Cycle, Task, UnitPath
from ..errors import Message, NotFound, ValidationFailed
from ..read_models import (
    CycleResult,
    IndicatorResult,
    IndicatorTrend,
    MicroprojectOutcome,
    OrganisationOverview,
    Participant,
    PhaseTime,
    TrendPoint,
    UnitOverview,
    UnitResults,
    UnitView,
    task_summary,
)
from ..uow import UnitOfWork
from ..vocabulary import CycleStatus, TaskState
from .microprojects import microprojects_of, not_given_yet
from .units import list_units, require_sight

QUIET_DAYS = 180
MAX_QUIET_DAYS = 3660
YEAR = timedelta(days=365)


# --- one unit ------------------------------------------------------------------------------


def unit_results(uow: UnitOfWork, actor: Actor, unit_id: int, below: bool = False) -> UnitResults:
    """The unit's cycles, oldest first, with each indicator's trend, the time each step
    took, who took part and what is overdue now; with ``below``, the units below it too.
    Refused (403) to whoever's memberships do not cover it."""
    tree = {unit.id: unit for unit in list_units(uow, actor)}
    if unit_id not in tree:
        raise NotFound(Message(f"there is no unit #{unit_id}", "no_unit"))
    require_sight(actor, unit_id, tree[unit_id].name, "results")
    unit_ids = _below(uow, unit_id) if below else [unit_id]
    order = {unit: index for index, unit in enumerate(tree)}
    rows = sorted(
        uow.session.execute(
            select(
                Cycle.id,
                Cycle.unit_id,
                Cycle.cycle_number,
                Cycle.title,
                Cycle.status,
                Cycle.started_at,
                Cycle.ended_at,
                Cycle.started_by,
                Cycle.data,
            ).where(Cycle.unit_id.in_(unit_ids))
        ),
        key=lambda row: (order[row.unit_id], row.cycle_number),
    )
    their_cycles = select(Cycle.id).where(Cycle.unit_id.in_(unit_ids))
    timeliness = microproject_timeliness(uow, Task.cycle_id, Task.cycle_id.in_(their_cycles))
    given = microprojects_of(uow, their_cycles)
    results = [
        cycle_result(
            row,
            tree[row.unit_id].name,
            *timeliness.get(row.id, (0, 0)),
            given.get(row.id, []) + not_given_yet(given.get(row.id, []), row.data or {}),
        )
        for row in rows
    ]
    tasks = uow.session.execute(
        select(
            Task.cycle_id,
            Task.element_id,
            Task.title,
            Task.created_at,
            Task.ended_at,
            Task.completed_by,
        )
        .where(Task.cycle_id.in_(their_cycles), Task.state == TaskState.COMPLETED)
        .order_by(Task.created_at, Task.id)
    ).all()
    overdue = uow.session.scalars(
        select(Task)
        .where(
            Task.cycle_id.in_(their_cycles),
            Task.state == TaskState.OPEN,
            Task.due_at < uow.now,
        )
        .order_by(Task.due_at, Task.id)
    )
    unit = tree[unit_id]
    return UnitResults(
        unit_id=unit.id,
        unit=unit.name,
        path=unit.path,
        below=below,
        as_of=uow.now,
        cycles=results,
        indicators=_trends(results),
        phases=_phases(tasks),
        people=_people(rows, tasks),
        overdue=[task_summary(task) for task in overdue],
    )


def _below(uow: UnitOfWork, unit_id: int) -> list[int]:
    return list(
        uow.session.scalars(select(UnitPath.descendant_id).where(UnitPath.ancestor_id == unit_id))
    )


def microproject_timeliness(
    uow: UnitOfWork, key: Any, *where: ColumnElement[bool]
) -> dict[Any, tuple[int, int]]:
    """Per ``key``: (microprojects due, reported on time). A task with a due date is a
    microproject's; it is due once reported or past its due date, and on time when its
    owner reported by then. Read from the index of tasks with a due date alone."""
    reported = Task.state == TaskState.COMPLETED
    due = func.sum(case((reported | (Task.due_at < uow.now), 1), else_=0))
    on_time = func.sum(case((and_(reported, Task.ended_at <= Task.due_at), 1), else_=0))
    rows = uow.session.execute(
        select(key, due, on_time)
        .where(Task.due_at.is_not(None), Task.state != TaskState.WITHDRAWN, *where)
        .group_by(key)
    )
    return {row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in rows}


def meets(value: Any, target: Any, direction: Any) -> bool | None:
    """Whether ``value`` is at ``target``, higher being better unless the direction is
    ``decrease``; None when either is not a number."""
    if not (_number(value) and _number(target)):
        return None
    return value <= target if direction == "decrease" else value >= target


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _dicts(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    found = data.get(key)
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def cycle_result(
    row: Any, unit: str, due: int, on_time: int, microprojects: list[MicroprojectOutcome]
) -> CycleResult:
    """The cycle's figures; ``microprojects``: all of its rounds' (``microprojects_in``)."""
    data = row.data or {}
    measured = {entry.get("indicator"): entry for entry in _dicts(data, "evaluation")}
    indicators = []
    for indicator in _dicts(data, "indicators"):
        key = str(indicator.get("key", ""))
        evaluation = measured.get(key, {})
        actual = evaluation.get("actual")
        indicators.append(
            IndicatorResult(
                key=key,
                name=str(indicator.get("name", key)),
                measure=indicator.get("unit"),
                direction=str(indicator.get("direction", "increase")),
                baseline=_figure(indicator.get("baseline")),
                target=_figure(indicator.get("target")),
                actual=_figure(actual),
                met=meets(actual, indicator.get("target"), indicator.get("direction")),
            )
        )
    found = [i for i in indicators if meets(i.baseline, i.target, i.direction) is False]
    targets_met = data.get("targets_met")
    return CycleResult(
        cycle_id=row.id,
        unit_id=row.unit_id,
        unit=unit,
        cycle_number=row.cycle_number,
        title=row.title,
        status=CycleStatus(row.status),
        started_at=row.started_at,
        ended_at=row.ended_at,
        targets_met=targets_met if isinstance(targets_met, bool) else None,
        indicators=indicators,
        gaps_found=len(found),
        gaps_closed=sum(1 for i in found if i.met),
        microprojects=len(microprojects),
        done=sum(1 for m in microprojects if m.status == "done"),
        due=due,
        on_time=on_time,
    )


def _figure(value: Any) -> float | None:
    return value if _number(value) else None


def _trends(results: list[CycleResult]) -> list[IndicatorTrend]:
    """Each unit's indicators, in the order they first appear; the latest cycle names them."""
    points: dict[tuple[int, str], list[TrendPoint]] = defaultdict(list)
    latest: dict[tuple[int, str], tuple[CycleResult, IndicatorResult]] = {}
    for cycle in results:
        for indicator in cycle.indicators:
            key = (cycle.unit_id, indicator.key)
            points[key].append(
                TrendPoint(
                    cycle.cycle_id,
                    cycle.cycle_number,
                    indicator.baseline,
                    indicator.target,
                    indicator.actual,
                    indicator.met,
                )
            )
            latest[key] = (cycle, indicator)
    return [
        IndicatorTrend(
            cycle.unit_id,
            cycle.unit,
            indicator.key,
            indicator.name,
            indicator.measure,
            indicator.direction,
            points[key],
        )
        for key, (cycle, indicator) in latest.items()
    ]


def _phases(tasks: Iterable[Any]) -> list[PhaseTime]:
    """Per step (its element in the model), in the order the steps first came up."""
    taken: dict[str, list[tuple[float, int]]] = defaultdict(list)
    titles: dict[str, set[str]] = defaultdict(set)
    for task in tasks:
        seconds = (task.ended_at - task.created_at).total_seconds()
        taken[task.element_id].append((seconds, task.cycle_id))
        titles[task.element_id].add(task.title)
    phases = []
    for element_id, samples in taken.items():
        slowest, cycle_id = max(samples)
        # Tasks named after what they are about (a microproject's title) share no name.
        named = titles[element_id]
        name = next(iter(named)) if len(named) == 1 else element_id.replace("_", " ").capitalize()
        phases.append(
            PhaseTime(
                element_id=element_id,
                name=name,
                tasks=len(samples),
                median_seconds=statistics.median(seconds for seconds, _ in samples),
                slowest_seconds=slowest,
                slowest_cycle_id=cycle_id,
            )
        )
    return phases


def _people(cycles: Iterable[Any], tasks: Iterable[Any]) -> list[Participant]:
    took_part: dict[str, set[int]] = defaultdict(set)
    completed: Counter[str] = Counter()
    for cycle in cycles:
        took_part[cycle.started_by].add(cycle.id)
    for task in tasks:
        if task.completed_by:
            took_part[task.completed_by].add(task.cycle_id)
            completed[task.completed_by] += 1
    took_part.pop(SYSTEM.name, None)  # picycle itself, starting a planned cycle: no person
    return [Participant(name, len(took_part[name]), completed[name]) for name in sorted(took_part)]


# --- the organisation ----------------------------------------------------------------------


def overview(uow: UnitOfWork, actor: Actor, quiet_days: int = QUIET_DAYS) -> OrganisationOverview:
    """Each unit's own cycles side by side: how many (in the last year too), how many met
    their targets, the share of microprojects reported on time, and whether the unit has
    gone quiet: it had cycles, but none started or ended and no task of its running cycle
    was completed in ``quiet_days``. Admins, auditors and members holding a group in the
    whole organisation compare every unit; other members the units their memberships
    cover."""
    if not 1 <= quiet_days <= MAX_QUIET_DAYS:
        message = f"the quiet period is 1 to {MAX_QUIET_DAYS} days, not {quiet_days}"
        raise ValidationFailed(message, {"quiet_days": [message]})
    now = uow.now
    everything = actor.reaches_everywhere
    seen = [u for u in list_units(uow, actor) if everything or u.id in actor.unit_ids]
    counts = _cycle_counts(uow, now)
    timeliness = microproject_timeliness(uow, Task.unit_id)
    running_tasks = _last_completions_in_running_cycles(uow)
    quiet_since = now - timedelta(days=quiet_days)
    rows = []
    for unit in seen:
        count = counts.get(unit.id)
        if count is None and not unit.active:
            continue  # a unit closed before it ever ran a cycle compares nothing
        rows.append(_unit_overview(unit, count, timeliness, running_tasks, quiet_since))
    return OrganisationOverview(now, quiet_days, everything, rows)


def _cycle_counts(uow: UnitOfWork, now: datetime) -> dict[int, Any]:
    completed = Cycle.status == CycleStatus.COMPLETED
    met = Cycle.data["targets_met"].as_boolean()

    def count(condition: ColumnElement[bool]):
        return func.sum(case((condition, 1), else_=0))

    rows = uow.session.execute(
        select(
            Cycle.unit_id,
            func.count().label("cycles"),
            count(Cycle.started_at >= now - YEAR).label("last_year"),
            count(Cycle.status == CycleStatus.RUNNING).label("running"),
            count(completed).label("completed"),
            count(and_(completed, met)).label("targets_met"),
            func.max(Cycle.started_at).label("last_start"),
            func.max(Cycle.ended_at).label("last_end"),
        ).group_by(Cycle.unit_id)
    )
    return {row.unit_id: row for row in rows}


def _last_completions_in_running_cycles(uow: UnitOfWork) -> dict[int, datetime]:
    """A finished cycle ended after its last task; only a running one's tasks say more."""
    rows = uow.session.execute(
        select(Cycle.unit_id, func.max(Task.ended_at))
        .join(Task, Task.cycle_id == Cycle.id)
        .where(Cycle.status == CycleStatus.RUNNING, Task.state == TaskState.COMPLETED)
        .group_by(Cycle.unit_id)
    )
    return {unit_id: last for unit_id, last in rows}


def _unit_overview(
    unit: UnitView,
    count: Any,
    timeliness: dict[Any, tuple[int, int]],
    running_tasks: dict[int, datetime],
    quiet_since: datetime,
) -> UnitOverview:
    due, on_time = timeliness.get(unit.id, (0, 0))
    moments = [running_tasks.get(unit.id)]
    if count is not None:
        moments += [count.last_start, count.last_end]
    known = [moment for moment in moments if moment is not None]
    last = max(known) if known else None
    return UnitOverview(
        unit_id=unit.id,
        unit=unit.name,
        path=unit.path,
        active=unit.active,
        cycles=count.cycles if count else 0,
        cycles_last_year=int(count.last_year) if count else 0,
        running=int(count.running) if count else 0,
        completed=int(count.completed) if count else 0,
        targets_met=int(count.targets_met or 0) if count else 0,
        microprojects_due=due,
        on_time=on_time,
        last_activity=last,
        quiet=last is not None and last < quiet_since,
    )
