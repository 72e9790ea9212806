"""Serialization of specs (once per definition version) and of instance state (per cycle).

SpiffWorkflow serializes the whole spec into every workflow; picycle stores the spec once
with its definition version and keeps only the instance's own state per cycle.

A cycle's state is written on every change, and most of its tasks are finished for good:
their JSON is kept between dumps of one instance (``FinishedTasks``) and spliced into the
next dump as it was, so a dump serializes only the tasks that can still change.
"""

from __future__ import annotations

import json
import re
import secrets
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .timers import STANDS_IN_FOR


class _StateOnlyWorkflowConverter(BpmnWorkflowConverter):
    """Leaves the spec out of the state; restoring takes the (cached) spec as arguments."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        # The base class's dict without converting the spec only to throw it away.
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], spec=None, subprocess_specs=None) -> BpmnWorkflow:
        # The base class's restore, with the cached specs in place of serialized ones.
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class FinishedTasks:
    """The JSON of an instance's tasks that can no longer change, by task id. A task is
    finished for good when it and its parent are finished (its data is then a fixed delta
    from its parent's); its JSON is reused only while its state, last change, trigger and
    children are the ones it was written with."""

    def __init__(self) -> None:
        self._json: dict[UUID, tuple[tuple, str]] = {}

    def json_of(self, task: Task, write: Any) -> str:
        key = (task.state, task.last_state_change, task.triggered, tuple(task._children))
        kept = self._json.get(task.id)
        if kept is None or kept[0] != key:
            kept = self._json[task.id] = (key, json.dumps(write(), cls=_serializer._encoder_cls))
        return kept[1]


class _Dump:
    """One dump in progress: the JSON of finished tasks stands in the dict as a marker
    (keyed by a token no task data can guess), replaced by the JSON itself once encoded."""

    def __init__(self, finished: FinishedTasks):
        self.finished = finished
        self.token = secrets.token_hex(8)
        self.texts: list[str] = []

    def marker(self, task: Task, write: Any) -> dict[str, int]:
        self.texts.append(self.finished.json_of(task, write))
        return {f"\0{self.token}": len(self.texts) - 1}

    def splice(self, encoded: str) -> str:
        def text(found: re.Match) -> str:
            token, number = found.groups()
            return self.texts[int(number)] if token == self.token else found.group(0)

        return _MARKER.sub(text, encoded)


# A marker as encoded; the registry adds the typename to it as to any converted object.
_MARKER = re.compile(r'\{"\\u0000([0-9a-f]{16})": (\d+), "typename": "[^"]*"\}')


_dump: ContextVar[_Dump | None] = ContextVar("picycle_dump", default=None)
_FINISHED = TaskState.FINISHED_MASK


class _TaskConverter(TaskConverter):
    """SpiffWorkflow's task conversion, but a task finished for good comes from the
    instance's ``FinishedTasks`` while a dump with them is in progress."""

    def to_dict(self, task: Task):
        dump = _dump.get()
        parent = task.parent
        if dump is None or not task.state & _FINISHED or (parent and not parent.state & _FINISHED):
            return super().to_dict(task)
        return dump.marker(task, lambda: self._with_typename(task))

    def _with_typename(self, task: Task) -> dict[str, Any]:
        # As the registry writes a converted task: its dict, then its typename.
        return {**super().to_dict(task), "typename": self.typename}


_registry = BpmnWorkflowSerializer.configure(
    {**SPIFF_CONFIG, BpmnWorkflow: _StateOnlyWorkflowConverter, Task: _TaskConverter}
)
# Specs keep SpiffWorkflow's timer names (the parser makes stock timers, and specs already
# stored say so), and every timer comes back as the one that reads the engine's clock.
for engine_clock_timer, stock_timer in STANDS_IN_FOR.items():
    TimerConditionalEventDefinitionConverter(
        engine_clock_timer, _registry, typename=stock_timer.__name__
    )
_serializer = BpmnWorkflowSerializer(_registry)


def dump_spec(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> str:
    return json.dumps(
        {
            "spec": _registry.convert(spec),
            "subprocess_specs": {
                name: _registry.convert(s) for name, s in subprocess_specs.items()
            },
        }
    )


def load_spec(text: str) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    dct = json.loads(text)
    subprocess_specs = {name: _registry.restore(s) for name, s in dct["subprocess_specs"].items()}
    return _registry.restore(dct["spec"]), subprocess_specs


def dump_state(workflow: BpmnWorkflow, finished: FinishedTasks | None = None) -> str:
    """The instance's state as JSON; with ``finished``, tasks finished for good are taken
    from (and added to) it instead of being serialized again."""
    if finished is None:
        return _serializer.serialize_json(workflow)
    dump = _Dump(finished)
    token = _dump.set(dump)
    try:
        return dump.splice(_serializer.serialize_json(workflow))
    finally:
        _dump.reset(token)


def load_state(
    text: str, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]
) -> BpmnWorkflow:
    dct = json.loads(text)
    _serializer.migrate(dct)
    return _serializer.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)


def task_specs_in_state(text: str) -> dict[str | None, set[str]]:
    """The task specs a stored instance refers to, by subprocess spec name (None: the
    process itself); an instance can only be restored on a spec that has them all."""
    dct = json.loads(text)
    needed: dict[str | None, set[str]] = {None: {t["task_spec"] for t in dct["tasks"].values()}}
    for subprocess in dct["subprocesses"].values():
        names = {t["task_spec"] for t in subprocess["tasks"].values()}
        needed.setdefault(subprocess["spec"], set()).update(names)
    return needed
