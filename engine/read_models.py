"""What services return: plain, immutable data, never ORM rows.

The API's schemas and the CLI's printers read these; nothing here touches the database
or SpiffWorkflow, so a read model stays valid after its unit of work has closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from .texts import Catalog
from .vocabulary import (
    CycleStatus,
    EventType,
    IncidentAction,
    IncidentResolution,
    Role,
    TaskState,
)

Item = TypeVar("Item")

# The largest id (of a cycle, user, unit, event, ...): ids are 32-bit integers on
# PostgreSQL, so a larger number names nothing and is refused before it is looked up.
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Page(Generic[Item]):
    """One page of a longer list; ``total`` counts every match."""

    items: Sequence[Item]
    total: int


@dataclass(frozen=True)
class TaskSummary:
    """A human task as an inbox lists it."""

    id: str
    cycle_id: int
    element_id: str
    title: str
    candidate_group: str | None
    assignee: str | None
    claimed_by: str | None
    state: TaskState
    created_at: datetime
    due_at: datetime | None


@dataclass(frozen=True)
class TaskDetail(TaskSummary):
    """A task with what its page shows: instructions, form and the data it starts from."""

    instructions: str | None
    ended_at: datetime | None
    completed_by: str | None
    form_name: str | None
    form_schema: dict[str, Any] | None
    form_data: dict[str, Any]
    unit_id: int | None  # its cycle's unit, which decides who may work it


def task_summary(task: Any) -> TaskSummary:
    """A task (a record, an ORM row or a Core row) as the inbox shows it."""
    return TaskSummary(
        id=task.id,
        cycle_id=task.cycle_id,
        element_id=task.element_id,
        title=task.title,
        candidate_group=task.candidate_group,
        assignee=task.assignee,
        claimed_by=task.claimed_by,
        state=TaskState(task.state),
        created_at=task.created_at,
        due_at=task.due_at,
    )


def task_detail(task: Any, form: Any | None) -> TaskDetail:
    """A task with its form (a ``Form``, or None when the task has none)."""
    return TaskDetail(
        **vars(task_summary(task)),
        instructions=task.instructions,
        ended_at=task.ended_at,
        completed_by=task.completed_by,
        form_name=form.name if form else None,
        form_schema=form.schema if form else None,
        form_data=task.form_data,
        unit_id=task.unit_id,
    )


@dataclass(frozen=True)
class CycleSummary:
    id: int
    status: CycleStatus
    unit_id: int
    unit: str
    title: str
    cycle_number: int
    previous_cycle_id: int | None
    process_id: str
    version: int
    started_at: datetime
    started_by: str
    ended_at: datetime | None


@dataclass(frozen=True)
class CycleDetail(CycleSummary):
    """A cycle with its open tasks and what it has recorded so far (indicators, gaps,
    microprojects, evaluation...)."""

    open_tasks: Sequence[TaskSummary]
    records: dict[str, Any]


@dataclass(frozen=True)
class NextCycle:
    """What a unit's next cycle would start as, seeded as ``start_cycle`` would seed it
    now: its number, the indicators it carries on (with the latest actuals as baselines)
    and the completed cycle they come from. ``running_cycle_id``: a cycle of the unit still
    running, while no next one can start."""

    unit_id: int
    unit: str
    cycle_number: int
    previous_cycle_id: int | None
    seeded_from_id: int | None
    seeded_from_number: int | None
    indicators: Sequence[dict[str, Any]]
    running_cycle_id: int | None


@dataclass(frozen=True)
class PlannedCycle:
    """The next cycle a completed cycle planned. ``pending`` while it is still to start by
    itself on ``start_on``; ``may_change``: the reader may move, retitle or call it off;
    ``followed_by`` (and its number in the unit): the unit's cycle that came after it, once
    one started (the plan's or another), if the reader may see it."""

    cycle_id: int
    start_on: date
    title: str
    pending: bool
    may_change: bool
    followed_by: int | None = None
    followed_by_number: int | None = None


@dataclass(frozen=True)
class ProcessTexts:
    """A process version's texts in one language: ``text`` gives a text of the model in
    it, else its English label, else the text as the model has it."""

    translations: Catalog
    english: Catalog

    def text(self, source: Any) -> Any:
        if not isinstance(source, str):
            return source
        return self.translations.translate(source) or self.english.translate(source) or source


NO_TEXTS = ProcessTexts(Catalog({}), Catalog({}))


@dataclass(frozen=True)
class MembershipView:
    """A group a user is a member of, in a unit (and every unit below it) or, with
    ``unit_id`` None, in the whole organisation."""

    group: str
    unit_id: int | None
    unit: str | None  # the unit's name


@dataclass(frozen=True)
class UserView:
    name: str
    role: Role
    groups: Sequence[str]  # held in the whole organisation
    memberships: Sequence[MembershipView]
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class UnitView:
    id: int
    name: str
    parent_id: int | None
    active: bool
    created_at: datetime
    path: Sequence[str]  # the names from the top of the tree down to this unit


@dataclass(frozen=True)
class UnitMember:
    """A user whose membership covers a unit: held in it, or in a unit above it."""

    user: str
    group: str
    held_in_id: int | None  # None: the whole organisation
    held_in: str | None


@dataclass(frozen=True)
class NewUser:
    """A user just added, with their first API token: shown once, stored only hashed."""

    user: UserView
    token: str


@dataclass(frozen=True)
class IssuedToken:
    """A new API token of the user named: shown once, stored only hashed."""

    user: str
    token: str


@dataclass(frozen=True)
class TokenView:
    """An API token as kept: when it was issued and revoked, never the token itself."""

    id: int
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class LinkView:
    """A user's identity at the single sign-on provider, and when it was linked."""

    user: str
    issuer: str
    subject: str
    linked_at: datetime


@dataclass(frozen=True)
class RevokedTokens:
    user: str
    revoked: int


@dataclass(frozen=True)
class CommentView:
    id: int
    task_id: str
    author: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class EvidenceView:
    """A file attached to a task; its content is fetched on its own (``open_evidence``)."""

    id: int
    task_id: str
    cycle_id: int
    name: str
    media_type: str
    size: int
    sha256: str
    attached_by: str
    attached_at: datetime


@dataclass(frozen=True)
class EvidenceFile:
    """An evidence file's content, to download."""

    evidence: EvidenceView
    content: bytes


@dataclass(frozen=True)
class TaskEvidence:
    """The evidence of one task of a cycle, for the cycle's page."""

    task_id: str
    title: str
    items: list[EvidenceView]


@dataclass(frozen=True)
class EvidenceDamage:
    """An evidence file the audit trail recorded that is no longer kept as it was."""

    evidence_id: int
    name: str
    task_id: str
    cycle_id: int
    reason: str


@dataclass(frozen=True)
class DefinitionView:
    """One deployed version of a process."""

    process_id: str
    version: int
    name: str
    deployed_at: datetime
    deployed_by: str
    content_hash: str


@dataclass(frozen=True)
class DefinitionFile:
    name: str
    size: int


@dataclass(frozen=True)
class DefinitionDetail(DefinitionView):
    files: Sequence[DefinitionFile]


@dataclass(frozen=True)
class VersionDiagram:
    """The BPMN file, as deployed, that draws a version of a process."""

    process_id: str
    version: int
    file: str
    xml: str


@dataclass(frozen=True)
class AuditEventView:
    seq: int
    at: datetime
    actor: str
    type: EventType | str
    cycle_id: int | None
    task_id: str | None
    element_id: str | None
    data: dict[str, Any]
    hash: str


@dataclass(frozen=True)
class StepDone:
    """A step of a cycle a person recognises: its start, a task completed (``title`` as
    the task had it), its end; at the engine's time, as the history records it."""

    at: datetime
    actor: str
    type: EventType
    element_id: str | None
    title: str | None


@dataclass(frozen=True)
class EventSlice:
    """A page of audit events, newest first, read by keyset (by time and ``seq``, never by
    offset, so a page deep in a large trail is read as quickly as the first, and events
    recorded meanwhile do not shift it). ``older``: the ``before`` of the next page;
    ``newer``: the ``after`` of the previous one; None where there is none."""

    items: Sequence[AuditEventView]
    older: int | None
    newer: int | None


@dataclass(frozen=True)
class MigrationPlan:
    """Whether a cycle can move to another version of its process, and whether it did."""

    cycle_id: int
    from_version: int
    to_version: int
    problems: Sequence[str] = field(default_factory=tuple)
    migrated: bool = False

    @property
    def possible(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class IncidentView:
    """A failed model step: what was attempted, why it failed, how it ended."""

    id: int
    cycle_id: int
    action: IncidentAction
    task_id: str | None
    element_id: str | None
    attempted_by: str
    message: str
    budget_limit: str | None
    failures: int
    raised_at: datetime
    last_failed_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: IncidentResolution | None
    reason: str | None


def incident_view(row: Any) -> IncidentView:
    return IncidentView(
        id=row.id,
        cycle_id=row.cycle_id,
        action=IncidentAction(row.action),
        task_id=row.task_id,
        element_id=row.element_id,
        attempted_by=row.attempted_by,
        message=row.message,
        budget_limit=row.budget_limit,
        failures=row.failures,
        raised_at=row.raised_at,
        last_failed_at=row.last_failed_at,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        resolution=IncidentResolution(row.resolution) if row.resolution else None,
        reason=row.reason,
    )


# --- results across cycles (engine/services/results.py) ------------------------------------


def share(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` as a fraction; None when there is nothing to share."""
    return part / whole if whole else None


@dataclass(frozen=True)
class IndicatorResult:
    """One indicator in one cycle: where it started, where it was to go, where it got.
    ``measure`` is its unit of measurement; ``actual`` and ``met`` are None until the
    cycle's evaluation measures it."""

    key: str
    name: str
    measure: str | None
    direction: str
    baseline: float | None
    target: float | None
    actual: float | None
    met: bool | None


@dataclass(frozen=True)
class CycleResult:
    """What one cycle achieved. A gap is found where an indicator's baseline misses its
    target, and closed when the evaluation measured it at its target. A microproject is
    due once its due date has passed or its owner has reported, and on time when the owner
    reported by the due date."""

    cycle_id: int
    unit_id: int
    unit: str
    cycle_number: int
    title: str
    status: CycleStatus
    started_at: datetime
    ended_at: datetime | None
    targets_met: bool | None
    indicators: Sequence[IndicatorResult]
    gaps_found: int
    gaps_closed: int
    microprojects: int
    done: int  # reported done (not partly, not not-done)
    due: int
    on_time: int


@dataclass(frozen=True)
class TrendPoint:
    cycle_id: int
    cycle_number: int
    baseline: float | None
    target: float | None
    actual: float | None
    met: bool | None


@dataclass(frozen=True)
class IndicatorTrend:
    """One unit's indicator cycle after cycle (name, measure and direction as its latest
    cycle has them)."""

    unit_id: int
    unit: str
    key: str
    name: str
    measure: str | None
    direction: str
    points: Sequence[TrendPoint]


@dataclass(frozen=True)
class PhaseTime:
    """How long the tasks of one step of the process took, from ready to completed."""

    element_id: str
    name: str
    tasks: int
    median_seconds: float
    slowest_seconds: float
    slowest_cycle_id: int


@dataclass(frozen=True)
class Participant:
    """Someone who started a cycle or completed one of its tasks."""

    name: str
    cycles: int
    tasks_completed: int


@dataclass(frozen=True)
class UnitResults:
    """A unit's results across its cycles and, with ``below``, those of every unit below
    it; as of ``as_of``."""

    unit_id: int
    unit: str
    path: Sequence[str]
    below: bool
    as_of: datetime
    cycles: Sequence[CycleResult]
    indicators: Sequence[IndicatorTrend]
    phases: Sequence[PhaseTime]
    people: Sequence[Participant]
    overdue: Sequence[TaskSummary]

    @property
    def gaps_found(self) -> int:
        return sum(cycle.gaps_found for cycle in self.cycles)

    @property
    def gaps_closed(self) -> int:
        return sum(cycle.gaps_closed for cycle in self.cycles)

    @property
    def microprojects_due(self) -> int:
        return sum(cycle.due for cycle in self.cycles)

    @property
    def on_time(self) -> int:
        return sum(cycle.on_time for cycle in self.cycles)

    @property
    def on_time_share(self) -> float | None:
        return share(self.on_time, self.microprojects_due)


@dataclass(frozen=True)
class UnitOverview:
    """One unit's own cycles in the organisation overview. ``last_activity``: the latest
    cycle started or ended, or task completed in a running cycle; a unit that had cycles
    is ``quiet`` when that lies further back than the overview's quiet period."""

    unit_id: int
    unit: str
    path: Sequence[str]
    active: bool
    cycles: int
    cycles_last_year: int  # started in the 365 days before as_of
    running: int
    completed: int
    targets_met: int  # completed cycles whose evaluation met every target
    microprojects_due: int
    on_time: int
    last_activity: datetime | None
    quiet: bool

    @property
    def targets_met_share(self) -> float | None:
        return share(self.targets_met, self.completed)

    @property
    def on_time_share(self) -> float | None:
        return share(self.on_time, self.microprojects_due)


@dataclass(frozen=True)
class OrganisationOverview:
    """Every unit the caller may compare, in the tree's order. ``whole_organisation``:
    the caller sees every unit (admins, auditors, organisation-wide memberships)."""

    as_of: datetime
    quiet_days: int
    whole_organisation: bool
    units: Sequence[UnitOverview]


@dataclass(frozen=True)
class TimerBacklog:
    """What the timer workers have yet to do, at ``now``."""

    now: datetime
    due: int  # timers due and not yet fired
    oldest_due_at: datetime | None
    awaiting_admin: int  # due, but their cycle's timers failed: an incident waits

    @property
    def lag_seconds(self) -> float:
        """How long the oldest due timer has waited; 0 when none is due."""
        return waited_seconds(self.now, self.oldest_due_at)


def waited_seconds(now: datetime, since: datetime | None) -> float:
    """How long what was due ``since`` has waited at ``now``; 0 for nothing due."""
    return 0.0 if since is None else max(0.0, (now - since).total_seconds())


@dataclass(frozen=True)
class OutboxBacklog:
    """What the workers have yet to send, at ``now``."""

    now: datetime
    waiting: int  # neither sent nor given up on
    due: int  # of those, due now (the others wait for a retry)
    oldest_due_at: datetime | None
    failed: int  # given up on: their last error says why

    @property
    def lag_seconds(self) -> float:
        """How long the oldest e-mail due has waited; 0 when none is due."""
        return waited_seconds(self.now, self.oldest_due_at)


@dataclass(frozen=True)
class MailPass:
    """What one worker's pass over the outbox did."""

    sent: int = 0
    retrying: int = 0  # failed for now, tried again later
    failed: int = 0  # given up on


@dataclass(frozen=True)
class NotificationSettings:
    """Where a user's notifications go and which they get."""

    user: str
    email: str | None
    assigned: bool
    group_open: bool
    overdue: bool
    digest: bool


@dataclass(frozen=True)
class Readiness:
    """Whether a server can take requests: its database answers, with the schema this code
    expects."""

    database: bool  # it answers
    schema: str | None  # the migration its schema is at (None: empty or unreachable)
    head: str  # the migration this code expects

    @property
    def schema_current(self) -> bool:
        return self.schema == self.head

    @property
    def ready(self) -> bool:
        return self.database and self.schema_current


# --- the leadership report (engine/services/report.py) -------------------------------------


@dataclass(frozen=True)
class MicroprojectOutcome:
    """A microproject as designed and, once its owner reported, what it delivered.
    ``status`` (done, partial, not_done) and ``report`` are None until then."""

    title: str
    owner: str | None
    due: str | None  # ISO date, as the design recorded it
    deliverable: str | None
    status: str | None
    report: str | None


@dataclass(frozen=True)
class Decision:
    """A decision taken in a leadership step, by whom and when. ``outcome``: approved or
    sent_back (leadership approval), institutionalised, continue or close (leadership's
    decision on the cycle); ``comment`` is, for institutionalising, to whom the results
    were presented."""

    element_id: str
    outcome: str
    decided_by: str
    decided_at: datetime
    comment: str | None


@dataclass(frozen=True)
class LeadershipReport:
    """One cycle for leadership: its indicators before and after, its microprojects and
    what each delivered, the lessons learned at each evaluation and every decision; as of
    ``as_of``."""

    cycle: CycleResult
    as_of: datetime
    microprojects: Sequence[MicroprojectOutcome]
    lessons_learned: Sequence[str]
    standardised_practices: Sequence[str]
    decisions: Sequence[Decision]
