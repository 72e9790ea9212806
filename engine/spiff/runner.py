"""Runs cycle instances: start, restore, complete human tasks, fire timers, report state.

Specs are deserialized once per definition version and cached. Every run ends by turning
the task data it changed into plain JSON (tuples become lists, dict keys strings), so an
instance kept in memory between requests holds exactly what restoring its dumped state
would give: a model cannot decide differently depending on which process serves it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from time import time as wall_seconds
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import AdHocSubprocessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask, MultiInstanceTask
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState

from ..cache import LruCache
from ..errors import Message, ModelError, NotFound, ValidationFailed
from . import serializer
from .budget import BudgetExceeded, metered
from .limits import DEFAULT_LIMITS, ModelLimits
from .path import ProcessPath, passed_elements
from .plain_data import RESERVED_KEY, plain, plain_sized, reserved_key_path
from .sandbox import sandboxed_script_engine
from .timers import engine_time
from .watchdog import WATCHDOG

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


def _over_budget(error: BaseException) -> BudgetExceeded | None:
    while error is not None and not isinstance(error, BudgetExceeded):
        error = error.__cause__ or error.__context__
    return error


@contextmanager
def _model_errors() -> Iterator[None]:
    try:
        yield
    except SpiffWorkflowException as error:
        spec = getattr(error, "task_spec", None)
        element_id = getattr(spec, "bpmn_id", None)
        exceeded = _over_budget(error)
        if exceeded is not None:
            where = f"'{element_id}'" if element_id else "a step"
            raise ModelError(
                f"the process model failed at {where}: {_over(exceeded)}",
                element_id,
                exceeded.limit,
            ) from error
        # Spiff wraps the real reason (e.g. a refused script) and sometimes only chains it.
        detail = str(error)
        reason = error.__cause__ or error.__context__
        if reason is not None and str(reason) not in detail:
            detail = f"{detail}: {reason}"
        raise ModelError(f"the process model failed: {detail}", element_id) from error
    except BudgetExceeded as exceeded:  # between two steps: the run as a whole
        raise ModelError(
            f"the process model failed: {_over(exceeded)}", limit=exceeded.limit
        ) from exceeded


def _over(exceeded: BudgetExceeded) -> str:
    setting = f" ({exceeded.limit} sets the limit)" if exceeded.limit else ""
    return f"{exceeded}; the step was not taken{setting}"


class CycleInstance:
    """One running workflow; every method works at the time it is given."""

    def __init__(self, workflow: BpmnWorkflow, limits: ModelLimits):
        self._workflow = workflow
        self._entries = serializer.KeptEntries()
        self._limits = limits
        self._unshare = merges_in_place(workflow.spec, workflow.subprocess_specs)
        if self._unshare:  # restored from deltas, tasks share their parents' values
            for task in self._tasks():
                if task.data and not task.state & TaskState.FINISHED_MASK:
                    task.data = serializer.unshared(task.data)
        # Each task's data as JSON is at most this long, by task id (_normalise_data_since).
        self._data_sizes: dict[UUID, int] = {}

    @property
    def completed(self) -> bool:
        return self._workflow.completed

    def waiting(self) -> tuple[dict[str, None], dict[str, WaitingTimer]]:
        """What the instance waits for, in one pass over its tasks: the ids of the user
        tasks ready for someone (not described), in the order the instance made them (a
        design's microprojects in the design's order), and its timers by task id."""
        ready: dict[str, None] = {}
        timers = {}
        for task in self._tasks():
            if task.state == TaskState.READY and task.task_spec.manual:
                ready[str(task.id)] = None
            elif task.state == TaskState.WAITING:
                timer = _timer(task)
                if timer is not None:
                    timers[timer.task_id] = timer
        return ready, timers

    def describe(self, task_id: str) -> HumanTask:
        """A ready user task in picycle's words (its title, assignee and due date are the
        model's expressions, evaluated now)."""
        with _model_errors(), metered(self._limits):
            return self._describe(self._ready_task(task_id))

    def rules_and_data(self, task_id: str) -> tuple[str | None, dict[str, Any]]:
        """The method's rules a ready user task names (None: none) and its data: what
        checking a submitted form needs, without evaluating the task's expressions."""
        task = self._ready_task(task_id)
        return _properties(task.task_spec).get("picycleRules"), task.data

    def complete_task(
        self, task_id: str, data: dict[str, Any], now: datetime, timers_due: bool = True
    ) -> None:
        """Complete a ready user task. ``timers_due`` False says no timer of the instance is
        due at ``now``, which spares a pass over its tasks looking for one."""
        self._ready_task(task_id)
        _refuse_reserved_key(data)
        with self._run(now):
            if timers_due:
                # Timers already due fire first, as the worker would have fired them: fired
                # after the step, one could still act on a part of the model the step closed.
                self._workflow.refresh_timers()
                self._workflow.do_engine_steps()
            task = self._ready_task(task_id)
            task.data.update(data)
            task.run()
            self._workflow.do_engine_steps()

    def advance(self, now: datetime) -> None:
        with self._run(now):
            self._workflow.do_engine_steps()

    def fire_due_timers(self, now: datetime) -> list[WaitingTimer]:
        """Fire every timer due at ``now``; returns the timers that fired."""
        before = self.waiting()[1]
        with self._run(now):
            self._workflow.refresh_timers()
            self._workflow.do_engine_steps()
        still_waiting = self.waiting()[1]
        return [timer for task_id, timer in before.items() if task_id not in still_waiting]

    def _tasks(self) -> Iterator[SpiffTask]:
        """Every task of the instance and its subprocesses. Read from their task maps, not
        SpiffWorkflow's tree iterator: cheaper, and blind to no depth."""
        yield from self._workflow.tasks.values()
        for subprocess in self._workflow.subprocesses.values():
            yield from subprocess.tasks.values()

    def cancel(self) -> None:
        self._workflow.cancel()

    def snapshot(self) -> dict[str, Any]:
        """What the cycle has recorded so far, for reading without restoring it."""
        last = self._workflow.last_task
        data = dict(last.data) if last is not None else {}
        data.update(self._workflow.data)
        return data

    def dump(self) -> str:
        return serializer.dump_state(self._workflow, self._entries)

    @contextmanager
    def _run(self, now: datetime) -> Iterator[None]:
        started = wall_seconds()
        # The frame that called _run: the contextmanager's __enter__ is frame 1.
        caller = sys._getframe(2)
        with _model_errors(), engine_time(now), metered(self._limits) as meter:
            with WATCHDOG.watching(meter, caller):
                yield
            meter.check()
        joined = _normalise_data_since(
            self._workflow,
            started,
            self._limits.task_data_bytes,
            self._data_sizes,
            unshare_running=self._unshare,
        )
        if joined:
            self._entries = serializer.KeptEntries()

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
        extensions = _extensions(spec)
        properties = _properties(spec)

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
            data=task.data,
        )


def _extensions(spec: Any) -> dict[str, Any]:
    return getattr(spec, "extensions", {}) or {}


def _properties(spec: Any) -> dict[str, Any]:
    return _extensions(spec).get("properties", {})


def _timer(task: SpiffTask) -> WaitingTimer | None:
    definition = getattr(task.task_spec, "event_definition", None)
    if not isinstance(definition, TimerEventDefinition):
        return None
    value = definition.details(task).value
    if not isinstance(value, str):
        return None
    due = TimerEventDefinition.get_datetime(value)
    return WaitingTimer(str(task.id), task.task_spec.bpmn_id, due)


def _normalise_data_since(
    workflow: BpmnWorkflow,
    started: float,
    max_bytes: int,
    sizes: dict[UUID, int],
    *,
    unshare_running: bool,
) -> bool:
    """Plain JSON in every task (and data object) a run touched: those it changed state, and
    those still running (a multi-instance or subprocess task gathers its children's data
    without changing state). A task whose data equals its parent's (plain already: parents
    come first) is plain too, since no tuple, set, date or non-text key equals its JSON.
    Each then holds its data as restoring it would give it (``serializer.as_restored``);
    with ``unshare_running``, one still running holds it unshared with any other task
    (``merges_in_place``).
    ``sizes`` keeps how long each task's data is as JSON, or a bound above it. A finished
    (sub)process whose tasks the run did not touch keeps its data as it was: only its own
    tasks and its subprocesses' (all finished too) can write it.

    Returns whether a join merged other branches' data as it ran (``_merged_branches``):
    SpiffWorkflow merges each branch's data into the join in place, and nested values it
    took by reference from one branch are merged into from the next, which changes the data
    of a task that finished in an earlier run."""
    joined = False
    for flow in (workflow, *workflow.subprocesses.values()):
        touched = False
        for task in flow.tasks.values():
            if task.last_state_change < started and task.state != TaskState.STARTED:
                continue
            touched = True
            joined = joined or _merged_branches(task)
            parent = task.parent
            if parent is None:
                sizes[task.id] = _made_plain(task, max_bytes, None)
            elif task.data == parent.data:
                # As long as its parent; an earlier size of its own no longer holds.
                if parent.id in sizes:
                    sizes[task.id] = sizes[parent.id]
                else:
                    sizes.pop(task.id, None)
            else:
                sizes[task.id] = _made_plain(task, max_bytes, sizes.get(parent.id))
            if parent is not None and task.data:
                task.data = serializer.as_restored(task.data, parent.data)
            if unshare_running and task.data and not task.state & TaskState.FINISHED_MASK:
                task.data = serializer.unshared(task.data)
        if flow.data and (touched or not flow.completed):
            flow.data = plain(flow.data, "the process's data objects", max_bytes)
    return joined


def merges_in_place(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> bool:
    """Whether SpiffWorkflow can merge data into a running task of the process in place: a
    loop or a multi-instance task gathering its instances' data (rather than their output
    items into a collection), or an ad hoc subprocess.

    SpiffWorkflow gives a task its parent's values by shallow copy, so nested lists and
    mappings are shared down the tree, and such a merge writes into them: into the data of
    tasks finished long before, whose JSON a dump reuses (``serializer.KeptEntries``) and
    which a restored instance holds as they were. In such a process every running task
    holds its data unshared; elsewhere sharing costs nothing and saves deep comparisons."""
    for process in (spec, *subprocess_specs.values()):
        if isinstance(process, AdHocSubprocessSpec):
            return True
        for task_spec in process.task_specs.values():
            if isinstance(task_spec, LoopTask) and not (
                isinstance(task_spec, MultiInstanceTask)
                and task_spec.data_output is not None
                and task_spec.output_item is not None
            ):
                return True
    return False


def _merged_branches(task: SpiffTask) -> bool:
    """Whether the task is a join (a gateway's, or the end of a process reached on several
    paths) that merged other branches' data into its own as it ran."""
    spec = task.task_spec
    if task.state != TaskState.COMPLETED or not isinstance(spec, UnstructuredJoin):
        return False
    return any(
        other.task_spec is spec
        and other is not task
        and other.state & TaskState.FINISHED_MASK
        and not task.is_descendant_of(other)
        for other in task.workflow.tasks.values()
    )


def _refuse_reserved_key(data: dict[str, Any]) -> None:
    """ValidationFailed naming the field when submitted data holds a key that would make
    the cycle fail to load (``plain_data.RESERVED_KEY``)."""
    path = reserved_key_path(data)
    if path is not None:
        field = ".".join(str(step) for step in [*path, RESERVED_KEY])
        message = Message(f"no field may be named '{RESERVED_KEY}'", "reserved_name")
        raise ValidationFailed(f"{field}: {message}", {field: [message]})


def _made_plain(task: SpiffTask, max_bytes: int, parent_size: int | None) -> int:
    """Make the task's data plain; returns its length as JSON, or a bound above it. A task
    mostly differs from its parent in a few variables: with the parent's size known, only
    those are made plain, and the task is at most as long as its parent and they together
    (over the limit, the whole data is measured)."""
    element_id = task.task_spec.bpmn_id
    where = f"the data of '{element_id}'"
    try:
        if parent_size is not None:
            inherited = task.parent.data
            changed = {
                key: value
                for key, value in task.data.items()
                if key not in inherited or inherited[key] != value
            }
            if all(isinstance(key, str) for key in changed):
                # Over the limit or not is judged on the whole.
                values, size = plain_sized(changed, where, None)
                if parent_size + size <= max_bytes:
                    task.data.update(values)
                    return parent_size + size
        task.data, size = plain_sized(task.data, where, max_bytes)
        return size
    except ModelError as refused:
        raise ModelError(str(refused), element_id, refused.limit) from refused


class ProcessRunner:
    """Creates and restores instances; keeps deserialized specs by definition id. Shared by
    every request thread: the cache is thread-safe, and specs are only read once built."""

    def __init__(self, cache_size: int = 64, limits: ModelLimits = DEFAULT_LIMITS):
        self._specs: LruCache[int, Specs] = LruCache(cache_size)
        self.limits = limits
        self._script_engine = sandboxed_script_engine(limits)

    def start(
        self, definition_id: int, spec_text: Callable[[], str], data: dict[str, Any], now: datetime
    ) -> CycleInstance:
        spec, subprocess_specs = self._cached_specs(definition_id, spec_text)
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self._script_engine)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(plain(data, "the cycle's starting data", self.limits.task_data_bytes))
        instance = CycleInstance(workflow, self.limits)
        instance.advance(now)
        return instance

    def restore(
        self, definition_id: int, spec_text: Callable[[], str], state: str
    ) -> CycleInstance:
        spec, subprocess_specs = self._cached_specs(definition_id, spec_text)
        workflow = serializer.load_state(state, spec, subprocess_specs)
        workflow.script_engine = self._script_engine
        return CycleInstance(workflow, self.limits)

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
        return self._specs.get_or_load(definition_id, lambda: serializer.load_spec(spec_text()))
