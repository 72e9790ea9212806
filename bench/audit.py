"""What the audit trail costs and how it scales.

1. Its share of a completion: ``complete_task`` + commit (engine level) with the audit as
   shipped, beside the same completions with ``UnitOfWork.record`` made a no-op (in this
   process only), on SQLite and PostgreSQL; with the SQL statements each sends, and two
   prototypes of a cheaper audit (the events chained once, at commit) measured alike.
2. Concurrency of the chains (PostgreSQL): 1, 2, 4 and 8 threads, then 2 and 4 processes,
   completing tasks of their own cycles; a chain per cycle should let them scale until the
   CPUs are saturated, not queue on a global lock (sessions waiting on a lock are sampled).
   A probe shows a held cycle does not hold up another cycle.
3. ``verify`` on 1,000,000 events: valid chains (sealed with ``engine.audit.chain.seal``,
   interleaved as concurrent cycles write them, heads in ``audit_chains``) bulk-inserted;
   ``audit.verify`` timed as the CLI and the API call it, in one process and in as many
   worker processes as it picks (one per CPU).
4. Export of those events as CSV, JSON Lines and XES through ``stream_events`` and
   ``engine.audit.export``, in a child process whose peak RSS is measured.

Run from the repository root::

    .venv/bin/python -m bench.audit            # full run, about 10 minutes
    .venv/bin/python -m bench.audit --quick    # 100,000 events (or PICYCLE_BENCH_QUICK=1)
    .venv/bin/python bench/audit.py --no-postgres
    .venv/bin/python -m bench.audit --verify-only  # section 3 alone

PostgreSQL: ``--postgres-url`` or ``PICYCLE_BENCH_POSTGRES_URL`` (default: the test database).
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
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

# Run as ``python bench/audit.py``, this file's folder comes first on sys.path; the
# repository root must be there too for the ``bench`` package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from picycle.engine.actors import Actor
from picycle.engine.audit import export
from picycle.engine.audit.chain import GLOBAL_CHAIN, chain_of, seal
from picycle.engine.audit.verify import worker_count
from picycle.engine.db.models import AuditChain, AuditEvent
from picycle.engine.services import audit, tasks
from picycle.engine.uow import UnitOfWork
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import insert, make_url, select, text, update

from bench.common import (
    ROOT,
    BenchRun,
    BenchSchema,
    Databases,
    Goals,
    announce,
    machine_load,
    median,
    parse_args,
    percentile,
)
from bench.engine import (
    PEOPLE,
    CycleRun,
    PicycleVariant,
    ReadyTask,
    Timings,
    form_for,
    performer,
)

SCHEMA = BenchSchema("picycle_bench_audit")
APPLICATION_NAME = "picycle_bench_audit"  # to find this run's sessions in pg_stat_activity

GOAL_AUDIT_SHARE = 10.0  # % of a completion
GOAL_VERIFY_PER_S = 100_000
GOAL_EXPORT_MB = 200

AUDITOR = Actor("bench-auditor", "auditor")


@dataclass(frozen=True)
class Plan:
    cost_cycles: int  # per variant and database, 8 completions each
    events: int
    scaling_cycles: int  # per thread count
    threads: tuple[int, ...] = (1, 2, 4, 8)
    processes: tuple[int, ...] = (2, 4)


FULL = Plan(cost_cycles=30, events=1_000_000, scaling_cycles=64)
QUICK = Plan(cost_cycles=10, events=100_000, scaling_cycles=16)


# --- 1. the audit's share of a completion -------------------------------------------------------


class RecordCounter:
    """Counts the events the audited completions record."""

    def __init__(self):
        self.events = 0


MODES = {
    "audited": "audited (as shipped)",
    "deferred": "chained at commit (prototype A)",
    "core": "chained at commit, Core rows (prototype B)",
    "bypassed": "audit bypassed",
}


SHORT = {"audited": "as shipped", "deferred": "A", "core": "B", "bypassed": "bypassed"}


def write_chained(session, events: list[SimpleNamespace]) -> None:
    """Prototype B's commit step: per chain, the head read (and locked), the events sealed,
    all of them written in one executemany INSERT without RETURNING, the head once; with
    SQLAlchemy Core, no ORM objects."""
    heads = AuditChain.__table__
    by_chain: dict[str, list[SimpleNamespace]] = defaultdict(list)
    for event in events:
        by_chain[event.chain].append(event)
    rows = []
    for chain, chained in by_chain.items():
        head = session.execute(
            select(heads.c.length, heads.c.head_hash)
            .where(heads.c.chain == chain)
            .with_for_update()
        ).first()
        length, previous = head if head else (0, "0" * 64)
        for event in chained:
            length += 1
            event.position, event.prev_hash = length, previous
            event.hash = previous = seal(previous, event)
            rows.append({name: getattr(event, name) for name in EVENT_COLUMNS})
        values = {"length": length, "head_hash": previous}
        if head:
            session.execute(update(heads).where(heads.c.chain == chain).values(**values))
        else:
            session.execute(insert(heads).values(chain=chain, **values))
    session.execute(insert(AuditEvent.__table__), rows)


@contextmanager
def audit_as(mode: str, counter: RecordCounter) -> Iterator[None]:
    """The audit of the completions inside, by ``MODES``: as shipped but counted; a no-op;
    or one of two prototypes that keep the events until ``commit`` and chain them there, so
    a transaction flushes once and reads and writes each chain head once: A with the
    shipped ChainWriter and ORM objects, B with Core rows (``write_chained``)."""
    shipped_record, shipped_commit = UnitOfWork.record, UnitOfWork.commit

    def counted(self, *args, **kwargs):
        counter.events += 1
        return shipped_record(self, *args, **kwargs)

    def bypassed(self, *args, **kwargs):
        return None

    def kept(self, actor, type, *, cycle_id=None, task_id=None, element_id=None, **data):
        counter.events += 1
        facts = {
            "chain": chain_of(cycle_id),
            "at": self.now,
            "actor": actor,
            "type": type,
            "cycle_id": cycle_id,
            "task_id": task_id,
            "element_id": element_id,
            "data": data,
        }
        event = AuditEvent(**facts) if mode == "deferred" else SimpleNamespace(**facts)
        self.__dict__.setdefault("bench_kept", []).append(event)

    def commit_kept(self):
        events = self.__dict__.pop("bench_kept", [])
        with self.session.no_autoflush:  # the heads' SELECT must not flush on its own
            if mode == "deferred":
                for event in events:
                    self._chain.append(event)
            elif events:
                write_chained(self.session, events)
        shipped_commit(self)

    UnitOfWork.record = {"audited": counted, "bypassed": bypassed}.get(mode, kept)
    if mode in ("deferred", "core"):
        UnitOfWork.commit = commit_kept
    try:
        yield
    finally:
        UnitOfWork.record, UnitOfWork.commit = shipped_record, shipped_commit


class StatementClock:
    """The SQL statements the completions send, by kind and audit mode: how many and how
    long each kind took, per completion (the time from sending to the result)."""

    def __init__(self, engine):
        self.mode: str | None = None  # set while a completion runs
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
    def kind(statement: str) -> str:
        """ "UPDATE tasks SET claimed_by", "INSERT INTO audit_events", "SELECT FROM cycles"."""
        words = statement.split()
        verb = words[0].upper()
        if verb == "UPDATE":
            return f"UPDATE {words[1]} SET {words[3].split('=')[0]}"
        if verb == "INSERT":
            return f"INSERT INTO {words[2]}"
        table = re.search(r"\bFROM (\w+)", statement)
        suffix = " FOR UPDATE" if statement.rstrip().endswith("FOR UPDATE") else ""
        return f"{verb} FROM {table.group(1) if table else '?'}{suffix}"

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._started[id(conn)] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.mode is None:
            return
        key = (self.mode, self.kind(statement))
        self.seconds[key] += time.perf_counter() - self._started.pop(id(conn))
        self.counts[key] += 1


class AuditMode:
    """A picycle variant whose completions run with the audit in one of ``MODES``; cycles
    are started with the audit as shipped, outside the timings."""

    def __init__(self, inner: PicycleVariant, mode: str, statements: StatementClock):
        self.inner = inner
        self.mode = mode
        self.statements = statements
        self.counter = RecordCounter()
        self.name = f"{inner.database}, {mode}"
        self.clock = inner.clock

    def start(self, unit: str) -> int:
        return self.inner.start(unit)

    def ready(self, cycle: int) -> list[ReadyTask]:
        return self.inner.ready(cycle)

    def complete(self, cycle: int, task: ReadyTask, form: dict) -> float:
        self.statements.mode = self.mode
        try:
            with audit_as(self.mode, self.counter):
                return self.inner.complete(cycle, task, form)
        finally:
            self.statements.mode = None

    def completed(self, cycle: int) -> bool:
        return self.inner.completed(cycle)

    def state_size(self, cycle: int) -> None:
        return None


@dataclass
class AuditCost:
    database: str
    timings: dict[str, Timings]
    events: int  # recorded by the audited completions
    statements: StatementClock

    def share(self, mode: str, mean: bool = False) -> float:
        """The part of an audited (or deferred) completion the bypass saves, in %."""
        of = self.timings[mode]
        bypassed = self.timings["bypassed"]
        if mean:
            return 100 * (1 - bypassed.mean_ms() / of.mean_ms())
        return 100 * (1 - bypassed.median_ms() / of.median_ms())

    @property
    def audited(self) -> Timings:
        return self.timings["audited"]

    @property
    def events_per_completion(self) -> float:
        return self.events / len(self.audited.samples)

    @property
    def events_per_second(self) -> float:
        """Events appended per second of audited completions, one completion at a time."""
        return self.events / sum(self.audited.seconds())

    @property
    def us_per_event(self) -> float:
        """The audit's own cost per event: what the bypass saves, spread over the events."""
        saved = sum(self.audited.seconds()) - sum(self.timings["bypassed"].seconds())
        return saved / self.events * 1e6


def measure_audit_cost(variant: PicycleVariant, cycles: int) -> AuditCost:
    # Untimed cycles first, in every mode: caches, compiled scripts, connections.
    warming = StatementClock(variant.engine)
    for mode in MODES:
        for n in range(2):
            run = CycleRun(AuditMode(variant, mode, warming), f"Warm-up {mode} {n}")
            while run.step(None):
                pass
    warming.close()
    statements = StatementClock(variant.engine)
    modes = [AuditMode(variant, mode, statements) for mode in MODES]
    timings = {mode: Timings(f"{variant.database}, {label}") for mode, label in MODES.items()}
    for n in range(cycles):
        # Side by side, a completion of each in turn: a noisy spell hits them alike.
        pairs = [(CycleRun(m, f"{m.mode} unit {n}"), timings[m.mode]) for m in modes]
        while pairs:
            pairs = [(run, t) for run, t in pairs if run.step(t)]
    statements.close()
    return AuditCost(variant.database, timings, modes[0].counter.events, statements)


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
    """Polls pg_stat_activity for this run's sessions waiting on a lock."""

    def __init__(self, engine):
        self.engine = engine
        self.samples = 0
        self.waits = 0
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
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        with self.engine.database.connect() as connection:
            while not self._stop.wait(0.02):
                waiting = connection.execute(query, {"name": APPLICATION_NAME}).scalar_one()
                connection.rollback()
                self.samples += 1
                self.waits += bool(waiting)


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
    return Level(
        "threads",
        threads,
        len(completion_ms),
        seconds,
        completion_ms,
        sampler.samples,
        sampler.waits,
        process_cpus,
        machine_busy,
    )


def complete_cycles(url: str, cycle_ids: list[int], now: str, at: float) -> list[float]:
    """In a worker process: waits for the wall-clock time ``at``, then completes every task
    of the cycles, one after another, at the engine time ``now``; ms per completion."""
    from picycle.engine.clock import FixedClock
    from picycle.engine.services import cycles, users
    from picycle.engine.uow import Engine

    clock = FixedClock(datetime.fromisoformat(now))
    engine = Engine(url, clock)
    day = clock().date()
    try:
        with engine.unit_of_work(write=False) as uow:
            actors = {name: users.actor_named(uow, name) for name in PEOPLE}
            uow.session.scalar(select(AuditChain.length).limit(1))  # connected
        time.sleep(max(0.0, at - time.time()))
        done = []
        for cycle in cycle_ids:
            while True:
                with engine.unit_of_work(write=False) as uow:
                    found = cycles.open_tasks(uow, cycle)
                if not found:
                    break
                row = found[0]
                task = ReadyTask(row.id, row.element_id, row.assignee, row.form_data)
                started = time.perf_counter()
                with engine.unit_of_work() as uow:
                    tasks.complete_task(uow, actors[performer(task)], task.id, form_for(task, day))
                    uow.commit()
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
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(processes, mp_context=context) as pool:
        for warming in [pool.submit(time.sleep, 0.5) for _ in own]:
            warming.result()
        at = time.time() + 2.0  # every worker connected and waiting by then
        futures = [pool.submit(complete_cycles, variant.engine.url, ids, now, at) for ids in own]
        with LockSampler(variant.engine) as sampler:
            time.sleep(max(0.0, at - time.time()))
            started = time.perf_counter()
            cpu = CpuClock()
            completion_ms = [ms for future in futures for ms in future.result()]
            seconds = time.perf_counter() - started
            _, machine_busy = cpu.since(seconds)
    return Level(
        "processes",
        processes,
        len(completion_ms),
        seconds,
        completion_ms,
        sampler.samples,
        sampler.waits,
        float("nan"),
        machine_busy,
    )


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
    def hold(task: ReadyTask, holding: threading.Event) -> None:
        with variant.engine.unit_of_work() as uow:
            form = form_for(task, variant.clock().date())
            tasks.complete_task(uow, variant.actors[performer(task)], task.id, form)
            uow.session.flush()
            holding.set()
            time.sleep(held)
            uow.commit()

    def complete_while_held(held_task: ReadyTask, cycle: int, task: ReadyTask) -> float:
        holding = threading.Event()
        holder = threading.Thread(target=hold, args=(held_task, holding))
        holder.start()
        holding.wait()
        seconds = variant.complete(cycle, task, form_for(task, variant.clock().date()))
        holder.join()
        return seconds * 1000

    held_cycle, (first, _) = cycle_at_implementation(variant, "Probe unit held")
    other = variant.start("Probe unit other")
    (other_task,) = variant.ready(other)
    other_ms = complete_while_held(first, other, other_task)
    both_cycle, (one, two) = cycle_at_implementation(variant, "Probe unit both")
    same_ms = complete_while_held(one, both_cycle, two)
    return Probe(held, other_ms, same_ms)


# --- 3. a million events in valid chains --------------------------------------------------------

EVENT_COLUMNS = [c.name for c in AuditEvent.__table__.columns if c.name != "seq"]


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
    now and then an event of the global chain. Each is sealed as picycle seals it."""

    ACTIVE = 1000
    GLOBAL_EVERY = 200

    def __init__(
        self, templates: list[EventTemplate], global_head: tuple[int, str], start: datetime
    ):
        self.templates = templates
        self.rng = random.Random(1849)
        self.moment = start
        self.global_chain = Chain(GLOBAL_CHAIN, None, *global_head)
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
        """Every cycle chain made, finished or not (the global chain is updated apart)."""
        return self.finished + [c for c in self.active if c.position]

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
        event = SimpleNamespace(
            chain=chain.name,
            position=chain.position,
            at=self._tick(),
            cycle_id=chain.cycle_id,
            prev_hash=chain.head,
            **facts,
        )
        event.hash = seal(chain.head, event)
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
    heads = {}
    for variant in variants:
        with variant.engine.unit_of_work(write=False) as uow:
            row = uow.session.get(AuditChain, GLOBAL_CHAIN)
            heads[variant.database] = (row.length, row.head_hash)
    if len(set(heads.values())) != 1:
        raise RuntimeError(f"the databases' global chains differ: {heads}")
    maker = EventMaker(templates, heads[first.database], datetime(2025, 1, 6, 8, tzinfo=UTC))
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
            for start in range(0, len(chains), 20_000):
                connection.execute(
                    insert(AuditChain.__table__),
                    [
                        {"chain": c.name, "length": c.position, "head_hash": c.head}
                        for c in chains[start : start + 20_000]
                    ],
                )
            connection.execute(
                update(AuditChain.__table__)
                .where(AuditChain.chain == GLOBAL_CHAIN)
                .values(length=maker.global_chain.position, head_hash=maker.global_chain.head)
            )
        if variant.engine.database.dialect.name == "postgresql":
            with variant.engine.database.connect() as connection:
                autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
                autocommit.exec_driver_sql("VACUUM ANALYZE audit_events")
                autocommit.exec_driver_sql("VACUUM ANALYZE audit_chains")
        result.seconds[variant.database] += time.perf_counter() - started
    result.events = maker.made
    result.chains = len(chains) + 1
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
EXPORTERS = {"csv": export.to_csv, "jsonl": export.to_jsonl, "xes": export.to_xes}


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
    """In the child: stream every event in ``fmt`` into /dev/null (encoded, as a file gets
    it); print what it took as JSON.

    The peak is the process's own: getrusage's ru_maxrss would start from the RSS of the
    process that forked this one (Linux keeps the old image's peak across exec), so the
    peak RSS of this image (VmHWM), restarted just before the export, is used instead."""
    from picycle.engine.uow import Engine

    engine = Engine(url)
    with engine.unit_of_work(write=False) as uow:  # connected, dialect set up
        uow.session.scalar(select(AuditChain.length).limit(1))
    reset = reset_peak_rss()
    before = memory_kb("VmRSS")
    written = 0
    events = 0
    started = time.perf_counter()
    with engine.unit_of_work(write=False) as uow, open(os.devnull, "wb") as sink:
        stream = audit.stream_events(uow, AUDITOR, audit.EventFilter(), by_cycle=fmt == "xes")

        def counted():
            nonlocal events
            for event in stream:
                events += 1
                yield event

        for chunk in EXPORTERS[fmt](counted()):
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
    events: int
    bytes: int
    seconds: float
    rss_before_kb: int
    rss_peak_kb: int
    peak_reset: bool  # False: the peak may predate the export (the figure is an upper bound)
    ru_maxrss_kb: int  # for comparison; see export_child

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
    costs: list[AuditCost] = field(default_factory=list)
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
            announce(f"{variant.database}: completions audited and with the audit bypassed")
            results.costs.append(measure_audit_cost(variant, plan.cost_cycles))
        postgres = [v for v in variants if v.database == "PostgreSQL" and not verify_only]
        for variant in postgres:
            for threads in plan.threads:
                announce(f"PostgreSQL: {threads} thread(s) completing their own cycles")
                results.levels.append(run_level(variant, threads, plan.scaling_cycles))
            for processes in plan.processes:
                announce(f"PostgreSQL: {processes} processes completing their own cycles")
                level = run_process_level(variant, processes, plan.scaling_cycles)
                results.levels.append(level)
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
        for fmt in EXPORTERS:
            announce(f"{database}: export {fmt}")
            results.exports.append(measure_export(database, url, fmt))
    return results


# --- the report ---------------------------------------------------------------------------------


def report_costs(results: Results, goals: Goals) -> None:
    print("== 1. the audit inside completions: complete_task + commit, engine level ==")
    print(f"  {'ms per completion':<58}{'n':>5}{'median':>9}{'mean':>9}{'p90':>9}")
    for cost in results.costs:
        for timings in cost.timings.values():
            print(
                f"  {timings.label:<58}{len(timings.samples):>5}{timings.median_ms():>9.2f}"
                f"{timings.mean_ms():>9.2f}{timings.p90_ms():>9.2f}"
            )
    for cost in results.costs:
        verdict = goals.judge(
            f"{cost.database} audit share of a completion",
            cost.share("audited"),
            GOAL_AUDIT_SHARE,
            at_most=True,
            unit="%",
        )
        print(
            f"  {cost.database}: the audit's share {cost.share('audited'):.1f}% by median "
            f"({cost.share('audited', mean=True):.1f}% by mean)   {verdict}"
        )
        print(
            f"    {cost.events_per_completion:.2f} events per completion; "
            f"{cost.events_per_second:,.0f} events appended per second of completions; "
            f"the audit's own cost {cost.us_per_event:,.0f} us per event"
        )
        for mode in ("deferred", "core"):
            print(
                f"    {MODES[mode]}: share {cost.share(mode):.1f}% by median"
                f" ({cost.share(mode, mean=True):.1f}% by mean)"
            )
        report_statements(cost)


def report_statements(cost: AuditCost) -> None:
    """The statements whose count differs between the modes, per completion."""
    clock = cost.statements
    done = {mode: len(cost.timings[mode].samples) for mode in MODES}
    kinds = sorted({kind for _, kind in clock.counts})

    def per_completion(mode: str, kind: str) -> tuple[float, float]:
        key = (mode, kind)
        return clock.counts.get(key, 0) / done[mode], clock.seconds.get(key, 0.0) / done[mode]

    print(
        f"    SQL per completion, count and ms (sending to result) {'':<6}"
        + "".join(f"{SHORT[mode]:>16}" for mode in MODES)
    )
    for kind in [*kinds, "all statements"]:
        cells = []
        for mode in MODES:
            if kind == "all statements":
                count = sum(per_completion(mode, k)[0] for k in kinds)
                seconds = sum(per_completion(mode, k)[1] for k in kinds)
            else:
                count, seconds = per_completion(mode, kind)
            cells.append(f"{count:.2f} {seconds * 1000:6.2f}")
        counts = {cell.split()[0] for cell in cells}
        if len(counts) > 1 or kind == "all statements":
            print(f"      {kind:<54}" + "".join(f"{cell:>16}" for cell in cells))


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
    print(
        "  (lock waits: samples of pg_stat_activity, every 20 ms, in which one of this run's\n"
        "   sessions waited on a lock. our CPUs: CPU time of this process (all its threads\n"
        "   share one interpreter lock) per second; machine busy: of all "
        f"{os.cpu_count()} CPUs, by any\n"
        "   process: this one, the PostgreSQL server, other sessions' runs)"
    )
    probe = results.probe
    if probe:
        print(
            f"  probe, another transaction holding a cycle (its task completed, not committed)"
            f" for {probe.held:.1f} s:\n"
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
    print("\n== 4. export through stream_events, into /dev/null, in a child process ==")
    print(
        f"  {'':<22}{'events':>10}{'MB out':>9}{'s':>7}{'events/s':>10}"
        f"{'RSS before':>12}{'RSS growth':>12}"
    )
    for result in results.exports:
        verdict = goals.judge(
            f"{result.database} export {result.fmt} peak memory",
            result.growth_mb,
            GOAL_EXPORT_MB,
            at_most=True,
            unit="MB",
        )
        print(
            f"  {result.database + ' ' + result.fmt:<22}{result.events:>10,}"
            f"{result.bytes / 1e6:>9.0f}{result.seconds:>7.1f}{result.per_second:>10,.0f}"
            f"{result.rss_before_kb / 1024:>9.0f} MB{result.growth_mb:>9.0f} MB   {verdict}"
        )
    print(
        "  (RSS growth: the child's peak RSS (VmHWM, restarted just before the export) less\n"
        "   its RSS then. getrusage's ru_maxrss, which in a child starts from the forking\n"
        f"   parent's peak, said up to {max(r.ru_maxrss_kb for r in results.exports) / 1024:.0f}"
        " MB)"
    )
    if not all(r.peak_reset for r in results.exports):
        print("  (the peak could not be restarted: the growth figures are upper bounds)")


def main(argv: list[str] | None = None) -> None:
    only = argparse.ArgumentParser(add_help=False)
    only.add_argument("--verify-only", action="store_true")
    known, rest = only.parse_known_args(argv)
    args = parse_args("What the audit trail costs and how it scales.", SCHEMA, rest)
    plan = QUICK if args.quick else FULL
    began = time.perf_counter()
    load_before = machine_load()
    with BenchRun(args, SCHEMA) as databases:
        results = run(plan, databases, known.verify_only)
    goals = Goals()
    if not known.verify_only:
        report_costs(results, goals)
        report_levels(results)
    if databases.skipped:
        print(f"  PostgreSQL skipped: {databases.skipped}")
    report_verify(results, goals)
    if not known.verify_only:
        report_exports(results, goals)
    print(f"\n{goals.summary()}")
    print(f"{'quick' if args.quick else 'full'} run in {time.perf_counter() - began:.0f} s")
    print(f"machine: {load_before} at the start, {machine_load()} at the end")


if __name__ == "__main__":
    main()
