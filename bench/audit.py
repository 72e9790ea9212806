"""What the audit trail costs and how it scales, on the engine as it is.

1. Its share of a completion, on SQLite and PostgreSQL: whole PI cycles driven as
   ``bench.engine.PicycleVariant`` drives them (a unit of work that authenticates the
   caller's token and runs ``tasks.complete_task``, which commits), with the audit as
   shipped, beside the same with the audit off in this process only. Both go through one
   wrapper of the shipped ``UnitOfWork.commit``, which counts the events the completion
   recorded; with the audit off it then drops them (the cycle's and any of the global
   chain) before the shipped commit runs, so none is numbered, turned into a row, linked
   (canonical JSON and SHA-256) or inserted, and the cycle row's chain head is neither
   moved nor sealed (nor checked by the database's guard). The cycle still records its
   events in memory (a small dataclass each) in both. The two run side by side, a
   completion of each in turn, and the SQL statements each sends are counted and timed by
   kind.
2. Concurrency of the chains (PostgreSQL): 1, 2, 4 and 8 threads, then 2 and 4 processes,
   completing tasks of their own cycles; a chain per cycle (its head on the cycle's row)
   should let them scale until the CPUs are saturated, not queue on a shared lock (sessions
   waiting on a lock are sampled). A probe shows a cycle held by an uncommitted completion
   does not hold up another cycle (and does hold up its own).
3. ``verify`` on 1,000,000 events: valid chains (sealed with ``engine.audit.chain.seal_v2``,
   interleaved as concurrent cycles write them, heads in ``audit_chains`` sealed with the
   audit key) bulk-inserted;
   ``audit.verify`` timed as the CLI and the API call it, in one process and in as many
   worker processes as it picks (one per CPU).
4. Export of those events as CSV, JSON Lines and XES through ``audit.export_events``, in a
   child process whose peak RSS is measured.

Run from the repository root::

    .venv/bin/python -m bench.audit            # full run, about 10 minutes
    .venv/bin/python -m bench.audit --quick    # 100,000 events (or PICYCLE_BENCH_QUICK=1)
    .venv/bin/python bench/audit.py --no-postgres
    .venv/bin/python -m bench.audit --verify-only  # section 3 alone

PostgreSQL: ``--postgres-url`` or ``PICYCLE_BENCH_POSTGRES_URL`` (default: the test database).
The audit runs as in production, with an audit key (``PICYCLE_AUDIT_KEY``, or a made-up one
when it is not set): each completion seals its cycle's chain head.
The benchmark works in a schema of its own, ``picycle_bench_audit``, dropped at the end.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
import os
import random
import re
import resource
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from types import SimpleNamespace

# Run as ``python bench/audit.py``, this file's folder comes first on sys.path; the
# repository root must be there too for the ``bench`` package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import picycle.engine.uow as uow_module
from picycle.engine.actors import SYSTEM, Actor
from picycle.engine.audit.chain import GENESIS, HASH_VERSION, seal_v2
from picycle.engine.audit.heads import seal_of
from picycle.engine.audit.verify import worker_count
from picycle.engine.db.models import AuditChain, AuditEvent
from picycle.engine.services import audit, cycles, tasks, users
from picycle.engine.uow import Engine, UnitOfWork
from sqlalchemy import bindparam, func, insert, make_url, select, text, update
from sqlalchemy import event as sqlalchemy_event

from bench.common import (
    ROOT,
    BenchSchema,
    Databases,
    Goals,
    announce,
    machine_load,
    measure_and_report,
    median,
    parse_args,
    percentile,
)
from bench.engine import (
    COMPLETIONS_PER_CYCLE,
    CycleRun,
    PicycleVariant,
    ReadyTask,
    Timings,
    form_for,
    performer,
    run_cycle,
    run_side_by_side,
)

SCHEMA = BenchSchema("picycle_bench_audit")
APPLICATION_NAME = "picycle_bench_audit"  # to find this run's sessions in pg_stat_activity

GOAL_AUDIT_SHARE = 10.0  # % of a completion
GOAL_VERIFY_PER_S = 100_000
GOAL_EXPORT_MB = 200

AUDITOR = Actor("bench-auditor", "auditor")


@dataclass(frozen=True)
class Plan:
    share_cycles: int  # per variant and database, 8 completions each
    events: int
    scaling_cycles: int  # per thread count
    threads: tuple[int, ...] = (1, 2, 4, 8)
    processes: tuple[int, ...] = (2, 4)


FULL = Plan(share_cycles=60, events=1_000_000, scaling_cycles=64)
QUICK = Plan(share_cycles=10, events=100_000, scaling_cycles=16)


def ready_tasks(engine: Engine, cycle: int) -> list[ReadyTask]:
    """The cycle's open tasks with their forms' starting data (``PicycleVariant.ready``,
    for a process that has only an engine)."""
    with engine.unit_of_work(write=False) as uow:
        found = [tasks.get_task(uow, SYSTEM, t.id) for t in cycles.open_tasks(uow, cycle)]
    return [ReadyTask(t.id, t.element_id, t.assignee, t.form_data) for t in found]


def complete_as_request(engine: Engine, token: str, task: ReadyTask, form: dict) -> None:
    """What ``PicycleVariant.complete`` (and an API request) does: authenticate the token,
    complete the task; the service commits."""
    with engine.unit_of_work() as uow:
        tasks.complete_task(uow, users.authenticate(uow, token), task.id, form)


# --- 1. the audit's share of a completion -------------------------------------------------------

ARMS = {"audited": "audit as shipped", "off": "audit off"}


class AuditSwitch:
    """Installed, every commit goes through ``commit`` below: the events handed to the
    shipped ``UnitOfWork.commit`` are counted for the arm whose completion runs, and when
    that arm is "off" dropped first. The e-mails a commit writes are made from those
    events in both arms (``notices``): telling people of their tasks is not the audit.
    ``link`` (what the commit chains events with) is timed in both arms. Outside a
    measured completion (``arm`` None), the audit is as shipped: cycles are started, and
    the warm-up cycles run, with the audit on."""

    def __init__(self):
        self.arm: str | None = None
        self.events: dict[str, int] = defaultdict(int)
        self.link_seconds: dict[str, float] = defaultdict(float)
        self._dropped: dict[int, list] = {}  # a cycle's events dropped in the "off" arm

    @contextmanager
    def installed(self) -> Iterator[AuditSwitch]:
        shipped = UnitOfWork.commit, uow_module.link, uow_module.task_notices
        shipped_commit, shipped_link, shipped_notices = shipped
        switch = self

        def commit(uow: UnitOfWork) -> None:
            arm = switch.arm
            if arm is not None:
                held = [h.cycle for h in uow.cycles.held()]
                switch.events[arm] += sum(len(c.events) for c in held) + len(uow._events)
                if arm == "off":
                    for cycle in held:
                        switch._dropped[id(cycle)], cycle.events = cycle.events, []
                    uow._events = []
            try:
                shipped_commit(uow)
            finally:
                switch._dropped.clear()

        def notices(session, now, base_url, changed, texts_of) -> None:
            for cycle in changed:
                cycle.events = switch._dropped.get(id(cycle), cycle.events)
            try:
                shipped_notices(session, now, base_url, changed, texts_of)
            finally:
                for cycle in changed:
                    if id(cycle) in switch._dropped:
                        cycle.events = []

        def link(head, rows):
            started = time.perf_counter()
            try:
                return shipped_link(head, rows)
            finally:
                if switch.arm is not None:
                    switch.link_seconds[switch.arm] += time.perf_counter() - started

        UnitOfWork.commit, uow_module.link, uow_module.task_notices = commit, link, notices
        try:
            yield self
        finally:
            UnitOfWork.commit, uow_module.link, uow_module.task_notices = shipped


class StatementClock:
    """The SQL statements the measured completions send, by arm and kind: how many, and
    how long each took from sending to its result (BEGIN is not counted)."""

    def __init__(self, engine: Engine):
        self.arm: str | None = None  # set while a measured completion runs
        self.seconds: dict[tuple[str, str], float] = defaultdict(float)
        self.counts: dict[tuple[str, str], int] = defaultdict(int)
        self._started: dict[int, float] = {}
        self._database = engine.database
        sqlalchemy_event.listen(self._database, "before_cursor_execute", self._before)
        sqlalchemy_event.listen(self._database, "after_cursor_execute", self._after)

    def close(self) -> None:
        sqlalchemy_event.remove(self._database, "before_cursor_execute", self._before)
        sqlalchemy_event.remove(self._database, "after_cursor_execute", self._after)

    @staticmethod
    def kind(statement: str, executemany: bool) -> str:
        """ "UPDATE cycles", "INSERT INTO audit_events (many rows)", "INSERT INTO tasks ON
        CONFLICT" (an upsert), "SELECT FROM cycles FOR UPDATE"."""
        words = statement.split()
        verb = words[0].upper()
        if verb == "UPDATE":
            kind = f"UPDATE {words[1]}"
        elif verb == "INSERT":
            kind = f"INSERT INTO {words[2]}"
            kind += " ON CONFLICT" if re.search(r"\bON CONFLICT\b", statement) else ""
        else:
            table = re.search(r"\bFROM (\w+)", statement)
            kind = f"{verb} FROM {table.group(1) if table else '?'}"
            kind += " FOR UPDATE" if re.search(r"\bFOR UPDATE\b", statement) else ""
        return kind + (" (many rows)" if executemany else "")

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._started[id(conn)] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        started = self._started.pop(id(conn), None)
        if self.arm is None or started is None or statement.startswith("BEGIN"):
            return
        key = (self.arm, self.kind(statement, executemany))
        self.seconds[key] += time.perf_counter() - started
        self.counts[key] += 1


class AuditArm:
    """The picycle variant with its completions measured in one arm; cycles are started
    (and their ready tasks read) with the audit as shipped, outside the timings."""

    def __init__(
        self, inner: PicycleVariant, arm: str, switch: AuditSwitch, statements: StatementClock
    ):
        self.inner = inner
        self.arm = arm
        self.switch = switch
        self.statements = statements
        self.name = f"{inner.database}, {ARMS[arm]}"
        self.clock = inner.clock

    def start(self, unit: str) -> int:
        return self.inner.start(unit)

    def ready(self, cycle: int) -> list[ReadyTask]:
        return self.inner.ready(cycle)

    def complete(self, cycle: int, task: ReadyTask, form: dict) -> float:
        self.switch.arm = self.statements.arm = self.arm
        try:
            return self.inner.complete(cycle, task, form)
        finally:
            self.switch.arm = self.statements.arm = None

    def completed(self, cycle: int) -> bool:
        return self.inner.completed(cycle)

    def state_size(self, cycle: int) -> None:
        return None


@dataclass
class AuditShare:
    database: str
    timings: dict[str, Timings]
    events: dict[str, int]  # recorded by each arm's completions (dropped by "off")
    link_seconds: dict[str, float]
    statements: StatementClock

    def completions(self, arm: str) -> int:
        return len(self.timings[arm].samples)

    def share(self, mean: bool = False) -> float:
        """The part of a completion with the audit that the audit takes, in %."""
        audited, off = self.timings["audited"], self.timings["off"]
        if mean:
            return 100 * (1 - off.mean_ms() / audited.mean_ms())
        return 100 * (1 - off.median_ms() / audited.median_ms())

    def paired_ms(self) -> list[float]:
        """Audited less off, completion by completion: the same user task of cycles run
        side by side, one straight after the other."""
        pairs = zip(self.timings["audited"].samples, self.timings["off"].samples, strict=True)
        differences = []
        for (element, audited), (other, off) in pairs:
            if element != other:
                raise RuntimeError(f"the arms fell out of step: {element} beside {other}")
            differences.append((audited - off) * 1000)
        return differences

    def events_per_completion(self, arm: str) -> float:
        return self.events[arm] / self.completions(arm)

    def link_us_per_completion(self, arm: str) -> float:
        return self.link_seconds[arm] / self.completions(arm) * 1e6


def measure_audit_share(variant: PicycleVariant, cycles: int) -> AuditShare:
    switch = AuditSwitch()
    statements = StatementClock(variant.engine)
    try:
        with switch.installed():
            arms = [AuditArm(variant, arm, switch, statements) for arm in ARMS]
            # Untimed cycles first, in both arms: caches, compiled scripts, connections.
            for n in range(2):
                for arm in arms:
                    run_cycle(arm, f"Warm-up {arm.arm} {n}")
            switch.events.clear()
            switch.link_seconds.clear()
            statements.counts.clear()
            statements.seconds.clear()
            timings = {arm: Timings(f"{variant.database}, {label}") for arm, label in ARMS.items()}
            for n in range(cycles):
                # Side by side, a completion of each in turn, the first arm alternating: a
                # noisy spell of the machine, or a cache the first warms, favours neither.
                order = arms if n % 2 == 0 else arms[::-1]
                run_side_by_side(
                    [(CycleRun(arm, f"{arm.arm} unit {n}"), timings[arm.arm]) for arm in order]
                )
    finally:
        statements.close()
    return AuditShare(
        variant.database, timings, dict(switch.events), dict(switch.link_seconds), statements
    )


# --- 2. concurrency of the chains (PostgreSQL) --------------------------------------------------


@dataclass
class Level:
    kind: str  # "threads" of this process, or worker "processes"
    threads: int
    completions: int
    seconds: float
    completion_ms: list[float]
    lock_samples: int
    lock_waits: int  # samples in which one of this run's sessions waited on a lock
    lock_kinds: Counter[str]  # the locks waited on (wait_event), a session in a sample each
    process_cpus: float  # CPUs this process used on average (its threads, with the GIL)
    machine_busy: float  # share of all the machine's CPU time that was busy, any process

    @property
    def per_second(self) -> float:
        return self.completions / self.seconds


class CpuClock:
    """CPU time used by this process, and by the whole machine (from /proc/stat)."""

    def __init__(self):
        self.process = self._process()
        self.busy, self.total = self._machine()

    @staticmethod
    def _process() -> float:
        times = os.times()
        return times.user + times.system

    @staticmethod
    def _machine() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            ticks = [int(n) for n in stat.readline().split()[1:]]
        idle = ticks[3] + ticks[4]  # idle, iowait
        return sum(ticks) - idle, sum(ticks)

    def since(self, wall: float) -> tuple[float, float]:
        """(CPUs this process used on average, busy share of the machine) since created."""
        busy, total = self._machine()
        machine = (busy - self.busy) / max(total - self.total, 1)
        return (self._process() - self.process) / wall, machine


class LockSampler:
    """Polls pg_stat_activity for this run's sessions waiting on a lock, and which lock
    (``wait_event``: "tuple" or "transactionid" for a row, "extend" for a table growing)."""

    def __init__(self, engine):
        self.engine = engine
        self.samples = 0
        self.waits = 0
        self.kinds: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def __enter__(self) -> LockSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        query = text(
            "SELECT wait_event FROM pg_stat_activity WHERE application_name = :name "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        with self.engine.database.connect() as connection:
            while not self._stop.wait(0.02):
                waiting = connection.execute(query, {"name": APPLICATION_NAME}).scalars().all()
                connection.rollback()
                self.samples += 1
                self.waits += bool(waiting)
                self.kinds.update(waiting)


def run_level(variant: PicycleVariant, threads: int, cycles: int) -> Level:
    """``threads`` threads, each completing whole cycles of its own, started beforehand."""
    own = [
        [variant.start(f"Scaling {threads} unit {t}-{n}") for n in range(cycles // threads)]
        for t in range(threads)
    ]
    completion_ms: list[float] = []
    failures: list[BaseException] = []
    gate = threading.Barrier(threads + 1)

    def work(cycle_ids: list[int]) -> None:
        gate.wait()
        try:
            for cycle in cycle_ids:
                while ready := variant.ready(cycle):
                    task = ready[0]
                    form = form_for(task, variant.clock().date())
                    completion_ms.append(variant.complete(cycle, task, form) * 1000)
        except BaseException as error:  # reported once all threads are done
            failures.append(error)

    workers = [threading.Thread(target=work, args=(ids,)) for ids in own]
    for worker in workers:
        worker.start()
    with LockSampler(variant.engine) as sampler:
        gate.wait()
        started = time.perf_counter()
        cpu = CpuClock()
        for worker in workers:
            worker.join()
        seconds = time.perf_counter() - started
        process_cpus, machine_busy = cpu.since(seconds)
    if failures:
        raise failures[0]
    check_whole_cycles(len(completion_ms), own)
    return Level(
        "threads",
        threads,
        len(completion_ms),
        seconds,
        completion_ms,
        sampler.samples,
        sampler.waits,
        sampler.kinds,
        process_cpus,
        machine_busy,
    )


def complete_cycles(
    url: str, tokens: dict[str, str], cycle_ids: list[int], now: str, at: float
) -> list[float]:
    """In a worker process: waits for the wall-clock time ``at``, then completes every task
    of the cycles, one after another, at the engine time ``now``, as ``PicycleVariant``
    does (the token authenticated in the completion's unit of work); ms per completion."""
    from picycle.engine.clock import FixedClock

    clock = FixedClock(datetime.fromisoformat(now))
    engine = Engine(url, clock)
    day = clock().date()
    try:
        with engine.unit_of_work(write=False) as uow:
            users.authenticate(uow, next(iter(tokens.values())))  # connected
        time.sleep(max(0.0, at - time.time()))
        done = []
        for cycle in cycle_ids:
            while ready := ready_tasks(engine, cycle):
                task = ready[0]
                form = form_for(task, day)
                started = time.perf_counter()
                complete_as_request(engine, tokens[performer(task)], task, form)
                done.append((time.perf_counter() - started) * 1000)
        return done
    finally:
        engine.dispose()


def run_process_level(variant: PicycleVariant, processes: int, cycles: int) -> Level:
    """Like ``run_level``, with worker processes (an interpreter each) instead of threads."""
    own = [
        [variant.start(f"Processes {processes} unit {p}-{n}") for n in range(cycles // processes)]
        for p in range(processes)
    ]
    now = variant.clock().isoformat()
    url, tokens = variant.engine.url, variant.tokens
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(processes, mp_context=context) as pool:
        for warming in [pool.submit(time.sleep, 0.5) for _ in own]:
            warming.result()
        at = time.time() + 2.0  # every worker connected and waiting by then
        futures = [pool.submit(complete_cycles, url, tokens, ids, now, at) for ids in own]
        with LockSampler(variant.engine) as sampler:
            time.sleep(max(0.0, at - time.time()))
            started = time.perf_counter()
            cpu = CpuClock()
            completion_ms = [ms for future in futures for ms in future.result()]
            seconds = time.perf_counter() - started
            _, machine_busy = cpu.since(seconds)
    check_whole_cycles(len(completion_ms), own)
    return Level(
        "processes",
        processes,
        len(completion_ms),
        seconds,
        completion_ms,
        sampler.samples,
        sampler.waits,
        sampler.kinds,
        float("nan"),
        machine_busy,
    )


def check_whole_cycles(completions: int, own: list[list[int]]) -> None:
    expected = COMPLETIONS_PER_CYCLE * sum(map(len, own))
    if completions != expected:
        raise RuntimeError(f"{completions} completions, expected {expected} (whole cycles)")


@dataclass
class Probe:
    """A completion while another transaction holds a cycle for ``held`` seconds."""

    held: float
    other_cycle_ms: float  # another cycle's task: should not wait
    same_cycle_ms: float  # the held cycle's other task: must wait (shows the probe works)


def cycle_at_implementation(variant: PicycleVariant, unit: str) -> tuple[int, list[ReadyTask]]:
    run = CycleRun(variant, unit)
    while (ready := variant.ready(run.cycle))[0].element_id != "implement_microproject":
        run.step(None)
    return run.cycle, ready


def probe_locks(variant: PicycleVariant, held: float = 1.0) -> Probe:
    """A completion whose commit has written everything (the cycle row with its chain head,
    the task rows, its audit events) and then waits ``held`` seconds before the database
    commits, while this thread completes a task of another cycle, then of the same one."""

    def hold(task: ReadyTask, holding: threading.Event, failures: list) -> None:
        try:
            with variant.engine.unit_of_work() as uow:
                commit = uow.session.commit

                def commit_late() -> None:
                    holding.set()
                    time.sleep(held)
                    commit()

                uow.session.commit = commit_late  # this unit of work's session only
                token = variant.tokens[performer(task)]
                form = form_for(task, variant.clock().date())
                tasks.complete_task(uow, users.authenticate(uow, token), task.id, form)
        except BaseException as error:  # reported by the waiting thread
            failures.append(error)
            holding.set()

    def complete_while_held(held_task: ReadyTask, cycle: int, task: ReadyTask) -> float:
        holding = threading.Event()
        failures: list[BaseException] = []
        holder = threading.Thread(target=hold, args=(held_task, holding, failures))
        holder.start()
        holding.wait()
        if failures:
            holder.join()
            raise failures[0]
        seconds = variant.complete(cycle, task, form_for(task, variant.clock().date()))
        holder.join()
        if failures:
            raise failures[0]
        return seconds * 1000

    held_cycle, (first, _) = cycle_at_implementation(variant, "Probe unit held")
    other = variant.start("Probe unit other")
    (other_task,) = variant.ready(other)
    other_ms = complete_while_held(first, other, other_task)
    both_cycle, (one, two) = cycle_at_implementation(variant, "Probe unit both")
    same_ms = complete_while_held(one, both_cycle, two)
    return Probe(held, other_ms, same_ms)


# --- 3. a million events in valid chains --------------------------------------------------------

EVENT_COLUMNS = [c.name for c in AuditEvent.__table__.columns]


@dataclass
class EventTemplate:
    type: str
    actor: str
    element_id: str | None
    task_key: str | None  # which of the cycle's tasks, as the real cycle named them
    data: dict


def real_cycle_events(variant: PicycleVariant) -> list[EventTemplate]:
    """The events of one whole real cycle, as picycle recorded them."""
    run = CycleRun(variant, "Template unit")
    while run.step(None):
        pass
    with variant.engine.unit_of_work(write=False) as uow:
        events = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.cycle_id == run.cycle).order_by(AuditEvent.seq)
        )
        return [EventTemplate(e.type, e.actor, e.element_id, e.task_id, e.data) for e in events]


@dataclass
class Chain:
    name: str
    cycle_id: int | None
    position: int = 0
    head: str = "0" * 64
    task_ids: dict[str | None, str | None] = field(default_factory=dict)


class EventMaker:
    """Events as concurrent cycles write them: a thousand cycles under way at once, each
    appending its next event in turn, so a chain's events lie scattered through the table;
    now and then an event about no cycle. Each is sealed as picycle seals it."""

    ACTIVE = 1000
    GLOBAL_EVERY = 200

    def __init__(self, templates: list[EventTemplate], start: datetime, last_seq: int):
        self.templates = templates
        self.seq = last_seq
        self.rng = random.Random(1849)
        self.moment = start
        # Events about no cycle, in a chain of their own: the databases' own global chains
        # differ (their events' sequence numbers do), these events do not.
        self.global_chain = Chain("bench:global", None)
        self.next_cycle = 10_000_000  # far from the real cycles' ids
        self.active = [self._new_chain() for _ in range(self.ACTIVE)]
        self.finished: list[Chain] = []
        self.made = 0

    def _new_chain(self) -> Chain:
        self.next_cycle += 1
        return Chain(f"cycle:{self.next_cycle}", self.next_cycle)

    def batches(self, total: int, size: int) -> Iterator[list[dict]]:
        batch: list[dict] = []
        while self.made < total:
            if self.made % self.GLOBAL_EVERY == self.GLOBAL_EVERY - 1:
                batch.append(self._global_event())
            else:
                batch.append(self._cycle_event())
            self.made += 1
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch

    def heads(self) -> list[Chain]:
        """Every chain made, finished or not."""
        return [self.global_chain, *self.finished, *(c for c in self.active if c.position)]

    def _tick(self) -> datetime:
        self.moment += timedelta(microseconds=self.rng.randrange(1, 2_000_000))
        return self.moment

    def _cycle_event(self) -> dict:
        slot = self.rng.randrange(len(self.active))
        chain = self.active[slot]
        template = self.templates[chain.position]
        if template.task_key not in chain.task_ids:
            chain.task_ids[template.task_key] = (
                str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
                if template.task_key
                else None
            )
        event = self._seal(
            chain,
            actor=template.actor,
            type=template.type,
            task_id=chain.task_ids[template.task_key],
            element_id=template.element_id,
            data=template.data,
        )
        if chain.position == len(self.templates):
            self.finished.append(chain)
            self.active[slot] = self._new_chain()
        return event

    def _global_event(self) -> dict:
        user = f"user-{self.made}"
        return self._seal(
            self.global_chain,
            actor="system",
            type="token_issued",
            task_id=None,
            element_id=None,
            data={"user": user},
        )

    def _seal(self, chain: Chain, **facts) -> dict:
        chain.position += 1
        self.seq += 1
        event = SimpleNamespace(
            seq=self.seq,
            chain=chain.name,
            position=chain.position,
            at=self._tick(),
            cycle_id=chain.cycle_id,
            prev_hash=chain.head,
            hash_version=HASH_VERSION,
            **facts,
        )
        event.hash = seal_v2(chain.head, event)
        chain.head = event.hash
        return {name: getattr(event, name) for name in EVENT_COLUMNS}


@dataclass
class EventFill:
    events: int = 0
    chains: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # per database, rows and indexes
    sealing: float = 0.0  # making and sealing the events, once for all databases


def fill_events(variants: list[PicycleVariant], total: int) -> EventFill:
    """The same sealed events into every database: Core executemany on SQLite, COPY on
    PostgreSQL, with the secondary indexes dropped during the load and built after it."""
    first = variants[0]
    templates = real_cycle_events(first)
    last_seq = 0
    for variant in variants:
        with variant.engine.unit_of_work(write=False) as uow:
            last_seq = max(last_seq, uow.session.scalar(select(func.max(AuditEvent.seq))))
    maker = EventMaker(templates, datetime(2025, 1, 6, 8, tzinfo=UTC), last_seq)
    result = EventFill(seconds=dict.fromkeys((v.database for v in variants), 0.0))
    indexes = list(AuditEvent.__table__.indexes)
    for variant in variants:
        started = time.perf_counter()
        with variant.engine.database.begin() as connection:
            for index in indexes:
                index.drop(connection)
        result.seconds[variant.database] += time.perf_counter() - started
    loaders = {v.database: EventLoader(v) for v in variants}
    try:
        making = time.perf_counter()
        for batch in maker.batches(total, 20_000):
            result.sealing += time.perf_counter() - making
            for database, loader in loaders.items():
                started = time.perf_counter()
                loader.load(batch)
                result.seconds[database] += time.perf_counter() - started
            making = time.perf_counter()
    finally:
        for loader in loaders.values():
            loader.close()
    chains = maker.heads()
    for variant in variants:
        started = time.perf_counter()
        with variant.engine.database.begin() as connection:
            for index in indexes:
                index.create(connection)
            # Heads as the database lets them be written: inserted empty, then moved onto
            # their chains' last events; sealed with the engine's audit key, if any.
            key = variant.engine.audit_key
            for start in range(0, len(chains), 20_000):
                batch = chains[start : start + 20_000]
                connection.execute(
                    insert(AuditChain.__table__),
                    [{"chain": c.name, "length": 0, "head_hash": GENESIS} for c in batch],
                )
                connection.execute(
                    update(AuditChain.__table__)
                    .where(AuditChain.chain == bindparam("b_chain"))
                    .values(
                        length=bindparam("length"),
                        head_hash=bindparam("head_hash"),
                        seal=bindparam("seal"),
                    ),
                    [
                        {
                            "b_chain": c.name,
                            "length": c.position,
                            "head_hash": c.head,
                            "seal": seal_of(key, c.name, c.position, c.head),
                        }
                        for c in batch
                    ],
                )
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(
                    "SELECT setval(pg_get_serial_sequence('audit_events', 'seq'), "
                    "(SELECT max(seq) FROM audit_events))"
                )
        if variant.engine.database.dialect.name == "postgresql":
            with variant.engine.database.connect() as connection:
                autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
                autocommit.exec_driver_sql("VACUUM ANALYZE audit_events")
                autocommit.exec_driver_sql("VACUUM ANALYZE audit_chains")
        result.seconds[variant.database] += time.perf_counter() - started
    result.events = maker.made
    result.chains = len(chains)
    return result


class EventLoader:
    """One database's open loading transaction."""

    def __init__(self, variant: PicycleVariant):
        self.postgres = variant.engine.database.dialect.name == "postgresql"
        if self.postgres:
            self.connection = variant.engine.database.raw_connection()
            self.cursor = self.connection.cursor()
        else:
            self.connection = variant.engine.database.connect()
            self.transaction = self.connection.begin()
            self.connection.exec_driver_sql("PRAGMA cache_size = -262144")

    def load(self, batch: list[dict]) -> None:
        if not self.postgres:
            self.connection.execute(insert(AuditEvent.__table__), batch)
            return
        data = EVENT_COLUMNS.index("data")
        with self.cursor.copy(f"COPY audit_events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
            for event in batch:
                row = [event[name] for name in EVENT_COLUMNS]
                row[data] = json.dumps(row[data])
                copy.write_row(row)

    def close(self) -> None:
        if self.postgres:
            self.cursor.close()
            self.connection.commit()
            self.connection.close()
        else:
            self.connection.exec_driver_sql("PRAGMA cache_size = -2000")
            self.transaction.commit()
            self.connection.close()


# --- verify -------------------------------------------------------------------------------------


@dataclass
class VerifyResult:
    database: str
    asked: int | None  # workers asked for; None: as many as verify picks (its default)
    workers: int  # processes the chains were split across (1: walked in this process)
    events: int
    chains: int
    intact: bool
    seconds: float
    started_fork_server: bool  # the first call with workers also starts their fork server
    load: str

    @property
    def per_second(self) -> float:
        return self.events / self.seconds


def measure_verify(variant: PicycleVariant, workers: int | None, earlier: list) -> VerifyResult:
    """``audit.verify`` as the CLI and the API call it, from the call to its result: with
    ``workers`` processes, or (None) as many as it picks itself; after the ``earlier``
    results of this run."""
    started = time.perf_counter()
    verification = audit.verify(variant.engine, AUDITOR, workers=workers)
    seconds = time.perf_counter() - started
    used = worker_count(verification.events_checked, workers)
    return VerifyResult(
        variant.database,
        workers,
        used,
        verification.events_checked,
        verification.chains_checked,
        verification.intact,
        seconds,
        used > 1 and not any(result.workers > 1 for result in earlier),
        machine_load(),
    )


# --- 4. export, in a child process --------------------------------------------------------------

_EXPORT = """
import sys
sys.path.insert(0, sys.argv[1])
from bench.audit import export_child
export_child(sys.argv[2], sys.argv[3])
"""


def memory_kb(field_name: str) -> int:
    """A line of /proc/self/status, in KiB: VmRSS (now) or VmHWM (the peak)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field_name} in /proc/self/status")


def reset_peak_rss() -> bool:
    """Restart the peak RSS (VmHWM) from the current RSS; False where Linux does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def export_child(url: str, fmt: str) -> None:
    """In the child: ``audit.export_events`` of every event in ``fmt``, as the API's export
    view gets it, written into /dev/null (encoded, as a file gets it); print what it took
    as JSON.

    The peak is the process's own: getrusage's ru_maxrss would start from the RSS of the
    process that forked this one (Linux keeps the old image's peak across exec), so the
    peak RSS of this image (VmHWM), restarted just before the export, is used instead."""
    engine = Engine(url)
    with engine.unit_of_work(write=False) as uow:  # connected; and how many events there are
        events = audit.list_events(uow, AUDITOR, audit.EventFilter(), limit=1).total
    reset = reset_peak_rss()
    before = memory_kb("VmRSS")
    written = 0
    started = time.perf_counter()
    with engine.unit_of_work(write=False) as uow, open(os.devnull, "wb") as sink:
        export = audit.export_events(uow, AUDITOR, audit.EventFilter(), fmt)
        for chunk in export.chunks:
            data = chunk.encode()
            written += len(data)
            sink.write(data)
    seconds = time.perf_counter() - started
    peak = memory_kb("VmHWM")
    engine.dispose()
    figures = {
        "events": events,
        "bytes": written,
        "seconds": seconds,
        "rss_before_kb": before,
        "rss_peak_kb": peak,
        "peak_reset": reset,
        "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    print(json.dumps(figures))


@dataclass
class ExportResult:
    database: str
    fmt: str
    events: int  # in the trail: every one is read, though XES writes only task events
    bytes: int
    seconds: float
    rss_before_kb: int
    rss_peak_kb: int
    peak_reset: bool  # False: the peak may predate the export (the figure is an upper bound)
    ru_maxrss_kb: int  # for comparison; see export_child

    @property
    def peak_mb(self) -> float:
        return self.rss_peak_kb / 1024

    @property
    def growth_mb(self) -> float:
        return (self.rss_peak_kb - self.rss_before_kb) / 1024

    @property
    def per_second(self) -> float:
        return self.events / self.seconds


def measure_export(database: str, url: str, fmt: str) -> ExportResult:
    done = subprocess.run(
        [sys.executable, "-c", _EXPORT, str(ROOT), url, fmt],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"exporting {fmt} from {database} failed:\n{done.stderr}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return ExportResult(database, fmt, **figures)


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Results:
    shares: list[AuditShare] = field(default_factory=list)
    levels: list[Level] = field(default_factory=list)
    probe: Probe | None = None
    fill: EventFill | None = None
    verifies: list[VerifyResult] = field(default_factory=list)
    exports: list[ExportResult] = field(default_factory=list)


def with_application_name(url: str) -> str:
    named = make_url(url).update_query_dict({"application_name": APPLICATION_NAME})
    return named.render_as_string(hide_password=False)


def run(plan: Plan, databases: Databases, verify_only: bool = False) -> Results:
    variants = [PicycleVariant("SQLite", "sqlite", databases.sqlite_url("audit.db"))]
    if databases.postgres_url:
        url = with_application_name(databases.postgres_url)
        variants.append(PicycleVariant("PostgreSQL", "pg", url))
    results = Results()
    try:
        for variant in [] if verify_only else variants:
            announce(f"{variant.database}: completions with the audit as shipped and off")
            results.shares.append(measure_audit_share(variant, plan.share_cycles))
        postgres = [v for v in variants if v.database == "PostgreSQL" and not verify_only]
        for variant in postgres:
            for threads in plan.threads:
                announce(f"PostgreSQL: {threads} thread(s) completing their own cycles")
                results.levels.append(run_level(variant, threads, plan.scaling_cycles))
            for processes in plan.processes:
                announce(f"PostgreSQL: {processes} processes completing their own cycles")
                level = run_process_level(variant, processes, plan.scaling_cycles)
                results.levels.append(level)
            announce("PostgreSQL: probe, a completion while another cycle is held")
            results.probe = probe_locks(variant)
        announce(f"sealing {plan.events:,} events into every database")
        results.fill = fill_events(variants, plan.events)
        for variant in variants:
            for workers in (1, None):
                announce(f"{variant.database}: verify, workers: {workers or 'as verify picks'}")
                result = measure_verify(variant, workers, results.verifies)
                results.verifies.append(result)
                if result.started_fork_server:  # again, as a process that keeps running would
                    results.verifies.append(measure_verify(variant, workers, results.verifies))
        urls = {v.database: v.engine.url for v in variants}
    finally:
        for variant in variants:
            variant.dispose()
    for database, url in {} if verify_only else urls.items():
        for fmt in audit.EXPORT_FORMATS:
            announce(f"{database}: export {fmt}")
            results.exports.append(measure_export(database, url, fmt))
    return results


# --- the report ---------------------------------------------------------------------------------


def report_shares(results: Results, goals: Goals) -> None:
    if not results.shares:
        return
    print("== 1. the audit's share of a completion (authenticate + complete_task, committed) ==")
    print(
        "  audit off: the events a completion recorded are dropped before the shipped commit,\n"
        "  so none is numbered, made a row, linked (canonical JSON + SHA-256) or inserted; the\n"
        "  cycle row is written in the same UPDATE, its chain head not moved nor sealed. The\n"
        "  e-mails the events call for are written in both arms: they are not the audit"
    )
    print(f"  {'ms per completion':<40}{'n':>5}{'median':>9}{'mean':>9}{'p90':>9}")
    for share in results.shares:
        for timings in share.timings.values():
            print(
                f"  {timings.label:<40}{len(timings.samples):>5}{timings.median_ms():>9.2f}"
                f"{timings.mean_ms():>9.2f}{timings.p90_ms():>9.2f}"
            )
    for share in results.shares:
        audited, off = share.timings["audited"], share.timings["off"]
        verdict = goals.judge(
            f"{share.database} audit share of a completion",
            share.share(),
            GOAL_AUDIT_SHARE,
            at_most=True,
            unit="%",
        )
        print(
            f"\n  {share.database}: the audit's share {share.share():.1f}% by median "
            f"({audited.median_ms():.2f} ms with it, {off.median_ms():.2f} ms without; "
            f"{share.share(mean=True):.1f}% by mean)   {verdict}"
        )
        paired = share.paired_ms()
        print(
            f"    paired, completion by completion (same task, side by side): audited less off "
            f"median {median(paired):.2f} ms = {median(paired) / audited.median_ms():.1%} "
            f"of the audited median"
        )
        print(
            f"    {share.events_per_completion('audited'):.2f} events per completion "
            f"(audit off dropped {share.events_per_completion('off'):.2f}); linking them "
            f"(link: sealing) {share.link_us_per_completion('audited'):.0f} us per completion"
        )
        report_statements(share)


def report_statements(share: AuditShare) -> None:
    """Every kind of statement the completions sent, per completion: count and ms."""
    clock = share.statements
    kinds = sorted({kind for _, kind in clock.counts})
    print(f"    SQL per completion: count and ms (sending to result) {'':<4}", end="")
    print("".join(f"{ARMS[arm]:>18}" for arm in ARMS))

    def cell(arm: str, chosen: list[str]) -> str:
        done = share.completions(arm)
        count = sum(clock.counts.get((arm, k), 0) for k in chosen) / done
        seconds = sum(clock.seconds.get((arm, k), 0.0) for k in chosen) / done
        return f"{count:.2f} {seconds * 1000:6.2f}"

    for kind in kinds:
        print(f"      {kind:<52}" + "".join(f"{cell(arm, [kind]):>18}" for arm in ARMS))
    print(f"      {'all statements':<52}" + "".join(f"{cell(arm, kinds):>18}" for arm in ARMS))


def report_levels(results: Results) -> None:
    if not results.levels:
        return
    print("\n== 2. chains under concurrency (PostgreSQL): threads completing their own cycles ==")
    print(
        f"  {'':<13}{'completions':>12}{'per s':>9}{'x 1 thread':>12}"
        f"{'median ms':>11}{'p95 ms':>9}{'lock waits':>12}{'our CPUs':>10}{'machine busy':>14}"
    )
    single = results.levels[0].per_second
    for level in results.levels:
        ms = level.completion_ms
        waits = f"{level.lock_waits}/{level.lock_samples}"
        cpus = "" if level.kind == "processes" else f"{level.process_cpus:.2f}"
        name = f"{level.threads} {level.kind if level.threads > 1 else level.kind[:-1]}"
        print(
            f"  {name:<13}{level.completions:>12}{level.per_second:>9.1f}"
            f"{level.per_second / single:>12.2f}{median(ms):>11.1f}{percentile(ms, 95):>9.1f}"
            f"{waits:>12}{cpus:>10}{level.machine_busy:>14.0%}"
        )
    for level in results.levels:
        if level.lock_kinds:
            kinds = ", ".join(f"{kind} {n}" for kind, n in level.lock_kinds.most_common())
            print(f"  locks waited on, {level.threads} {level.kind}: {kinds} (sessions sampled)")
    print(
        "  (per s: completions per second of wall time, reading each cycle's next task\n"
        "   included; median and p95: one completion. lock waits: samples of\n"
        "   pg_stat_activity, every 20 ms, in which one of this run's sessions waited on a\n"
        "   lock. our CPUs: CPU time of this process (all its threads share one interpreter\n"
        f"   lock) per second; machine busy: of all {os.cpu_count()} CPUs, by any process: this\n"
        "   one, its workers, the PostgreSQL server, other sessions' runs)"
    )
    probe = results.probe
    if probe:
        print(
            f"  probe: another completion has written its cycle (row, chain head, tasks, audit\n"
            f"  events) and holds its transaction open for {probe.held:.1f} s:\n"
            f"    a task of another cycle completes in {probe.other_cycle_ms:.1f} ms; "
            f"the held cycle's other task waits: {probe.same_cycle_ms:.0f} ms"
        )


def report_verify(results: Results, goals: Goals) -> None:
    fill = results.fill
    print(f"\n== 3. verify: {fill.events:,} sealed events in {fill.chains:,} chains ==")
    cells = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in fill.seconds.items())
    print(
        f"  filled: making and sealing the events {fill.sealing:.0f} s (once); "
        f"loading with indexes: {cells}"
    )
    for result in results.verifies:
        processes = f"{result.workers} process{'es' if result.workers > 1 else ''}"
        processes += " (as verify picks)" if result.asked is None else ""
        line = (
            f"  {result.database}, {processes}: {result.events:,} events, {result.chains:,} "
            f"chains, intact: {'yes' if result.intact else 'NO'}; {result.seconds:.1f} s = "
            f"{result.per_second:,.0f} events/s"
        )
        if result.asked is None and not result.started_fork_server:
            line += "   " + goals.judge(
                f"{result.database} verify events/s",
                result.per_second,
                GOAL_VERIFY_PER_S,
                at_most=False,
                unit="events/s",
            )
        print(line)
        print(f"    machine after it: {result.load}")
        if result.started_fork_server:
            print(
                "    (this call also started the fork server the workers are forked from, once"
                " per process: measured again)"
            )


def report_exports(results: Results, goals: Goals) -> None:
    if not results.exports:
        return
    print("\n== 4. export through audit.export_events, into /dev/null, in a child process ==")
    print(
        f"  {'':<22}{'events':>10}{'MB out':>9}{'s':>7}{'events/s':>10}"
        f"{'RSS before':>12}{'growth':>9}{'peak RSS':>11}"
    )
    for result in results.exports:
        verdict = goals.judge(
            f"{result.database} export {result.fmt} peak RSS",
            result.peak_mb,
            GOAL_EXPORT_MB,
            at_most=True,
            unit="MB",
        )
        print(
            f"  {result.database + ' ' + result.fmt:<22}{result.events:>10,}"
            f"{result.bytes / 1e6:>9.0f}{result.seconds:>7.1f}{result.per_second:>10,.0f}"
            f"{result.rss_before_kb / 1024:>9.0f} MB{result.growth_mb:>6.0f} MB"
            f"{result.peak_mb:>8.0f} MB   {verdict}"
        )
    print(
        "  (peak RSS: the child's (VmHWM, restarted just before the export), the interpreter\n"
        "   with picycle loaded included; growth: that peak less its RSS then. events: in the\n"
        "   trail, every one read (XES writes only the task events). getrusage's ru_maxrss,\n"
        "   which in a child starts from the forking parent's peak, said up to "
        f"{max(r.ru_maxrss_kb for r in results.exports) / 1024:.0f} MB)"
    )
    if not all(r.peak_reset for r in results.exports):
        print("  (the peak could not be restarted: the peak and growth figures are upper bounds)")


def report(results: Results, skipped: str | None, goals: Goals) -> None:
    report_shares(results, goals)
    report_levels(results)
    if skipped:
        print(f"  PostgreSQL skipped: {skipped}")
    report_verify(results, goals)
    report_exports(results, goals)


def main(argv: list[str] | None = None) -> None:
    only = argparse.ArgumentParser(add_help=False)
    only.add_argument(
        "--verify-only", action="store_true", help="section 3 alone: fill the events, verify"
    )
    args = parse_args("What the audit trail costs and how it scales.", SCHEMA, argv, [only])
    os.environ.setdefault("PICYCLE_AUDIT_KEY", "bench-audit-key-" + "0" * 48)
    plan = QUICK if args.quick else FULL
    measure_and_report(args, SCHEMA, partial(run, plan, verify_only=args.verify_only), report)


if __name__ == "__main__":
    main()
