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
from ..vocabulary import EventType
from .cycles import visible
from .results import cycle_result, microproject_timeliness

APPROVAL = "leadership_approval"
INSTITUTIONALISE = "institutionalise_and_share"
DECIDE = "decide_on_cycle"
EVALUATE = "evaluate_results"


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
        select(AuditEvent.element_id, AuditEvent.actor, AuditEvent.at, AuditEvent.data)
        .where(
            AuditEvent.cycle_id == cycle_id,
            AuditEvent.type == EventType.TASK_COMPLETED,
            AuditEvent.element_id.in_([APPROVAL, INSTITUTIONALISE, DECIDE, EVALUATE]),
        )
        .order_by(AuditEvent.seq)
    ).all()
    submitted = [(event, _submitted(event.data)) for event in completions]
    due, on_time = microproject_timeliness(uow, Task.cycle_id, Task.cycle_id == cycle_id).get(
        cycle_id, (0, 0)
    )
    return LeadershipReport(
        cycle=cycle_result(row, row.unit, due, on_time),
        as_of=uow.now,
        microprojects=_microprojects(data),
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
            if event.element_id != EVALUATE
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


def _microprojects(data: dict[str, Any]) -> list[MicroprojectOutcome]:
    """The implemented ones where the owners reported, else the latest design."""
    found = data.get("implemented_microprojects") or data.get("microprojects")
    projects = [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []
    return [
        MicroprojectOutcome(
            title=_text(project.get("title")) or "",
            owner=_text(project.get("owner")),
            due=_text(project.get("due")),
            deliverable=_text(project.get("deliverable")),
            status=_text(project.get("status")),
            report=_text(project.get("report")),
        )
        for project in projects
    ]


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
