"""Starting, reading, listing and cancelling cycles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from ..actors import Actor, require_admin, require_writer
from ..db.models import Cycle, Task
from ..errors import Conflict, NotFound
from ..inputs import require_text
from ..projection import load_instance, save_cycle
from ..uow import UnitOfWork
from .definitions import latest_definition, spec_loader

DEFAULT_PROCESS = "pi_cycle"
RUNNING = "running"


def start_cycle(
    uow: UnitOfWork,
    actor: Actor,
    unit: str,
    title: str,
    process_id: str = DEFAULT_PROCESS,
    data: dict[str, Any] | None = None,
) -> Cycle:
    """The unit's next cycle, seeded from its previous one's indicators."""
    require_writer(actor, "start a cycle")
    require_text(unit=(unit, 255), title=(title, 500))
    definition = latest_definition(uow, process_id)
    previous = _latest_cycle_of(uow, unit)
    if previous is not None and previous.status == RUNNING:
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
        start_data["indicators"] = next_baselines(previous.data)
    instance = uow.runner.start(definition.id, spec_loader(uow, definition.id), start_data, uow.now)
    cycle = Cycle(
        definition=definition,
        process_id=process_id,
        unit=unit,
        title=title,
        cycle_number=cycle_number,
        previous_cycle_id=previous.id if previous else None,
        status=RUNNING,
        started_at=uow.now,
        started_by=actor.name,
        data={},
        state="",
    )
    uow.session.add(cycle)
    uow.session.flush()
    uow.record(
        actor.name,
        "cycle_started",
        cycle_id=cycle.id,
        process_id=process_id,
        version=definition.version,
        unit=unit,
        title=title,
        cycle_number=cycle_number,
        previous_cycle=cycle.previous_cycle_id,
    )
    save_cycle(uow, cycle, instance, actor.name)
    return cycle


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


def _latest_cycle_of(uow: UnitOfWork, unit: str) -> Cycle | None:
    return uow.session.scalar(
        select(Cycle).where(Cycle.unit == unit).order_by(Cycle.cycle_number.desc()).limit(1)
    )


def get_cycle(uow: UnitOfWork, cycle_id: int, for_update: bool = False) -> Cycle:
    query = select(Cycle).where(Cycle.id == cycle_id)
    if for_update:
        query = query.with_for_update(of=Cycle)
    cycle = uow.session.scalar(query)
    if cycle is None:
        raise NotFound(f"there is no cycle #{cycle_id}")
    return cycle


@dataclass(frozen=True)
class CycleFilter:
    unit: str | None = None
    status: str | None = None
    process_id: str | None = None


def list_cycles(
    uow: UnitOfWork, filters: CycleFilter = CycleFilter(), limit: int = 50, offset: int = 0
) -> tuple[list[Cycle], int]:
    query = select(Cycle)
    if filters.unit:
        query = query.where(Cycle.unit == filters.unit)
    if filters.status:
        query = query.where(Cycle.status == filters.status)
    if filters.process_id:
        query = query.where(Cycle.process_id == filters.process_id)
    total = uow.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = uow.session.scalars(query.order_by(Cycle.id.desc()).limit(limit).offset(offset))
    return list(rows), total or 0


def open_tasks(uow: UnitOfWork, cycle_id: int) -> list[Task]:
    return list(
        uow.session.scalars(
            select(Task)
            .where(Task.cycle_id == cycle_id, Task.state == "open")
            .order_by(Task.created_at, Task.id)
        )
    )


def cancel_cycle(uow: UnitOfWork, actor: Actor, cycle_id: int, reason: str) -> Cycle:
    require_admin(actor, "cancel a cycle")
    require_text(reason=(reason, 2000))
    cycle = get_cycle(uow, cycle_id, for_update=True)
    if cycle.status != RUNNING:
        raise Conflict(
            f"cycle #{cycle_id} is {cycle.status}; only a running cycle can be cancelled"
        )
    instance = load_instance(uow, cycle)
    instance.cancel()
    cycle.status = "cancelled"
    cycle.ended_at = uow.now
    uow.record(actor.name, "cycle_cancelled", cycle_id=cycle.id, reason=reason)
    save_cycle(uow, cycle, instance, actor.name)
    return cycle
