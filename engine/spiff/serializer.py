"""Serialization of specs (once per definition version) and of instance state (per cycle).

SpiffWorkflow serializes the whole spec into every workflow; picycle stores the spec once
with its definition version and keeps only the instance's own state per cycle.

A cycle's state is written on every change, and most of its tasks are finished for good or
have no data yet: their JSON is kept between dumps of one instance (``KeptEntries``) and
spliced into the next dump as it was, so a dump serializes only the tasks that changed.
"""

from __future__ import annotations

import json
import pickle
import re
import secrets
from contextvars import ContextVar
from copy import copy
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .timers import STANDS_IN_FOR


class _DumpsTaskMaps:
    """Workflow conversion whose task map, while a dump is in progress, is one marker that
    the dump replaces with the map's JSON (kept entries as kept)."""

    def mapping_to_dict(self, mapping, **kwargs):
        dump = _dump.get()
        if dump is None or not isinstance(next(iter(mapping.values()), None), Task):
            return super().mapping_to_dict(mapping, **kwargs)
        return dump.marker(mapping, self.registry)


class _StateOnlyWorkflowConverter(_DumpsTaskMaps, BpmnWorkflowConverter):
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


class _SubWorkflowConverter(_DumpsTaskMaps, BpmnSubWorkflowConverter):
    """A subprocess, its task map written as the process's is."""


_FINISHED = TaskState.FINISHED_MASK


class KeptEntries:
    """The JSON entries (``"id": {...}``) of an instance's tasks, by task id, for the tasks
    whose entry can be known unchanged without serializing them again:

    - a task finished for good: it and its parent are finished (its data is then a fixed
      delta from its parent's);
    - a blank task: no data of its own yet (a future or predicted task); its entry depends
      on its parent's data only through the names it lists as deleted.

    An entry is reused only while what it was written from is the same. A finished task's
    data is not changed in place afterwards: where a process can merge into a running task,
    running tasks hold theirs unshared (``unshared``), and the runner drops its entries
    after a run in which a join merged branches' data."""

    def __init__(self) -> None:
        self._entries: dict[UUID, tuple[tuple, str]] = {}

    def entry(self, task: Task, registry: Any) -> str:
        key = _written_from(task)
        if key is None:
            return _entry(task, registry)
        kept = self._entries.get(task.id)
        if kept is None or kept[0] != key:
            kept = self._entries[task.id] = (key, _entry(task, registry))
        return kept[1]


def _written_from(task: Task) -> tuple | None:
    """What the task's entry says that can still change, or None when its data can change
    in place (where no key would tell)."""
    parent = task.parent
    key = (task.state, task.last_state_change, task.triggered, tuple(task._children))
    if task.state & _FINISHED and (parent is None or parent.state & _FINISHED):
        return key
    if not task.data and not task.internal_data:
        return (*key, tuple(parent.data) if parent is not None else ())
    return None


def _entry(task: Task, registry: Any) -> str:
    # As json.dumps writes a mapping's item, so the dump is the full serialization's bytes.
    return f'"{task.id}": {_ENCODER.encode(registry.convert(task))}'


class _Dump:
    """One dump in progress: each task map stands in the dict as a marker (keyed by a
    token no task data can guess), replaced by the map's JSON once the rest is encoded."""

    def __init__(self, kept: KeptEntries):
        self.kept = kept
        self.token = secrets.token_hex(8)
        self.texts: list[str] = []

    def marker(self, tasks: dict[UUID, Task], registry: Any) -> dict[str, int]:
        entry = self.kept.entry
        self.texts.append("{" + ", ".join(entry(task, registry) for task in tasks.values()) + "}")
        return {f"\0{self.token}": len(self.texts) - 1}

    def splice(self, encoded: str) -> str:
        def text(found: re.Match) -> str:
            token, number = found.groups()
            return self.texts[int(number)] if token == self.token else found.group(0)

        return _MARKER.sub(text, encoded)


# A marker as encoded.
_MARKER = re.compile(r'\{"\\u0000([0-9a-f]{16})": (\d+)\}')


_dump: ContextVar[_Dump | None] = ContextVar("picycle_dump", default=None)


_registry = BpmnWorkflowSerializer.configure(
    {
        **SPIFF_CONFIG,
        BpmnWorkflow: _StateOnlyWorkflowConverter,
        BpmnSubWorkflow: _SubWorkflowConverter,
    }
)
# Specs keep SpiffWorkflow's timer names (the parser makes stock timers, and specs already
# stored say so), and every timer comes back as the one that reads the engine's clock.
for engine_clock_timer, stock_timer in STANDS_IN_FOR.items():
    TimerConditionalEventDefinitionConverter(
        engine_clock_timer, _registry, typename=stock_timer.__name__
    )
_serializer = BpmnWorkflowSerializer(_registry)
# One encoder for every task entry: it keeps no state between calls, and making one per
# entry (as json.dumps does) costs about as much as encoding a task.
_ENCODER = _serializer._encoder_cls()


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


def dump_state(workflow: BpmnWorkflow, kept: KeptEntries | None = None) -> str:
    """The instance's state as JSON; with ``kept``, the entries of tasks it can vouch for
    are taken from (and added to) it instead of being serialized again."""
    if kept is None:
        return _serializer.serialize_json(workflow)
    dump = _Dump(kept)
    token = _dump.set(dump)
    try:
        return dump.splice(_serializer.serialize_json(workflow))
    finally:
        _dump.reset(token)


def as_restored(data: dict[str, Any], inherited: dict[str, Any]) -> dict[str, Any]:
    """A task's ``data`` as the task comes back from its state, its parent holding
    ``inherited``: a task is stored as the values that differ (!=) from its parent's, so a
    value equal to the parent's comes back as the parent's (1 where a script wrote 1.0, true
    where it wrote 1), in the parent's order of names, its lists and mappings copied one
    level deep. SpiffWorkflow's own restore (``DeepMerge``) in one pass: it would copy the
    parent's values that the task's replace, only to drop the copies."""
    restored = {}
    for name, value in inherited.items():
        if name not in data:
            continue
        mine = data[name]
        if mine != value:
            restored[name] = mine
        elif isinstance(value, (dict, list, set)):
            restored[name] = copy(value)
        else:
            restored[name] = value
    for name, mine in data.items():
        if name not in inherited:
            restored[name] = mine
    return restored


def unshared(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of plain ``data`` that shares no list or mapping with any other task's (see
    ``runner.merges_in_place``)."""
    # A copy in memory, never stored: pickle reads back only the bytes it just wrote, from
    # data already plain, and copies it faster than a JSON round trip.
    return pickle.loads(pickle.dumps(data, pickle.HIGHEST_PROTOCOL))


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
