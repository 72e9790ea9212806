"""Which BPMN elements an instance has passed through, read from its task tree.

SpiffWorkflow keeps every task it has created, with its state and the moment of its last
state change, so the tree of a restored instance says which elements completed, how often
and when, and which it is at now. Only BPMN elements count: task specs with a ``bpmn_id``,
not SpiffWorkflow's own Start, End, EndJoin and boundary-event split/join specs. A
multi-instance or loop activity counts once per run, as the activity (its instances are
SpiffWorkflow's child tasks of it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins import (
    BoundaryEventMixin,
    CallActivityMixin,
    EndEventMixin,
    EventBasedGatewayMixin,
    ExclusiveGatewayMixin,
    InclusiveGatewayMixin,
    IntermediateCatchEventMixin,
    IntermediateThrowEventMixin,
    ManualTaskMixin,
    NoneTaskMixin,
    ParallelGatewayMixin,
    ReceiveTaskMixin,
    ScriptTaskMixin,
    SendTaskMixin,
    ServiceTaskMixin,
    StartEventMixin,
    SubWorkflowTaskMixin,
    TransactionSubprocessMixin,
    UserTaskMixin,
)
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from SpiffWorkflow.util.task import TaskState

# Most specific first: a call activity is a SubWorkflowTask too, a send task a throwing event.
_ELEMENT_TYPES = [
    (UserTaskMixin, "userTask"),
    (ManualTaskMixin, "manualTask"),
    (BusinessRuleTaskMixin, "businessRuleTask"),
    (ServiceTaskMixin, "serviceTask"),
    (ScriptTaskMixin, "scriptTask"),
    (SendTaskMixin, "sendTask"),
    (ReceiveTaskMixin, "receiveTask"),
    (NoneTaskMixin, "task"),
    (CallActivityMixin, "callActivity"),
    (TransactionSubprocessMixin, "transaction"),
    (SubWorkflowTaskMixin, "subProcess"),
    (ExclusiveGatewayMixin, "exclusiveGateway"),
    (InclusiveGatewayMixin, "inclusiveGateway"),
    (ParallelGatewayMixin, "parallelGateway"),
    (EventBasedGatewayMixin, "eventBasedGateway"),
    (StartEventMixin, "startEvent"),
    (EndEventMixin, "endEvent"),
    (BoundaryEventMixin, "boundaryEvent"),
    (IntermediateCatchEventMixin, "intermediateCatchEvent"),
    (IntermediateThrowEventMixin, "intermediateThrowEvent"),
]
# Reached and not finished: at the element now. STARTED is a subprocess or a
# multi-instance activity under way.
_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass(frozen=True)
class ElementPassage:
    """One BPMN element and the instance's passages through it."""

    element_id: str
    name: str | None
    type: str
    times_completed: int
    first_completed_at: datetime | None
    last_completed_at: datetime | None
    active: bool


@dataclass(frozen=True)
class FlowPassage:
    """A connection the instance took from one element to the next, and how often."""

    source: str
    target: str
    times: int


@dataclass(frozen=True)
class ProcessPath:
    elements: list[ElementPassage]
    flows: list[FlowPassage]


def element_type(spec) -> str:
    for mixin, name in _ELEMENT_TYPES:
        if isinstance(spec, mixin):
            return name
    kind = type(spec).__name__
    return kind[:1].lower() + kind[1:]


class _Element:
    def __init__(self, element_id: str, name: str | None, kind: str):
        self.element_id = element_id
        self.name = name
        self.kind = kind
        self.completions: list[float] = []
        self.active = False

    def passage(self) -> ElementPassage:
        return ElementPassage(
            element_id=self.element_id,
            name=self.name,
            type=self.kind,
            times_completed=len(self.completions),
            first_completed_at=_moment(min(self.completions, default=None)),
            last_completed_at=_moment(max(self.completions, default=None)),
            active=self.active,
        )


def _moment(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


def _workflows(workflow: BpmnWorkflow) -> Iterator:
    yield workflow
    yield from workflow.subprocesses.values()


def _all_specs(workflow: BpmnWorkflow) -> Iterable:
    yield from workflow.spec.task_specs.values()
    for spec in workflow.subprocess_specs.values():
        yield from spec.task_specs.values()


def passed_elements(workflow: BpmnWorkflow) -> ProcessPath:
    """The elements the workflow has completed or is at, in the order first completed
    (elements only active now come last), and the connections it took between them, in
    the order of their source, then target, element."""
    # A loop or multi-instance activity and the spec of its instances share a bpmn_id;
    # the activity counts, named and typed as the element its instances are.
    instance_specs = {spec.task_spec for spec in _all_specs(workflow) if isinstance(spec, LoopTask)}
    elements: dict[str, _Element] = {}
    flows: dict[tuple[str, str], int] = {}
    for each in _workflows(workflow):
        for task in each.tasks.values():
            spec = task.task_spec
            if not _is_element(spec, instance_specs):
                continue
            completed = task.has_state(TaskState.COMPLETED)
            if not completed and not task.has_state(_ACTIVE):
                continue
            element = elements.get(spec.bpmn_id)
            if element is None:
                element = elements[spec.bpmn_id] = _describe(spec, each.spec.task_specs)
            if completed:
                element.completions.append(task.last_state_change)
            else:
                element.active = True
            source = _previous_element(task, instance_specs)
            if source is not None and not isinstance(spec, BoundaryEventMixin):
                flows[source, spec.bpmn_id] = flows.get((source, spec.bpmn_id), 0) + 1
    never = datetime.max.replace(tzinfo=UTC)
    passages = sorted(
        (element.passage() for element in elements.values()),
        key=lambda p: (p.first_completed_at or never, p.element_id),
    )
    order = {passage.element_id: n for n, passage in enumerate(passages)}
    last = len(order)
    taken = sorted(
        flows.items(), key=lambda item: (order.get(item[0][0], last), order.get(item[0][1], last))
    )
    return ProcessPath(
        elements=passages,
        flows=[FlowPassage(source, target, times) for (source, target), times in taken],
    )


def _is_element(spec, instance_specs: set[str]) -> bool:
    return bool(getattr(spec, "bpmn_id", None)) and spec.name not in instance_specs


def _describe(spec, task_specs) -> _Element:
    shown = task_specs.get(spec.task_spec, spec) if isinstance(spec, LoopTask) else spec
    return _Element(spec.bpmn_id, spec.bpmn_name or shown.bpmn_name, element_type(shown))


def _previous_element(task, instance_specs: set[str]) -> str | None:
    """The element before ``task`` in its tree, past SpiffWorkflow's own specs and the
    instances of a loop activity; None at the start of a (sub)process."""
    parent = task.parent
    while parent is not None:
        if _is_element(parent.task_spec, instance_specs):
            return parent.task_spec.bpmn_id
        parent = parent.parent
    return None
