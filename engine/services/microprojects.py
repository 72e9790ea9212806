"""The microprojects of a cycle: every one given to its owner in any round, with what the
owner last reported of it. A cycle's recorded data holds only its latest design (each
round designs anew), so the rounds before are read from the tasks that gave them and from
the completions that reported on them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, select

from ..actors import Actor
from ..db.models import AuditEvent, Task
from ..db.models import Cycle as CycleRow
from ..errors import NotFound
from ..read_models import MicroprojectOutcome
from ..uow import UnitOfWork
from ..vocabulary import EventType, TaskState
from .cycles import visible

IMPLEMENT = "implement_microproject"


def cycle_microprojects(uow: UnitOfWork, actor: Actor, cycle_id: int) -> list[MicroprojectOutcome]:
    """The cycle's microprojects (see ``microprojects_of``), for whoever may see the cycle;
    to anyone else the cycle does not exist."""
    row = uow.session.execute(
        select(CycleRow.data).where(CycleRow.id == cycle_id, visible(actor))
    ).one_or_none()
    if row is None:
        raise NotFound(f"there is no cycle #{cycle_id}")
    return microprojects_in(uow, cycle_id, row.data or {})


def microprojects_in(
    uow: UnitOfWork, cycle_id: int, data: dict[str, Any]
) -> list[MicroprojectOutcome]:
    """Those given in any round (``microprojects_of``), then those of the latest design,
    ``data``'s, not given yet."""
    given = microprojects_of(uow, [cycle_id]).get(cycle_id, [])
    return given + not_given_yet(given, data)


def microprojects_of(
    uow: UnitOfWork, cycle_ids: Iterable[int] | Select
) -> dict[int, list[MicroprojectOutcome]]:
    """Per cycle, every microproject given to its owner in any round, in the order last
    given, each with what its owner last reported. One given again (a new round, a new
    due date) is listed once, where it was last given."""
    ids = cycle_ids if isinstance(cycle_ids, Select) else list(cycle_ids)
    reports: dict[str, dict[str, Any]] = {}
    created: dict[str, int] = {}  # the order the tasks were given in: in a round, the design's
    for task_id, type_, seq, data in uow.session.execute(
        select(AuditEvent.task_id, AuditEvent.type, AuditEvent.seq, AuditEvent.data).where(
            AuditEvent.cycle_id.in_(ids),
            AuditEvent.type.in_([EventType.TASK_CREATED, EventType.TASK_COMPLETED]),
            AuditEvent.element_id == IMPLEMENT,
        )
    ):
        if type_ == EventType.TASK_CREATED:
            created[task_id] = seq
        else:
            reports[task_id] = submitted_form(data)
    given = []
    for cycle_id, task_id, form_data in uow.session.execute(
        select(Task.cycle_id, Task.id, Task.form_data).where(
            Task.cycle_id.in_(ids),
            Task.element_id == IMPLEMENT,
            Task.state != TaskState.WITHDRAWN,
        )
    ):
        project = (form_data or {}).get("microproject")
        if isinstance(project, dict):
            outcome = _outcome_of(project, reports.get(task_id, {}))
            given.append((created.get(task_id, 0), cycle_id, outcome))
    found: dict[int, dict[str, MicroprojectOutcome]] = {}
    for _, cycle_id, outcome in sorted(given, key=lambda item: item[0]):
        outcomes = found.setdefault(cycle_id, {})
        outcomes.pop(outcome.title, None)  # listed where it was last given
        outcomes[outcome.title] = outcome
    return {cycle_id: list(outcomes.values()) for cycle_id, outcomes in found.items()}


def not_given_yet(
    given: list[MicroprojectOutcome], data: dict[str, Any]
) -> list[MicroprojectOutcome]:
    """The microprojects of the cycle's latest design not given to their owners yet (a
    design awaiting approval)."""
    titles = {outcome.title for outcome in given}
    designed = data.get("microprojects")
    waiting: dict[str, MicroprojectOutcome] = {}
    for project in designed if isinstance(designed, list) else []:
        if isinstance(project, dict) and text_of(project.get("title")) not in titles:
            outcome = _outcome_of(project, {})
            waiting[outcome.title] = outcome
    return list(waiting.values())


def text_of(value: Any) -> str | None:
    """Text as entered, without the spaces around it; None for anything else or blank."""
    return value.strip() or None if isinstance(value, str) else None


def submitted_form(event_data: Any) -> dict[str, Any]:
    """The form data a completion submitted, as its audit event recorded it."""
    form = event_data.get("data") if isinstance(event_data, dict) else None
    return form if isinstance(form, dict) else {}


def _outcome_of(project: dict[str, Any], report: dict[str, Any]) -> MicroprojectOutcome:
    return MicroprojectOutcome(
        title=text_of(project.get("title")) or "",
        owner=text_of(project.get("owner")),
        due=text_of(project.get("due")),
        deliverable=text_of(project.get("deliverable")),
        status=text_of(report.get("status")),
        report=text_of(report.get("report")),
    )
