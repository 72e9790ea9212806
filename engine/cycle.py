"""The cycle aggregate: one run of the method for one unit, with its open tasks and its
running workflow.

Loaded locked through the repository (``uow.cycles``), a cycle checks the rules, runs
SpiffWorkflow through the seam and records what happened as domain events; nothing else.
It does no I/O of its own: what it changed (its row, task rows, timers, events) is written
by the unit of work at commit.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from typing import Any, Protocol
from uuid import uuid4

from .actors import Actor, hidden, may_read, may_work, require_writer, why_not
from .errors import Conflict, Message, NotFound, PermissionDenied, ValidationFailed
from .forms import Form
from .inputs import require_text, title_problems
from .read_models import (
    CycleDetail,
    CycleSummary,
    IncidentView,
    TaskDetail,
    task_detail,
    task_summary,
)
from .rules import MAX_TITLE_LENGTH, RuleContext, apply_rules, next_cycle_start_problem
from .spiff.runner import CycleInstance, HumanTask, WaitingTimer
from .vocabulary import CycleStatus, EventType, TaskState

MAX_COMMENT_LENGTH = 10_000
MAX_REASON_LENGTH = 2000

# What a cycle has recorded, shown when present in its data.
RECORDS = (
    "indicators",
    "gaps",
    "microprojects",
    "implemented_microprojects",
    "evaluation",
    "targets_met",
    "lessons_learned",
    "standardised_practices",
    "next_cycle",
)
# The pending timer that starts the unit's next cycle, planned when a cycle completes.
NEXT_CYCLE_TIMER = "next_cycle"


@dataclass(frozen=True)
class NextCycle:
    """When the unit's next cycle starts, and its title: planned at the end of a cycle."""

    start_on: date
    title: str

    @property
    def due_at(self) -> datetime:
        return datetime.combine(self.start_on, time(0, 0), UTC)

    def recorded(self) -> dict[str, str]:
        """As the cycle's data keeps it."""
        return {"start_on": self.start_on.isoformat(), "title": self.title}


def planned_next(data: dict[str, Any]) -> NextCycle | None:
    """The next cycle a cycle's data plans (its model's ``next_cycle``), if any."""
    plan = data.get("next_cycle")
    if not isinstance(plan, dict):
        return None
    return NextCycle(date.fromisoformat(plan["start_on"]), plan["title"])


@dataclass(frozen=True)
class DefinitionRef:
    """The deployed process version a cycle runs on."""

    id: int
    process_id: str
    version: int
    deployment_id: int


@dataclass
class CycleRecord:
    id: int | None
    definition: DefinitionRef
    unit_id: int
    unit: str  # the unit's name
    title: str
    cycle_number: int
    previous_cycle_id: int | None
    status: CycleStatus
    started_at: datetime
    started_by: str
    ended_at: datetime | None
    data: dict[str, Any]


@dataclass
class TaskRecord:
    """One human task as the inbox index holds it."""

    id: str
    cycle_id: int | None
    unit_id: int | None
    element_id: str
    title: str
    instructions: str | None
    candidate_group: str | None
    assignee: str | None
    claimed_by: str | None
    state: TaskState
    created_at: datetime
    due_at: datetime | None
    ended_at: datetime | None
    completed_by: str | None
    form_file: str | None
    form_data: dict[str, Any]


@dataclass(frozen=True)
class Event:
    """A domain event, to be chained into the cycle's audit trail at commit."""

    type: EventType
    actor: str
    task_id: str | None = None
    element_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class Models(Protocol):
    """What a cycle needs of its process models: forms, and its state on another version."""

    def form(self, definition: DefinitionRef, form_file: str) -> Form: ...

    def missing_elements(self, definition: DefinitionRef, state: str) -> list[str]: ...

    def restore(self, definition: DefinitionRef, state: str) -> CycleInstance: ...


class Cycle:
    """Every method takes the acting user and works at the unit of work's ``now``."""

    def __init__(
        self,
        record: CycleRecord,
        open_tasks: dict[str, TaskRecord],
        workflow: CycleInstance | str,
        models: Models,
        now: datetime,
    ):
        """``workflow`` is the running instance, or its stored state, restored on first use."""
        self.record = record
        self.open_tasks = open_tasks
        self._instance = workflow if isinstance(workflow, CycleInstance) else None
        self._state = workflow if isinstance(workflow, str) else None
        self.attach(models, now)
        self.events: list[Event] = []
        self.changed_tasks: dict[str, TaskRecord] = {}
        self.workflow_changed = False
        self.timers: dict[str, WaitingTimer] | None = None
        self.timers_before: dict[str, WaitingTimer] = {}
        # Its data changed without the workflow running: a completed cycle's plan moved.
        self.records_changed = False

    def attach(self, models: Models, now: datetime) -> None:
        """Work in a new unit of work: its models (and database session), its time."""
        self._models = models
        self.now = now

    @classmethod
    def start(
        cls,
        record: CycleRecord,
        instance: CycleInstance,
        models: Models,
        actor: Actor,
    ) -> Cycle:
        cycle = cls(record, {}, instance, models, record.started_at)
        cycle.timers = {}  # a new cycle waits on no timer yet: every one it has is new
        cycle._record(
            EventType.CYCLE_STARTED,
            actor,
            process_id=record.definition.process_id,
            version=record.definition.version,
            unit=record.unit,
            unit_id=record.unit_id,
            title=record.title,
            cycle_number=record.cycle_number,
            previous_cycle=record.previous_cycle_id,
        )
        cycle._workflow_ran(actor)
        return cycle

    @property
    def id(self) -> int:
        assert self.record.id is not None, "a new cycle gets its id when it is added"
        return self.record.id

    @property
    def instance(self) -> CycleInstance:
        if self._instance is None:
            self._instance = self._models.restore(self.record.definition, self._state)
            self._state = None
        if self.timers is None:
            self.timers = self._instance.waiting()[1]
            self.timers_before = dict(self.timers)
        return self._instance

    def committed(self) -> None:
        """What was changed is written: start counting changes afresh, and let go of the
        unit of work (its session is closed; the next one attaches its own)."""
        self._models = None
        self.events = []
        self.changed_tasks = {}
        self.workflow_changed = False
        self.records_changed = False
        if self.timers is not None:
            self.timers_before = dict(self.timers)

    @property
    def running(self) -> bool:
        return self.record.status == CycleStatus.RUNNING

    def _timer_due(self) -> bool:
        """Whether a timer the workflow waits on is due now; unsure (its timers not read
        yet), it says so."""
        if self.timers is None:
            return True
        return any(timer.due_at <= self.now for timer in self.timers.values())

    # --- working tasks ------------------------------------------------------------------

    def claim(self, actor: Actor, task_id: str) -> TaskRecord:
        task = self._workable(actor, task_id, "claim")
        if task.claimed_by != actor.name:
            self._hold(actor, task)
        return task

    def unclaim(self, actor: Actor, task_id: str) -> TaskRecord:
        task = self._workable(actor, task_id, "unclaim")
        if task.claimed_by is None:
            raise Conflict(Message(f"task {task_id} is not claimed", "task_not_claimed"))
        previous = task.claimed_by
        task.claimed_by = None
        self._changed(task)
        self._record(EventType.TASK_UNCLAIMED, actor, task, previous_holder=previous)
        return task

    def give_back(self, actor: Actor, task_id: str, reason: str) -> None:
        """An admin's change to its holder means they may no longer work the task: it goes
        back to its group, unclaimed, with the ``reason`` in the trail."""
        task = self.open_tasks[task_id]
        previous = task.claimed_by
        task.claimed_by = None
        self._changed(task)
        self._record(EventType.TASK_UNCLAIMED, actor, task, previous_holder=previous, reason=reason)

    def complete(
        self,
        actor: Actor,
        task_id: str,
        data: dict[str, Any],
        existing_users: Callable[[Collection[str]], set[str]],
    ) -> TaskRecord:
        """Validate the form data (schema, then the method's rules) and move the cycle on."""
        task = self._workable(actor, task_id, "complete")
        if not isinstance(data, dict):
            raise ValidationFailed(
                "the form data must be a JSON object", {"data": ["not an object"]}
            )
        form = self._form(task.form_file)
        accepted = form.accept(data) if form else data
        rules, task_data = self.instance.rules_and_data(task_id)
        if rules:
            context = RuleContext(
                task_data=task_data, today=self.now.date(), existing_users=existing_users
            )
            accepted = apply_rules(rules, accepted, context)
        if task.claimed_by is None:
            self._hold(actor, task)
        self.instance.complete_task(task_id, accepted, self.now, self._timer_due())
        self._close(task, TaskState.COMPLETED, completed_by=actor.name)
        self._record(EventType.TASK_COMPLETED, actor, task, title=task.title, data=accepted)
        self._workflow_ran(actor)
        return task

    def comment_on(
        self, actor: Actor, task: TaskRecord, text: str, store: Callable[[str], int]
    ) -> int:
        """Comment on one of this cycle's tasks, open or closed: ``store`` keeps the text
        and returns the comment's id."""
        self._readable_by_writer(actor, task, "comment on a task")
        if not text.strip():
            empty = Message("must not be empty", "empty")
            raise ValidationFailed("a comment must not be empty", {"text": [empty]})
        if len(text) > MAX_COMMENT_LENGTH:
            limit = Message(
                f"at most {MAX_COMMENT_LENGTH} characters", "too_long", limit=MAX_COMMENT_LENGTH
            )
            raise ValidationFailed(f"the comment is too long: {limit}", {"text": [limit]})
        comment_id = store(text)
        self._record(EventType.TASK_COMMENTED, actor, task, comment_id=comment_id, text=text)
        return comment_id

    def attach_evidence(
        self, actor: Actor, task: TaskRecord, keep: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        """Attach a file to one of this cycle's tasks, open or closed: ``keep`` checks and
        keeps the file and returns what the trail records of it (name, size, type,
        SHA-256). Evidence is part of the record: it is never removed."""
        self._readable_by_writer(actor, task, "attach evidence to a task")
        facts = keep()
        self._record(EventType.EVIDENCE_ATTACHED, actor, task, **facts)
        return facts

    def _readable_by_writer(self, actor: Actor, task: TaskRecord, action: str) -> None:
        require_writer(actor, action)
        if hidden(actor, task):
            raise NotFound(Message(f"there is no task {task.id}", "no_task"))
        if not may_read(actor, task):
            text = f"task {task.id} is neither yours nor open to your groups"
            raise PermissionDenied(Message(text, "task_not_yours"))

    # --- the cycle as a whole -------------------------------------------------------------

    def cancel(self, actor: Actor, reason: str) -> None:
        if not self.running:
            raise Conflict(
                f"cycle #{self.id} is {self.record.status}; only a running cycle can be cancelled"
            )
        self.instance.cancel()
        self.record.status = CycleStatus.CANCELLED
        self.record.ended_at = self.now
        self._record(EventType.CYCLE_CANCELLED, actor, reason=reason)
        self._workflow_ran(actor)

    def fire_due_timers(self, actor: Actor) -> int:
        """Fire the timers due now; returns how many fired."""
        if not self.running:
            return 0
        fired = self.instance.fire_due_timers(self.now)
        for timer in fired:
            self.events.append(
                Event(
                    EventType.TIMER_FIRED,
                    actor.name,
                    timer.task_id,
                    timer.element_id,
                    {"due": timer.due_at.isoformat()},
                )
            )
        self._workflow_ran(actor)
        return len(fired)

    def next_cycle_started(self, actor: Actor, started: CycleSummary) -> None:
        self._record(
            EventType.NEXT_CYCLE_STARTED,
            actor,
            cycle=started.id,
            cycle_number=started.cycle_number,
            title=started.title,
        )

    def next_cycle_skipped(self, actor: Actor, reason: str) -> None:
        self._record(EventType.NEXT_CYCLE_SKIPPED, actor, reason=reason)

    # --- the next cycle it planned --------------------------------------------------------

    def change_plan(
        self,
        actor: Actor,
        pending: WaitingTimer | None,
        start_on: date | None = None,
        title: str | None = None,
    ) -> NextCycle:
        """Move the next cycle this completed cycle planned to ``start_on`` and/or retitle
        it, while it is still to come (``pending``: its timer, None once it started, was
        skipped or called off). The date follows the plan task's rule, by the engine's
        clock; a plan left as it was records nothing."""
        plan = self._pending_plan(pending, "changed")
        errors = title_problems(title=(title, MAX_TITLE_LENGTH)) if title is not None else {}
        problem = next_cycle_start_problem(start_on, self.now.date()) if start_on else None
        if problem is not None:
            errors["start_on"] = [problem]
        if errors:
            summary = "; ".join(f"{name}: {messages[0]}" for name, messages in errors.items())
            raise ValidationFailed(f"the planned cycle cannot be changed: {summary}", errors)
        changed = replace(
            plan,
            start_on=plan.start_on if start_on is None else start_on,
            title=plan.title if title is None else title,
        )
        if changed == plan:
            return plan
        self._replan(pending, changed)
        self._record(
            EventType.NEXT_CYCLE_SCHEDULED,
            actor,
            start_on=changed.start_on.isoformat(),
            title=changed.title,
            previous_start_on=plan.start_on.isoformat(),
            previous_title=plan.title,
        )
        return changed

    def call_off_plan(self, actor: Actor, pending: WaitingTimer | None, reason: str) -> NextCycle:
        """Call off the next cycle this completed cycle planned: it never starts by
        itself. The plan stays in the cycle's record; the trail says who called it off and
        why."""
        plan = self._pending_plan(pending, "called off")
        require_text(reason=(reason, MAX_REASON_LENGTH))
        self._replan(pending, None)
        self._record(EventType.NEXT_CYCLE_SKIPPED, actor, reason=reason, called_off=True)
        return plan

    def _pending_plan(self, pending: WaitingTimer | None, change: str) -> NextCycle:
        if self.record.status != CycleStatus.COMPLETED:
            text = (
                f"cycle #{self.id} is {self.record.status}; only a completed cycle's plan for "
                f"the next one can be {change}"
            )
            raise Conflict(Message(text, "cycle_not_completed", status=self.record.status))
        plan = planned_next(self.record.data)
        if plan is None or pending is None:
            text = (
                f"cycle #{self.id} has no next cycle waiting to start: it planned none, or the "
                "planned one has started, was skipped or was called off"
            )
            raise Conflict(Message(text, "no_pending_plan"))
        return plan

    def _replan(self, pending: WaitingTimer, plan: NextCycle | None) -> None:
        """Wait for ``plan`` instead of the pending one (for nothing when None). A completed
        cycle's workflow has stopped: its record and timer change, its state does not."""
        if self.timers is None:
            self.timers = {pending.task_id: pending}
            self.timers_before = dict(self.timers)
        del self.timers[pending.task_id]
        if plan is not None:
            self.timers[pending.task_id] = replace(pending, due_at=plan.due_at)
            self.record.data = {**self.record.data, "next_cycle": plan.recorded()}
            self.records_changed = True

    def incident_raised(self, actor: Actor, incident: IncidentView) -> None:
        """A step failed (nothing else of the attempt was kept): say so in the trail."""
        self.events.append(
            Event(
                EventType.INCIDENT_RAISED,
                actor.name,
                incident.task_id,
                incident.element_id,
                {
                    "incident": incident.id,
                    "action": incident.action,
                    "failures": incident.failures,
                    "message": incident.message,
                    "limit": incident.budget_limit,
                },
            )
        )

    def incident_resolved(self, actor: Actor, incident: IncidentView) -> None:
        self.events.append(
            Event(
                EventType.INCIDENT_RESOLVED,
                actor.name,
                incident.task_id,
                incident.element_id,
                {
                    "incident": incident.id,
                    "resolution": incident.resolution,
                    "reason": incident.reason,
                },
            )
        )

    def migration_problems(self, target: DefinitionRef) -> tuple[list[str], CycleInstance | None]:
        """Why the cycle cannot move to ``target`` (nothing when it can), and its instance
        restored on the target when it can."""
        if not self.running:
            return [f"the cycle is {self.record.status}"], None
        if target.id == self.record.definition.id:
            return [f"the cycle already runs on version {target.version}"], None
        state = self.instance.dump()
        missing = self._models.missing_elements(target, state)
        if missing:
            listed = ", ".join(missing)
            return [
                f"version {target.version} lacks elements the cycle has reached: {listed}"
            ], None
        moved = self._models.restore(target, state)
        problems = []
        ready = moved.waiting()[0]
        for task in self.open_tasks.values():
            if task.id not in ready:
                problems.append(f"open task '{task.title}' is not a user task in the target")
                continue
            described = moved.describe(task.id)
            if described.form_file:
                form = self._models.form(target, described.form_file)
                for path, messages in form.violations(form.starting_data(described.data)).items():
                    problems.append(
                        f"the data of open task '{task.title}' breaks the target's form at "
                        f"{path}: " + "; ".join(messages)
                    )
        return problems, None if problems else moved

    def migrate(self, actor: Actor, target: DefinitionRef, moved: CycleInstance) -> None:
        """Run on ``target`` from now on (checked by ``migration_problems``); the open
        tasks are described anew by the target's model."""
        source = self.record.definition
        self._instance = moved
        self.record.definition = target
        self._record(
            EventType.CYCLE_MIGRATED,
            actor,
            process_id=target.process_id,
            from_version=source.version,
            to_version=target.version,
        )
        for task in self.open_tasks.values():
            described = self._describe(moved.describe(task.id))
            fresh = replace(described, claimed_by=task.claimed_by, created_at=task.created_at)
            if fresh != task:
                self.open_tasks[task.id] = fresh
                self._changed(fresh)
        self._workflow_ran(actor)

    # --- reading --------------------------------------------------------------------------

    def summary(self) -> CycleSummary:
        record = self.record
        return CycleSummary(
            id=self.id,
            status=record.status,
            unit_id=record.unit_id,
            unit=record.unit,
            title=record.title,
            cycle_number=record.cycle_number,
            previous_cycle_id=record.previous_cycle_id,
            process_id=record.definition.process_id,
            version=record.definition.version,
            started_at=record.started_at,
            started_by=record.started_by,
            ended_at=record.ended_at,
        )

    def detail(self) -> CycleDetail:
        tasks = sorted(self.open_tasks.values(), key=lambda t: (t.created_at, t.id))
        return CycleDetail(
            **vars(self.summary()),
            open_tasks=[task_summary(t) for t in tasks],
            records=records_of(self.record.data),
        )

    def task_detail(self, task: TaskRecord) -> TaskDetail:
        return task_detail(task, self._form(task.form_file))

    # --- inside ---------------------------------------------------------------------------

    def _workable(self, actor: Actor, task_id: str, action: str) -> TaskRecord:
        """The open task, if ``actor`` may ``action`` it now."""
        require_writer(actor, f"{action} a task")
        task = self.open_tasks.get(task_id)
        if task is None:
            raise NotFound(
                Message(f"task {task_id} is not open in cycle #{self.id}", "task_not_open")
            )
        if hidden(actor, task):
            raise NotFound(Message(f"there is no task {task_id}", "no_task"))
        # Who may work it comes before who holds it: someone outside the task's group
        # learns that they may not, not who is busy with it.
        if not (may_work(actor, task) or actor.is_admin):
            raise PermissionDenied(why_not(actor, task))
        if task.claimed_by not in (None, actor.name) and not (
            action == "unclaim" and actor.is_admin
        ):
            raise Conflict(
                Message(
                    f"task {task_id} ('{task.title}') is held by {task.claimed_by}",
                    "task_held",
                    holder=task.claimed_by,
                )
            )
        return task

    def _hold(self, actor: Actor, task: TaskRecord) -> None:
        task.claimed_by = actor.name
        self._changed(task)
        self._record(EventType.TASK_CLAIMED, actor, task)

    def _close(self, task: TaskRecord, state: TaskState, completed_by: str | None = None) -> None:
        task.state = state
        task.ended_at = self.now
        task.completed_by = completed_by
        del self.open_tasks[task.id]
        self._changed(task)

    def _changed(self, task: TaskRecord) -> None:
        self.changed_tasks[task.id] = task

    def _workflow_ran(self, actor: Actor) -> None:
        """Bring the open tasks, timers, data and status in line with what the workflow now
        waits for; only tasks that became ready are described."""
        instance = self.instance
        self.workflow_changed = True
        ready, self.timers = instance.waiting()
        for task in list(self.open_tasks.values()):
            if task.id not in ready:
                self._close(task, TaskState.WITHDRAWN)
                self._record(EventType.TASK_WITHDRAWN, actor, task)
        for task_id in (task_id for task_id in ready if task_id not in self.open_tasks):
            task = self._describe(instance.describe(task_id))
            self.open_tasks[task.id] = task
            self._changed(task)
            self._record(
                EventType.TASK_CREATED,
                actor,
                task,
                title=task.title,
                candidate_group=task.candidate_group,
                assignee=task.assignee,
                due=task.due_at.isoformat() if task.due_at else None,
            )
        self.record.data = instance.snapshot()
        if instance.completed and self.running:
            self.record.status = CycleStatus.COMPLETED
            self.record.ended_at = self.now
            self._record(
                EventType.CYCLE_COMPLETED, actor, targets_met=self.record.data.get("targets_met")
            )
            self._schedule_next(actor)

    def _schedule_next(self, actor: Actor) -> None:
        """A completed cycle that planned the next one waits on one timer more: the worker
        starts the next cycle when it is due (engine/services/next_cycles.py)."""
        plan = planned_next(self.record.data)
        if plan is None:
            return
        timer = WaitingTimer(str(uuid4()), NEXT_CYCLE_TIMER, plan.due_at)
        self.timers[timer.task_id] = timer
        self._record(
            EventType.NEXT_CYCLE_SCHEDULED,
            actor,
            start_on=plan.start_on.isoformat(),
            title=plan.title,
        )

    def _describe(self, ready: HumanTask) -> TaskRecord:
        form = self._form(ready.form_file)
        return TaskRecord(
            id=ready.id,
            cycle_id=self.record.id,
            unit_id=self.record.unit_id,
            element_id=ready.element_id,
            title=ready.title,
            instructions=ready.instructions,
            candidate_group=ready.candidate_group,
            assignee=ready.assignee,
            claimed_by=None,
            state=TaskState.OPEN,
            created_at=self.now,
            due_at=ready.due_at,
            ended_at=None,
            completed_by=None,
            form_file=ready.form_file,
            form_data=form.starting_data(ready.data) if form else {},
        )

    def _form(self, form_file: str | None) -> Form | None:
        return self._models.form(self.record.definition, form_file) if form_file else None

    def _record(
        self, type: EventType, actor: Actor, task: TaskRecord | None = None, **data
    ) -> None:
        self.events.append(
            Event(
                type,
                actor.name,
                task.id if task else None,
                task.element_id if task else None,
                data,
            )
        )


def records_of(data: dict[str, Any]) -> dict[str, Any]:
    return {key: data[key] for key in RECORDS if key in data}
