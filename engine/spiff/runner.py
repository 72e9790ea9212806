"""Runs cycle instances: start, restore, complete human tasks, fire timers, report state.

Specs are parsed or deserialized once per definition version and cached; an instance is
restored from its own small state on every request and thrown away after it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from ..errors import ModelError, NotFound
from . import serializer
from .path import ProcessPath, passed_elements
from .sandbox import sandboxed_script_engine
from .timers import engine_time

Specs = tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]


@dataclass(frozen=True)
class HumanTask:
    """A ready user task, described in picycle's words."""

    id: str
    element_id: str
    title: str
    instructions: str | None
    candidate_group: str | None
    assignee: str | None
    due_at: datetime | None
    form_file: str | None
    rules: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class WaitingTimer:
    task_id: str
    element_id: str
    due_at: datetime


def _end_of_day(value: str) -> datetime:
    """A due date is the end of that day (UTC); a full timestamp is taken as it is."""
    parsed = datetime.fromisoformat(value) if "T" in value else None
    if parsed is None:
        return datetime.combine(date.fromisoformat(value), time(23, 59, 59), UTC)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@contextmanager
def _model_errors() -> Iterator[None]:
    try:
        yield
    except SpiffWorkflowException as error:
        # Spiff wraps the real reason (e.g. a refused script) and sometimes only chains it.
        detail = str(error)
        reason = error.__cause__ or error.__context__
        if reason is not None and str(reason) not in detail:
            detail = f"{detail}: {reason}"
        raise ModelError(f"the process model failed: {detail}") from error


class CycleInstance:
    """One running workflow; every method works at the time it is given."""

    def __init__(self, workflow: BpmnWorkflow):
        self._workflow = workflow

    @property
    def completed(self) -> bool:
        return self._workflow.completed

    def ready_human_tasks(self) -> list[HumanTask]:
        tasks = self._workflow.get_tasks(state=TaskState.READY, manual=True)
        with _model_errors():
            return [self._describe(task) for task in tasks]

    def human_task(self, task_id: str) -> HumanTask:
        with _model_errors():
            return self._describe(self._ready_task(task_id))

    def complete_task(self, task_id: str, data: dict[str, Any], now: datetime) -> None:
        task = self._ready_task(task_id)
        with _model_errors(), engine_time(now):
            task.data.update(data)
            task.run()
            self._workflow.do_engine_steps()

    def advance(self, now: datetime) -> None:
        with _model_errors(), engine_time(now):
            self._workflow.do_engine_steps()

    def fire_due_timers(self, now: datetime) -> list[WaitingTimer]:
        """Fire every timer due at ``now``; returns the timers that fired."""
        before = {t.task_id: t for t in self.waiting_timers()}
        with _model_errors(), engine_time(now):
            self._workflow.refresh_timers()
            self._workflow.do_engine_steps()
        still_waiting = {t.task_id for t in self.waiting_timers()}
        return [timer for task_id, timer in before.items() if task_id not in still_waiting]

    def waiting_timers(self) -> list[WaitingTimer]:
        timers = []
        for task in self._workflow.get_tasks(state=TaskState.WAITING):
            definition = getattr(task.task_spec, "event_definition", None)
            if not isinstance(definition, TimerEventDefinition):
                continue
            value = definition.details(task).value
            if isinstance(value, str):
                due = TimerEventDefinition.get_datetime(value)
                timers.append(WaitingTimer(str(task.id), task.task_spec.bpmn_id, due))
        return timers

    def cancel(self) -> None:
        self._workflow.cancel()

    def snapshot(self) -> dict[str, Any]:
        """What the cycle has recorded so far, for reading without restoring it."""
        last = self._workflow.last_task
        data = dict(last.data) if last is not None else {}
        data.update(self._workflow.data)
        return data

    def dump(self) -> str:
        return serializer.dump_state(self._workflow)

    def _ready_task(self, task_id: str):
        try:
            task = self._workflow.get_task_from_id(UUID(task_id))
        except (ValueError, SpiffWorkflowException):
            task = None
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise NotFound(f"task {task_id} is not open in this cycle")
        return task

    def _describe(self, task) -> HumanTask:
        spec = task.task_spec
        extensions = getattr(spec, "extensions", {}) or {}
        properties = extensions.get("properties", {})

        def evaluated(name: str) -> Any:
            expression = properties.get(name)
            if not expression:
                return None
            return self._workflow.script_engine.evaluate(task, expression)

        due = evaluated("dueDate")
        return HumanTask(
            id=str(task.id),
            element_id=spec.bpmn_id,
            title=evaluated("taskTitle") or spec.bpmn_name or spec.bpmn_id,
            instructions=extensions.get("instructionsForEndUser"),
            candidate_group=properties.get("candidateGroup") or spec.lane,
            assignee=evaluated("assignee"),
            due_at=_end_of_day(str(due)) if due else None,
            form_file=properties.get("formJsonSchemaFilename"),
            rules=properties.get("picycleRules"),
            data=task.data,
        )


class ProcessRunner:
    """Creates and restores instances; keeps deserialized specs by definition id."""

    def __init__(self, cache_size: int = 64, live_instances: int = 256):
        self._specs: OrderedDict[int, Specs] = OrderedDict()
        self._cache_size = cache_size
        self._live: OrderedDict[int, tuple[tuple[int, int], CycleInstance]] = OrderedDict()
        self._live_size = live_instances
        self._script_engine = sandboxed_script_engine()

    def checkout(
        self,
        cycle_id: int,
        version: tuple[int, int],
        definition_id: int,
        spec_text: Callable[[], str],
        state: str,
    ) -> CycleInstance:
        """The cycle's instance for exclusive use: the one kept after the last commit when
        it is still current (same revision and definition), else restored from ``state``."""
        kept = self._live.pop(cycle_id, None)
        if kept is not None and kept[0] == version:
            return kept[1]
        return self.restore(definition_id, spec_text, state)

    def checkin(self, cycle_id: int, version: tuple[int, int], instance: CycleInstance) -> None:
        """Keep an instance whose state was just committed as ``version``."""
        self._live[cycle_id] = (version, instance)
        if len(self._live) > self._live_size:
            self._live.popitem(last=False)

    def start(
        self, definition_id: int, spec_text: Callable[[], str], data: dict[str, Any], now: datetime
    ) -> CycleInstance:
        spec, subprocess_specs = self._cached_specs(definition_id, spec_text)
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self._script_engine)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
        instance = CycleInstance(workflow)
        instance.advance(now)
        return instance

    def restore(
        self, definition_id: int, spec_text: Callable[[], str], state: str
    ) -> CycleInstance:
        spec, subprocess_specs = self._cached_specs(definition_id, spec_text)
        workflow = serializer.load_state(state, spec, subprocess_specs)
        workflow.script_engine = self._script_engine
        return CycleInstance(workflow)

    def missing_elements(
        self, definition_id: int, spec_text: Callable[[], str], state: str
    ) -> list[str]:
        """Elements the instance has passed through or waits at that the definition lacks."""
        spec, subprocess_specs = self._cached_specs(definition_id, spec_text)
        missing = []
        for process_name, names in serializer.task_specs_in_state(state).items():
            target = spec if process_name is None else subprocess_specs.get(process_name)
            if target is None:
                missing.append(f"subprocess '{process_name}'")
                continue
            missing.extend(f"'{name}'" for name in sorted(names) if name not in target.task_specs)
        return missing

    def passed_elements(
        self, definition_id: int, spec_text: Callable[[], str], state: str
    ) -> ProcessPath:
        """The BPMN elements a stored instance has completed (how often, when) or is at now,
        read from its task tree on the cached spec; the instance is not run."""
        spec, subprocess_specs = self._cached_specs(definition_id, spec_text)
        return passed_elements(serializer.load_state(state, spec, subprocess_specs))

    def _cached_specs(self, definition_id: int, spec_text: Callable[[], str]) -> Specs:
        specs = self._specs.get(definition_id)
        if specs is None:
            specs = serializer.load_spec(spec_text())
            self._specs[definition_id] = specs
            if len(self._specs) > self._cache_size:
                self._specs.popitem(last=False)
        else:
            self._specs.move_to_end(definition_id)
        return specs
