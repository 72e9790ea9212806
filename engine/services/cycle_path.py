"""The path a cycle has taken through its process model, for drawing over the diagram."""

from __future__ import annotations

from dataclasses import dataclass

from ..actors import Actor
from ..errors import PermissionDenied
from ..spiff.path import ElementPassage, FlowPassage
from ..uow import UnitOfWork
from .audit import may_read_cycle  # the history's read rule: the path follows it
from .cycles import get_cycle
from .definitions import spec_loader


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
    cycle = get_cycle(uow, cycle_id)
    if not may_read_cycle(uow, actor, cycle_id):
        raise PermissionDenied(f"{actor.name} takes no part in cycle #{cycle_id}")
    definition_id = cycle.definition_id
    path = uow.runner.passed_elements(definition_id, spec_loader(uow, definition_id), cycle.state)
    return CyclePath(
        cycle_id=cycle.id,
        process_id=cycle.process_id,
        version=cycle.definition.version,
        elements=path.elements,
        flows=path.flows,
    )
