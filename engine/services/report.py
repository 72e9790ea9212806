"""The leadership report of one cycle: its indicators before and after, its microprojects
and what each delivered, the lessons learned and every leadership decision with who took
it and when.

Read from the cycle's recorded data and its audit trail (the decisions are the completions
of the leadership steps); no workflow is restored. Whoever may see the cycle may read its
report; to anyone else the cycle does not exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..actors import Actor
from ..db.models import AuditEvent, Task, Unit
from ..db.models import Cycle as CycleRow
from ..errors import NotFound
from ..read_models import Decision, LeadershipReport, MicroprojectOutcome
from ..uow import UnitOfWork
from ..vocabulary import EventType, TaskState
from .cycles import visible
from .results import cycle_result, microproject_timeliness

APPROVAL = "leadership_approval"
INSTITUTIONALISE = "institutionalise_and_share"
DECIDE = "decide_on_cycle"
EVALUATE = "evaluate_results"
IMPLEMENT = "implement_microproject"


def leadership_report(uow: UnitOfWork, actor: Actor, cycle_id: int) -> LeadershipReport:
    row = uow.session.execute(
        select(
            CycleRow.id,
            CycleRow.unit_id,
            Unit.name.label("unit"),
            CycleRow.cycle_number,
            CycleRow.title,
            CycleRow.status,
            CycleRow.started_at,
            CycleRow.ended_at,
            CycleRow.data,
        )
        .join(Unit, Unit.id == CycleRow.unit_id)
        .where(CycleRow.id == cycle_id, visible(actor))
    ).one_or_none()
    if row is None:
        raise NotFound(f"there is no cycle #{cycle_id}")
    data = row.data or {}
    completions = uow.session.execute(
        select(
            AuditEvent.element_id,
            AuditEvent.task_id,
            AuditEvent.actor,
            AuditEvent.at,
            AuditEvent.data,
        )
        .where(
            AuditEvent.cycle_id == cycle_id,
            AuditEvent.type == EventType.TASK_COMPLETED,
            AuditEvent.element_id.in_([APPROVAL, INSTITUTIONALISE, DECIDE, EVALUATE, IMPLEMENT]),
        )
        .order_by(AuditEvent.seq)
    ).all()
    submitted = [(event, _submitted(event.data)) for event in completions]
    reports = {event.task_id: form for event, form in submitted if event.element_id == IMPLEMENT}
    due, on_time = microproject_timeliness(uow, Task.cycle_id, Task.cycle_id == cycle_id).get(
        cycle_id, (0, 0)
    )
    return LeadershipReport(
        cycle=cycle_result(row, row.unit, due, on_time),
        as_of=uow.now,
        microprojects=_microprojects(uow, cycle_id, data, reports),
        lessons_learned=_distinct(
            form.get("lessons_learned") for event, form in submitted if event.element_id == EVALUATE
        ),
        standardised_practices=_distinct(_texts(data.get("standardised_practices"))),
        decisions=[
            Decision(
                element_id=event.element_id,
                outcome=_outcome(event.element_id, form),
                decided_by=event.actor,
                decided_at=event.at,
                comment=_text(form.get("comment") or form.get("presented_to")),
            )
            for event, form in submitted
            if event.element_id in (APPROVAL, INSTITUTIONALISE, DECIDE)
        ],
    )


def _submitted(event_data: Any) -> dict[str, Any]:
    """The form data a completion submitted, as its audit event recorded it."""
    form = event_data.get("data") if isinstance(event_data, dict) else None
    return form if isinstance(form, dict) else {}


def _outcome(element_id: str, form: dict[str, Any]) -> str:
    if element_id == APPROVAL:
        return "approved" if form.get("approved") is True else "sent_back"
    if element_id == DECIDE:
        return str(form.get("decision", "close"))
    return "institutionalised"


def _microprojects(
    uow: UnitOfWork, cycle_id: int, data: dict[str, Any], reports: dict[str, dict[str, Any]]
) -> list[MicroprojectOutcome]:
    """Every microproject given to its owner in any round of the cycle, with what the owner
    last reported of it; then those of the latest design not yet given (a running cycle).
    A microproject given again (a new round, or a new due date) is listed once."""
    given = uow.session.execute(
        select(Task.id, Task.form_data)
        .where(
            Task.cycle_id == cycle_id,
            Task.element_id == IMPLEMENT,
            Task.state != TaskState.WITHDRAWN,
        )
        .order_by(Task.created_at, Task.id)
    )
    outcomes: dict[str, MicroprojectOutcome] = {}
    for task_id, form_data in given:
        project = (form_data or {}).get("microproject")
        if isinstance(project, dict):
            outcome = _outcome_of(project, reports.get(task_id, {}))
            outcomes.pop(outcome.title, None)  # listed where it was last given
            outcomes[outcome.title] = outcome
    designed = data.get("microprojects")
    for project in designed if isinstance(designed, list) else []:
        if isinstance(project, dict) and _text(project.get("title")) not in outcomes:
            outcome = _outcome_of(project, {})
            outcomes[outcome.title] = outcome
    return list(outcomes.values())


def _outcome_of(project: dict[str, Any], report: dict[str, Any]) -> MicroprojectOutcome:
    return MicroprojectOutcome(
        title=_text(project.get("title")) or "",
        owner=_text(project.get("owner")),
        due=_text(project.get("due")),
        deliverable=_text(project.get("deliverable")),
        status=_text(report.get("status")),
        report=_text(report.get("report")),
    )


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _texts(value: Any) -> list[str | None]:
    return [_text(item) for item in value] if isinstance(value, list) else []


def _distinct(texts: Any) -> list[str]:
    """In order, each once, blanks left out."""
    kept: list[str] = []
    for text in texts:
        cleaned = _text(text)
        if cleaned and cleaned not in kept:
            kept.append(cleaned)
    return kept
