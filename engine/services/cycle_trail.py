"""A cycle's history beside its path: every event in order, and for each BPMN element it
passed, how often, and who acted on it and when (the events that name the element)."""

from __future__ import annotations

from dataclasses import dataclass

from ..actors import Actor
from ..read_models import AuditEventView
from ..spiff.path import ElementPassage, FlowPassage
from ..uow import UnitOfWork
from ..vocabulary import EventType
from .audit import cycle_history
from .cycle_path import cycle_path

# A cycle records some hundreds of events; one that recorded more shows its first ones,
# and the event browser (filtered by the cycle) pages through the rest.
HISTORY_LIMIT = 2000
# The events that say who moved the cycle on at an element.
ACTS = frozenset(
    {
        EventType.TASK_CLAIMED,
        EventType.TASK_COMPLETED,
        EventType.TASK_WITHDRAWN,
        EventType.TIMER_FIRED,
    }
)


@dataclass(frozen=True)
class Step:
    """An element of the path with the events that acted on it, in order."""

    element: ElementPassage
    acts: list[AuditEventView]


@dataclass(frozen=True)
class CycleTrail:
    cycle_id: int
    process_id: str
    version: int
    history: list[AuditEventView]
    more_history: bool  # the cycle recorded more than ``history`` holds
    steps: list[Step]
    flows: list[FlowPassage]
    names: dict[str, str]  # each element's name (its id when it has none)


def cycle_trail(uow: UnitOfWork, actor: Actor, cycle_id: int) -> CycleTrail:
    """Read as the cycle's history and path are: auditors and admins every cycle, a member
    the cycles they take part in; 403 for others, 404 for a cycle they may not see."""
    path = cycle_path(uow, actor, cycle_id)
    page = cycle_history(uow, actor, cycle_id, limit=HISTORY_LIMIT)
    history = list(page.items)
    acts: dict[str, list[AuditEventView]] = {}
    for event in history:
        if event.element_id and event.type in ACTS:
            acts.setdefault(event.element_id, []).append(event)
    steps = [
        Step(element, acts.get(element.element_id, []))
        for element in path.elements
        if element.times_completed or element.active
    ]
    return CycleTrail(
        cycle_id=cycle_id,
        process_id=path.process_id,
        version=path.version,
        history=history,
        more_history=page.total > len(history),
        steps=steps,
        flows=path.flows,
        names={e.element_id: e.name or e.element_id for e in path.elements},
    )
