"""The path a cycle has taken through its process model, for drawing over the diagram."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..actors import Actor
from ..cycle import DefinitionRef
from ..db.models import Cycle as CycleRow
from ..db.models import ProcessDefinition
from ..errors import NotFound, PermissionDenied
from ..spiff.path import ElementPassage, FlowPassage
from ..uow import UnitOfWork
from .audit import may_read_cycle  # the history's read rule: the path follows it


@dataclass(frozen=True)
class CyclePath:
    cycle_id: int
    process_id: str
    version: int
    elements: list[ElementPassage]
    flows: list[FlowPassage]


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
    if not may_read_cycle(uow, actor, cycle_id):
        raise PermissionDenied(f"{actor.name} takes no part in cycle #{cycle_id}")
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
