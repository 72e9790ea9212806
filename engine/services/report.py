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
from ..read_models import Decision, LeadershipReport
from ..uow import UnitOfWork
from ..vocabulary import EventType
from .cycles import visible
from .microprojects import microprojects_in, submitted_form, text_of
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
            AuditEvent.element_id.in_([APPROVAL, INSTITUTIONALISE, DECIDE, EVALUATE]),
        )
        .order_by(AuditEvent.seq)
    ).all()
    submitted = [(event, submitted_form(event.data)) for event in completions]
    due, on_time = microproject_timeliness(uow, Task.cycle_id, Task.cycle_id == cycle_id).get(
        cycle_id, (0, 0)
    )
    microprojects = microprojects_in(uow, cycle_id, data)
    return LeadershipReport(
        cycle=cycle_result(row, row.unit, due, on_time, microprojects),
        as_of=uow.now,
        microprojects=microprojects,
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
                comment=text_of(form.get("comment") or form.get("presented_to")),
            )
            for event, form in submitted
            if event.element_id in (APPROVAL, INSTITUTIONALISE, DECIDE)
        ],
    )


def _outcome(element_id: str, form: dict[str, Any]) -> str:
    if element_id == APPROVAL:
        return "approved" if form.get("approved") is True else "sent_back"
    if element_id == DECIDE:
        return str(form.get("decision", "close"))
    return "institutionalised"


def _texts(value: Any) -> list[str | None]:
    return [text_of(item) for item in value] if isinstance(value, list) else []


def _distinct(texts: Any) -> list[str]:
    """In order, each once, blanks left out."""
    kept: list[str] = []
    for text in texts:
        cleaned = text_of(text)
        if cleaned and cleaned not in kept:
            kept.append(cleaned)
    return kept
