"""The path a cycle has taken through its process model, and the diagram to draw it over."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..actors import Actor
from ..cycle import DefinitionRef
from ..db.models import AuditEvent, DeploymentFile, ProcessDefinition
from ..db.models import Cycle as CycleRow
from ..errors import NotFound
from ..read_models import StepDone
from ..spiff.path import ElementPassage, FlowPassage
from ..uow import UnitOfWork
from ..vocabulary import EventType
from .audit import require_part  # the history's read rule: the path follows it
from .cycles import visible
from .definitions import defines_process


@dataclass(frozen=True)
class CyclePath:
    cycle_id: int
    process_id: str
    version: int
    elements: list[ElementPassage]
    flows: list[FlowPassage]

    @property
    def current(self) -> list[ElementPassage]:
        """The elements the cycle is at: open tasks, waiting timers and events."""
        return [element for element in self.elements if element.active]

    @property
    def done(self) -> list[ElementPassage]:
        """The elements completed and not at again now (a design sent back is current)."""
        return [e for e in self.elements if e.times_completed and not e.active]


# The events that mark a step a person recognises; gateways and scripts leave none.
STEP_EVENTS = (
    EventType.CYCLE_STARTED,
    EventType.TASK_COMPLETED,
    EventType.CYCLE_COMPLETED,
    EventType.CYCLE_CANCELLED,
)


@dataclass(frozen=True)
class CycleDiagram:
    cycle_id: int
    process_id: str
    version: int
    file: str  # the bundle's BPMN file that defines the process
    xml: str  # as deployed


def cycle_diagram(uow: UnitOfWork, actor: Actor, cycle_id: int) -> CycleDiagram:
    """The BPMN file of the bundle the cycle's version was deployed from, whose diagram the
    path is drawn over. Seen by whoever may see the cycle; as if it did not exist for
    others."""
    rows = uow.session.execute(
        select(ProcessDefinition.process_id, ProcessDefinition.version, DeploymentFile)
        .join(CycleRow, CycleRow.definition_id == ProcessDefinition.id)
        .join(DeploymentFile, DeploymentFile.deployment_id == ProcessDefinition.deployment_id)
        .where(CycleRow.id == cycle_id, visible(actor), DeploymentFile.name.like("%.bpmn"))
    ).all()
    if not rows:
        raise NotFound(f"there is no cycle #{cycle_id}")
    process_id, version = rows[0].process_id, rows[0].version
    # A bundle may hold several BPMN files: the one that defines the process draws it.
    file = next((f for *_, f in rows if defines_process(f.content, process_id)), None)
    if file is None:
        raise NotFound(f"version {version} of {process_id} has no diagram")
    return CycleDiagram(cycle_id, process_id, version, file.name, file.content)


def cycle_path(uow: UnitOfWork, actor: Actor, cycle_id: int) -> CyclePath:
    """Which BPMN elements the cycle completed, how often and when, which it is at now,
    and the connections it took. Read as the cycle's history is: auditors and admins
    every cycle, a member the cycles they take part in."""
    row = uow.session.execute(
        select(
            CycleRow.state,
            ProcessDefinition.id,
            ProcessDefinition.process_id,
            ProcessDefinition.version,
            ProcessDefinition.deployment_id,
        )
        .join(ProcessDefinition, ProcessDefinition.id == CycleRow.definition_id)
        .where(CycleRow.id == cycle_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"there is no cycle #{cycle_id}")
    require_part(uow, actor, cycle_id)
    state, *definition = row
    definition = DefinitionRef(*definition)
    path = uow.cycles.models.passed_elements(definition, state)
    return CyclePath(
        cycle_id=cycle_id,
        process_id=definition.process_id,
        version=definition.version,
        elements=path.elements,
        flows=path.flows,
    )


def steps_done(uow: UnitOfWork, actor: Actor, cycle_id: int) -> list[StepDone]:
    """The cycle's start, each task completed and its end, in the order they happened, at
    the times its history records; read as the history is."""
    require_part(uow, actor, cycle_id)
    rows = uow.session.execute(
        select(
            AuditEvent.at, AuditEvent.actor, AuditEvent.type, AuditEvent.element_id, AuditEvent.data
        )
        .where(AuditEvent.cycle_id == cycle_id, AuditEvent.type.in_(STEP_EVENTS))
        .order_by(AuditEvent.seq)
    )
    return [
        StepDone(row.at, row.actor, EventType(row.type), row.element_id, _title(row))
        for row in rows
    ]


def _title(row) -> str | None:
    title = row.data.get("title") if isinstance(row.data, dict) else None
    return title if row.type == EventType.TASK_COMPLETED and isinstance(title, str) else None
