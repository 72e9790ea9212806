"""Serialization of specs (once per definition version) and of instance state (per cycle).

SpiffWorkflow serializes the whole spec into every workflow; picycle stores the spec once
with its definition version and keeps only the instance's own state per cycle.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

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


_registry = BpmnWorkflowSerializer.configure(
    {**SPIFF_CONFIG, BpmnWorkflow: _StateOnlyWorkflowConverter}
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


def dump_state(workflow: BpmnWorkflow) -> str:
    return _serializer.serialize_json(workflow)


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
