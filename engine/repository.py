"""Loading cycles locked, and writing back only what a unit of work changed.

A cycle stays in memory between requests (its record, open tasks and live workflow),
keyed by a random revision token that every write of its row replaces. Loading locks the
row and reads the token: the kept cycle is reused only when the token still matches, so a
change made by another process, or a database restored from a backup, is never missed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .audit.append import ChainHead, next_seq
from .audit.chain import GENESIS
from .cache import LruCache
from .cycle import Cycle, CycleRecord, DefinitionRef, TaskRecord
from .db.models import DIRECTORY_VERSION, PendingTimer, ProcessDefinition, Task, Unit
from .db.models import Cycle as CycleRow
from .db.statements import upsert
from .deployed import DeployedModels
from .errors import Conflict, NotFound
from .spiff.runner import WaitingTimer
from .vocabulary import CycleStatus, TaskState

if TYPE_CHECKING:
    from .uow import UnitOfWork

CYCLES = CycleRow.__table__
TASKS = Task.__table__
TIMERS = PendingTimer.__table__
TASK_COLUMNS = [f.name for f in fields(TaskRecord)]
# Built once: the hot path only binds values. A load reads just enough to know whether
# the kept cycle is still current.
# The lock also draws where the transaction's audit events are numbered from, and reads
# the directory's token (the e-mails of a step are for whom it says, notifications/).
_LOCK = select(
    CYCLES.c.id,
    CYCLES.c.revision,
    CYCLES.c.audit_length,
    CYCLES.c.audit_head,
    next_seq().label("next_seq"),
    select(DIRECTORY_VERSION.token).scalar_subquery().label("directory_token"),
)
_LOCK_CYCLE = _LOCK.where(CYCLES.c.id == bindparam("cycle_id")).with_for_update(of=CYCLES)
_TASK_OWNER = select(TASKS.c.cycle_id).where(TASKS.c.id == bindparam("task_id"))
_LOCK_TASK_CYCLE = _LOCK.where(CYCLES.c.id == _TASK_OWNER.scalar_subquery()).with_for_update(
    of=CYCLES
)
# No check of the revision it replaces: the row stays locked from its load to the commit
# (PostgreSQL: FOR UPDATE; SQLite: the write transaction holds the database), and on
# PostgreSQL the write goes out without waiting for its row count.
_WRITE_CYCLE = update(CYCLES).where(CYCLES.c.id == bindparam("b_id"))
_DROP_TIMERS = delete(TIMERS).where(TIMERS.c.task_id.in_(bindparam("gone", expanding=True)))
_READ_CYCLE = (
    select(
        CYCLES,
        ProcessDefinition.version,
        ProcessDefinition.deployment_id,
        Unit.name.label("unit_name"),
    )
    .join(ProcessDefinition, ProcessDefinition.id == CYCLES.c.definition_id)
    .join(Unit, Unit.id == CYCLES.c.unit_id)
    .where(CYCLES.c.id == bindparam("cycle_id"))
)
_OPEN_TASKS = select(TASKS).where(
    TASKS.c.cycle_id == bindparam("cycle_id"), TASKS.c.state == TaskState.OPEN
)


@dataclass(frozen=True)
class KeptCycle:
    revision: int
    cycle: Cycle


class LiveCycles(LruCache[int, KeptCycle]):
    """Cycles kept after their last commit, for the next request that locks them."""


@dataclass
class HeldCycle:
    cycle: Cycle
    revision: int  # as loaded, or as inserted for a cycle added in this unit of work
    head: ChainHead
    # Its row's columns that a change can move, as the row holds them: a write sets only
    # those that moved (SQLite rewrites the index entries of every column set).
    columns: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.columns = _movable_columns(self.cycle.record)


def _movable_columns(record: CycleRecord) -> dict[str, Any]:
    return {
        "status": record.status,
        "ended_at": record.ended_at,
        "definition_id": record.definition.id,
    }


def new_revision() -> int:
    # Random, not counted: a restored database cannot repeat a revision a process kept.
    return secrets.randbits(62)


class CycleRepository:
    def __init__(self, uow: UnitOfWork):
        self._uow = uow
        self._session = uow.session
        self._live: LiveCycles = uow.engine.live
        self.models = DeployedModels(uow)
        self._held: dict[int, HeldCycle] = {}

    def lock(self, cycle_id: int) -> Cycle:
        return self._load(_LOCK_CYCLE, {"cycle_id": cycle_id}, f"there is no cycle #{cycle_id}")

    def lock_for_task(self, task_id: str) -> Cycle:
        """The cycle the task belongs to, locked; NotFound when there is no such task."""
        return self._load(_LOCK_TASK_CYCLE, {"task_id": task_id}, f"there is no task {task_id}")

    def add(self, cycle: Cycle) -> None:
        """Insert a started cycle; its id is known from here on."""
        record = cycle.record
        revision = new_revision()
        try:
            cycle_id = self._session.scalar(
                insert(CYCLES)
                .values(
                    definition_id=record.definition.id,
                    process_id=record.definition.process_id,
                    unit_id=record.unit_id,
                    title=record.title,
                    cycle_number=record.cycle_number,
                    previous_cycle_id=record.previous_cycle_id,
                    status=record.status,
                    started_at=record.started_at,
                    started_by=record.started_by,
                    ended_at=record.ended_at,
                    data=record.data,
                    state=cycle.instance.dump(),
                    revision=revision,
                    audit_length=0,
                    audit_head=GENESIS,
                )
                .returning(CYCLES.c.id)
            )
        except IntegrityError as error:
            raise Conflict(
                f"{record.unit}'s cycle {record.cycle_number} was started by someone else "
                "at the same moment; reload and try again"
            ) from error
        record.id = cycle_id
        for task in cycle.open_tasks.values():
            task.cycle_id = cycle_id
        self._held[cycle_id] = HeldCycle(cycle, revision, ChainHead(0, GENESIS))
        cycle.workflow_changed = False  # the state was just inserted

    def held(self) -> list[HeldCycle]:
        return list(self._held.values())

    def write(self, held: HeldCycle, head: ChainHead | None, seal: str | None) -> int:
        """Write what changed in the cycle (its row, task rows, timers) and, when its chain
        grew, its new ``head`` and the head's ``seal``; returns the row's new revision."""
        cycle = held.cycle
        revision = new_revision()
        values: dict[str, Any] = {"b_id": cycle.id, "revision": revision}
        values.update(
            (name, value)
            for name, value in _movable_columns(cycle.record).items()
            if value != held.columns[name]
        )
        if head is not None:
            values.update(audit_length=head.length, audit_head=head.hash, audit_seal=seal)
        if cycle.workflow_changed:
            values["state"] = cycle.instance.dump()
            values["data"] = cycle.record.data
        elif cycle.records_changed:
            values["data"] = cycle.record.data
        self._session.connection().execute(_WRITE_CYCLE, values)
        upsert(
            self._session,
            TASKS,
            [
                {name: getattr(t, name) for name in TASK_COLUMNS}
                for t in cycle.changed_tasks.values()
            ],
        )
        if cycle.timers is not None:
            self._write_timers(cycle.id, cycle.timers_before, cycle.timers)
        return revision

    def release(self) -> None:
        """After commit: what was loaded is written (and kept for later requests); a next
        change in this unit of work loads afresh."""
        self._held = {}

    def keep(self, held: HeldCycle, revision: int) -> None:
        """After commit: keep a running cycle for its next request."""
        cycle = held.cycle
        if cycle.running:
            cycle.committed()
            self._live.put(cycle.id, KeptCycle(revision, cycle))

    def _write_timers(
        self, cycle_id: int, before: dict[str, WaitingTimer], after: dict[str, WaitingTimer]
    ) -> None:
        gone = [task_id for task_id in before if task_id not in after]
        if gone:
            self._session.execute(_DROP_TIMERS, {"gone": gone})
        upsert(
            self._session,
            TIMERS,
            [
                {
                    "task_id": timer.task_id,
                    "cycle_id": cycle_id,
                    "element_id": timer.element_id,
                    "due_at": timer.due_at,
                }
                for task_id, timer in after.items()
                if before.get(task_id) != timer
            ],
        )

    def _load(self, locking: Select, key: dict[str, Any], missing: str) -> Cycle:
        row = self._session.connection().execute(locking, key).one_or_none()
        if row is None:
            raise NotFound(missing)
        self._uow.drawn_seqs.append(row.next_seq)
        self._uow.directory_token = row.directory_token
        if row.id in self._held:
            return self._held[row.id].cycle
        kept = self._live.pop(row.id)
        if kept is not None and kept.revision == row.revision:
            cycle = kept.cycle
            cycle.attach(self.models, self._uow.now)
        else:
            cycle = self._read(row.id)
        self._held[row.id] = HeldCycle(
            cycle, row.revision, ChainHead(row.audit_length, row.audit_head)
        )
        return cycle

    def _read(self, cycle_id: int) -> Cycle:
        row = self._session.execute(_READ_CYCLE, {"cycle_id": cycle_id}).one()
        definition = DefinitionRef(
            row.definition_id, row.process_id, row.version, row.deployment_id
        )
        record = CycleRecord(
            id=row.id,
            definition=definition,
            unit_id=row.unit_id,
            unit=row.unit_name,
            title=row.title,
            cycle_number=row.cycle_number,
            previous_cycle_id=row.previous_cycle_id,
            status=CycleStatus(row.status),
            started_at=row.started_at,
            started_by=row.started_by,
            ended_at=row.ended_at,
            data=row.data,
        )
        open_tasks = {
            task.id: task_record(task)
            for task in self._session.execute(_OPEN_TASKS, {"cycle_id": cycle_id})
        }
        return Cycle(record, open_tasks, row.state, self.models, self._uow.now)


def task_record(row: Any) -> TaskRecord:
    record = TaskRecord(**{name: getattr(row, name) for name in TASK_COLUMNS})
    record.state = TaskState(record.state)
    return record
