"""What one user-task completion costs, measured three ways in one run on this machine.

(a) raw SpiffWorkflow in memory: the limit. Only ``task.run()`` and the engine steps after it,
    with picycle's sandboxed script engine and its budget. Beside it, (a0): the same with
    SpiffWorkflow's stock script engine (no sandbox, no budget), for what the two cost.
(b) a naive integration: every completion loads the whole workflow, spec included, from one
    SQLite row with SpiffWorkflow's stock serializer, completes it and writes it back.
(c) picycle's full path, as an API request runs it: one unit of work that authenticates the
    caller's token, ``complete_task`` and its commit, on SQLite and on PostgreSQL, in a unit's
    1st cycle and in its 50th (with 49 completed cycles behind it). The SQL statements each
    completion sends are counted too.

The ratios set (c) against (a), against itself across a unit's history and against (b); and,
for context, against (a) run beside it, completion by completion.

Every variant runs the same whole cycles of the shipped PI-cycle process: assess, identify
gaps, design, approve, implement x2, evaluate, institutionalise, plan the next cycle (9
completions per cycle).

Run from the repository root::

    .venv/bin/python -m bench.engine            # full run, a few minutes
    .venv/bin/python -m bench.engine --quick    # smaller and faster (or PICYCLE_BENCH_QUICK=1)
    .venv/bin/python bench/engine.py --no-postgres

PostgreSQL: ``--postgres-url`` or ``PICYCLE_BENCH_POSTGRES_URL`` (default: the test database).
The benchmark works in a schema of its own, ``picycle_bench``, which it drops and recreates at
the start and drops at the end; the tests' schema ``public`` is left alone, so both can run
at once (though a busy CPU makes the timings noisy).
"""

from __future__ import annotations

import copy
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

# Run as ``python bench/engine.py``, this file's folder comes first on sys.path; the
# repository root must be there too for the ``bench`` package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.clock import FixedClock
from picycle.engine.db.database import open_database
from picycle.engine.db.models import Cycle as CycleRow
from picycle.engine.db.models import ProcessDefinition
from picycle.engine.services import cycles, definitions, tasks, users
from picycle.engine.spiff.limits import DEFAULT_LIMITS
from picycle.engine.spiff.parser import parse_bundle
from picycle.engine.spiff.sandbox import sandboxed_script_engine
from picycle.engine.uow import Engine
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import event, select, text

from bench.common import (
    BenchSchema,
    Databases,
    Goals,
    announce,
    measure_and_report,
    parse_args,
    unit_named,
)

PROCESS_ID = "pi_cycle"
# Not the tests' schema public: they empty it while they run, which would break this run.
SCHEMA = BenchSchema("picycle_bench")
COMPLETIONS_PER_CYCLE = 9

GOAL_VS_RAW = {"SQLite": 4.0, "PostgreSQL": 6.0}
GOAL_HISTORY = 1.2
GOAL_STATEMENTS = 6


# --- the cycle every variant runs ---------------------------------------------------------------

PEOPLE = {
    "pia": ("member", ["PI Unit"]),
    "dana": ("member", ["Department Team"]),
    "omar": ("member", ["Department Team"]),
    "lena": ("member", ["Leadership"]),
}
# Who completes each user task; implementation tasks go to their assignee.
PERFORMERS = {
    "assess_performance": "pia",
    "identify_gaps": "dana",
    "design_microprojects": "dana",
    "leadership_approval": "lena",
    "evaluate_results": "pia",
    "institutionalise_and_share": "lena",
    "plan_next_cycle": "pia",
}
STEP_ORDER = [
    "assess_performance",
    "identify_gaps",
    "design_microprojects",
    "leadership_approval",
    "implement_microproject",
    "evaluate_results",
    "institutionalise_and_share",
    "plan_next_cycle",
]
INDICATORS = [
    {
        "key": "permits",
        "name": "Permits issued within 30 days",
        "unit": "%",
        "direction": "increase",
        "baseline": 55,
        "target": 80,
    },
    {
        "key": "backlog",
        "name": "Open complaints",
        "unit": "cases",
        "direction": "decrease",
        "baseline": 120,
        "target": 60,
    },
]


@dataclass(frozen=True)
class ReadyTask:
    """A user task waiting for its form, however the variant found it."""

    id: str
    element_id: str
    assignee: str | None
    data: dict  # what the task shows: its form's starting data in picycle, task data in Spiff


def performer(task: ReadyTask) -> str:
    return task.assignee or PERFORMERS[task.element_id]


def form_for(task: ReadyTask, today: date) -> dict:
    """The data a unit enters at this task; targets are met, so the cycle ends after one pass."""
    element = task.element_id
    if element == "assess_performance":
        # A fresh assessment each cycle keeps every gap open; the seeded baselines would close
        # them (the previous cycle met its targets).
        return {"indicators": copy.deepcopy(INDICATORS)}
    if element == "identify_gaps":
        causes = {"cause_category": "tools_resources", "cause": "Paper files"}
        return {"gaps": [{**gap, **causes, "impact": 5, "effort": 2} for gap in task.data["gaps"]]}
    if element == "design_microprojects":
        return {"microprojects": microprojects(due=(today + timedelta(days=30)).isoformat())}
    if element == "leadership_approval":
        return {"approved": True, "comment": "Go ahead"}
    if element == "implement_microproject":
        return {"status": "done", "report": "Delivered"}
    if element == "evaluate_results":
        measured = [{"indicator": "permits", "actual": 82}, {"indicator": "backlog", "actual": 55}]
        return {"measurements": measured, "lessons_learned": "Small steps work"}
    if element == "institutionalise_and_share":
        return {"standardised_practices": ["Online permit intake"], "presented_to": "All staff"}
    if element == "plan_next_cycle":
        start = (today + timedelta(days=30)).isoformat()
        return {"next_cycle_start": start, "next_cycle_title": "Faster permits, again"}
    raise ValueError(f"the benchmark has no form for {element}")


def microprojects(due: str) -> list[dict]:
    """The two microprojects designed for ``INDICATORS``' gaps, due on ``due``."""
    return [
        {
            "title": "Digital permit intake",
            "gap": "permits",
            "owner": "dana",
            "due": due,
            "deliverable": "Online intake form in use",
        },
        {
            "title": "Complaint triage desk",
            "gap": "backlog",
            "owner": "omar",
            "due": due,
            "deliverable": "Daily triage rota",
        },
    ]


def start_clock() -> FixedClock:
    # Today, so SpiffWorkflow's own clock (used outside picycle in (a) and (b)) never sees a
    # microproject's overdue timer as due: the fixed clock only runs ahead of real time.
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    return FixedClock(today)


# --- measuring ----------------------------------------------------------------------------------


@dataclass
class Timings:
    """Seconds per completion, each with the user task it completed."""

    label: str
    samples: list[tuple[str, float]] = field(default_factory=list)

    def add(self, element_id: str, seconds: float) -> None:
        self.samples.append((element_id, seconds))

    def seconds(self, element_id: str | None = None) -> list[float]:
        return [s for e, s in self.samples if element_id in (None, e)]

    def median_ms(self, element_id: str | None = None) -> float:
        return statistics.median(self.seconds(element_id)) * 1000

    def p90_ms(self) -> float:
        return statistics.quantiles(self.seconds(), n=10, method="inclusive")[-1] * 1000

    def mean_ms(self) -> float:
        return statistics.fmean(self.seconds()) * 1000


@dataclass
class Sizes:
    """Bytes of serialized state; the first value noted under a name is kept."""

    entries: dict[str, int] = field(default_factory=dict)

    def note(self, name: str, size: int | None) -> None:
        if size is not None:
            self.entries.setdefault(name, size)


class Variant(Protocol):
    """One way of running cycles; ``complete`` returns the seconds its timed part took."""

    name: str
    clock: FixedClock

    def start(self, unit: str) -> Any: ...
    def ready(self, cycle: Any) -> list[ReadyTask]: ...
    def complete(self, cycle: Any, task: ReadyTask, form: dict) -> float: ...
    def completed(self, cycle: Any) -> bool: ...
    def state_size(self, cycle: Any) -> int | None: ...


class CycleRun:
    """One cycle of one variant, moved on a completion at a time."""

    def __init__(self, variant: Variant, unit: str):
        self.variant = variant
        self.cycle = variant.start(unit)
        self.completions = 0

    def step(self, timings: Timings | None) -> bool:
        """Completes the next user task; False once the cycle has none left."""
        ready = self.variant.ready(self.cycle)
        if not ready:
            self._check_whole_cycle()
            return False
        self.variant.clock.advance(days=1)  # keeps due dates moving as a real cycle's would
        task = ready[0]
        seconds = self.variant.complete(
            self.cycle, task, form_for(task, self.variant.clock().date())
        )
        self.completions += 1
        if timings is not None:
            timings.add(task.element_id, seconds)
        return True

    def _check_whole_cycle(self) -> None:
        # Every variant must walk the same whole cycle, or comparing them means nothing.
        if not self.variant.completed(self.cycle) or self.completions != COMPLETIONS_PER_CYCLE:
            raise RuntimeError(
                f"{self.variant.name}: the cycle stopped after {self.completions} completions, "
                f"expected {COMPLETIONS_PER_CYCLE} and a completed cycle"
            )


def run_cycle(variant: Variant, unit: str, timings: Timings | None = None) -> None:
    run = CycleRun(variant, unit)
    while run.step(timings):
        pass


def run_side_by_side(pairs: list[tuple[CycleRun, Timings]]) -> None:
    """Alternates completions between cycles, so a noisy spell of the machine hits them alike."""
    while pairs:
        pairs = [(run, timings) for run, timings in pairs if run.step(timings)]


def warm_up(variant: Variant, cycles: int, sizes: Sizes) -> None:
    """Untimed cycles first: caches, compiled scripts and connections get filled."""
    for _ in range(cycles):
        run = CycleRun(variant, "Warm-up unit")
        sizes.note(f"{variant.name}, fresh cycle", variant.state_size(run.cycle))
        while run.step(None):
            pass
        sizes.note(f"{variant.name}, completed cycle", variant.state_size(run.cycle))


# --- (a) raw SpiffWorkflow in memory ------------------------------------------------------------


@dataclass(frozen=True)
class Specs:
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]


def shipped_specs() -> Specs:
    parsed = parse_bundle(read_bundle(shipped_processes()))
    process = next(p for p in parsed if p.process_id == PROCESS_ID)
    return Specs(process.spec, process.subprocess_specs)


def new_workflow(specs: Specs, script_engine, unit: str) -> BpmnWorkflow:
    """A new instance holding the start data picycle's start_cycle gives it."""
    workflow = BpmnWorkflow(specs.spec, specs.subprocess_specs, script_engine=script_engine)
    start_data = {"unit": unit, "title": "Faster permits", "cycle_number": 1}
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(start_data, previous_cycle=None)
    workflow.do_engine_steps()
    return workflow


def ready_in_memory(workflow: BpmnWorkflow) -> list[ReadyTask]:
    ready = []
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        element_id = task.task_spec.bpmn_id
        owner = task.data["microproject"]["owner"] if "microproject" in task.data else None
        ready.append(ReadyTask(str(task.id), element_id, owner, task.data))
    return ready


def run_user_task(workflow: BpmnWorkflow, task: SpiffTask, form: dict) -> None:
    """What completing a user task is, for SpiffWorkflow: the part (a) times."""
    task.data.update(form)
    task.run()
    workflow.do_engine_steps()


class RawVariant:
    name = "raw SpiffWorkflow"

    def __init__(self, specs: Specs, script_engine: PythonScriptEngine | None = None):
        self.specs = specs
        self.script_engine = script_engine or sandboxed_script_engine(DEFAULT_LIMITS)
        self.clock = start_clock()

    def start(self, unit: str) -> BpmnWorkflow:
        return new_workflow(self.specs, self.script_engine, unit)

    def ready(self, cycle: BpmnWorkflow) -> list[ReadyTask]:
        return ready_in_memory(cycle)

    def complete(self, cycle: BpmnWorkflow, task: ReadyTask, form: dict) -> float:
        target = cycle.get_task_from_id(UUID(task.id))
        started = time.perf_counter()
        run_user_task(cycle, target, form)
        return time.perf_counter() - started

    def completed(self, cycle: BpmnWorkflow) -> bool:
        return cycle.completed

    def state_size(self, cycle: BpmnWorkflow) -> None:
        return None


def stock_script_engine() -> PythonScriptEngine:
    """SpiffWorkflow's own environment, unsandboxed and unbudgeted, with the date helpers
    picycle's offers (the PI-cycle scripts use them)."""
    helpers = {"date": date, "datetime": datetime, "timedelta": timedelta, "timezone": timezone}
    return PythonScriptEngine(environment=TaskDataEnvironment(helpers))


# --- (b) naive persistence: the stock serializer, one row per workflow --------------------------


@dataclass
class StoredWorkflow:
    row_id: int
    latest: BpmnWorkflow  # the last one loaded, to list its ready tasks outside the timing


class NaiveVariant:
    """One SQLite table, one TEXT column holding SpiffWorkflow's full serialization.

    SQLite is opened as picycle opens it (WAL, synchronous=NORMAL), so (b) and (c) differ in
    what they do per completion, not in how the file is synced."""

    name = "stock full serialization"

    def __init__(self, specs: Specs, path: Path):
        self.specs = specs
        self.clock = start_clock()
        self.database = open_database(f"sqlite:///{path}")
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
        self.script_engine = sandboxed_script_engine(DEFAULT_LIMITS)
        with self.database.begin() as connection:
            connection.execute(text("CREATE TABLE workflow (id INTEGER PRIMARY KEY, state TEXT)"))

    def start(self, unit: str) -> StoredWorkflow:
        workflow = new_workflow(self.specs, self.script_engine, unit)
        with self.database.begin() as connection:
            state = self.serializer.serialize_json(workflow)
            insert = text("INSERT INTO workflow (state) VALUES (:state)")
            row_id = connection.execute(insert, {"state": state}).lastrowid
        return StoredWorkflow(row_id, workflow)

    def ready(self, cycle: StoredWorkflow) -> list[ReadyTask]:
        return ready_in_memory(cycle.latest)

    def complete(self, cycle: StoredWorkflow, task: ReadyTask, form: dict) -> float:
        started = time.perf_counter()
        with self.database.begin() as connection:
            workflow = self.serializer.deserialize_json(self._load(connection, cycle.row_id))
            workflow.script_engine = self.script_engine
            run_user_task(workflow, workflow.get_task_from_id(UUID(task.id)), form)
            connection.execute(
                text("UPDATE workflow SET state = :state WHERE id = :id"),
                {"state": self.serializer.serialize_json(workflow), "id": cycle.row_id},
            )
        seconds = time.perf_counter() - started
        cycle.latest = workflow
        return seconds

    def completed(self, cycle: StoredWorkflow) -> bool:
        return cycle.latest.completed

    def state_size(self, cycle: StoredWorkflow) -> int:
        with self.database.connect() as connection:
            return len(self._load(connection, cycle.row_id).encode())

    @staticmethod
    def _load(connection, row_id: int) -> str:
        query = text("SELECT state FROM workflow WHERE id = :id")
        return connection.execute(query, {"id": row_id}).scalar_one()

    def dispose(self) -> None:
        self.database.dispose()


# --- (c) picycle's full path --------------------------------------------------------------------


def prepared_engine(url: str, clock: FixedClock) -> tuple[Engine, dict[str, str]]:
    """An engine on a migrated database with the shipped processes and the people in place,
    and each person's API token."""
    engine = Engine(url, clock)
    engine.upgrade_schema()
    with engine.unit_of_work() as uow:
        definitions.deploy(uow, SYSTEM, read_bundle(shipped_processes()))
    tokens = {}
    for name, (role, groups) in PEOPLE.items():
        with engine.unit_of_work() as uow:
            tokens[name] = users.add_user(uow, SYSTEM, name, role, groups).token
    return engine, tokens


class StatementCounter:
    """SQL statements the engine sends (BEGIN and COMMIT are not statements)."""

    def __init__(self, engine: Engine):
        self.count = 0
        event.listen(engine.database, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if not statement.startswith("BEGIN"):
            self.count += 1


class PicycleVariant:
    """Cycles through picycle's services; a completion is what an API request does: one unit
    of work that authenticates the caller's token, completes the task and commits."""

    name = "picycle cycle.state"

    def __init__(self, database: str, short: str, url: str):
        self.database = database
        self.short = short  # the column heading in the per-task table
        self.clock = start_clock()
        self.engine, self.tokens = prepared_engine(url, self.clock)
        with self.engine.unit_of_work(write=False) as uow:
            self.actors = {name: users.actor_named(uow, name) for name in PEOPLE}
        self.statements = StatementCounter(self.engine)
        self.statements_per_completion: list[int] = []
        # Looked up once: a lookup in a writing unit of work that writes nothing ends with
        # ROLLBACK, and psycopg forgets the connection's prepared statements at a rollback.
        self.units: dict[str, int] = {}

    def start(self, unit: str) -> int:
        if unit not in self.units:
            self.units[unit] = unit_named(self.engine, unit)
        unit_id = self.units[unit]
        with self.engine.unit_of_work() as uow:
            return cycles.start_cycle(uow, self.actors["pia"], unit_id, "Faster permits").id

    def ready(self, cycle: int) -> list[ReadyTask]:
        with self.engine.unit_of_work(write=False) as uow:
            found = [tasks.get_task(uow, SYSTEM, t.id) for t in cycles.open_tasks(uow, cycle)]
        return [ReadyTask(t.id, t.element_id, t.assignee, t.form_data) for t in found]

    def complete(self, cycle: int, task: ReadyTask, form: dict) -> float:
        token = self.tokens[performer(task)]
        before = self.statements.count
        started = time.perf_counter()
        with self.engine.unit_of_work() as uow:
            tasks.complete_task(uow, users.authenticate(uow, token), task.id, form)
        elapsed = time.perf_counter() - started
        self.statements_per_completion.append(self.statements.count - before)
        return elapsed

    def completed(self, cycle: int) -> bool:
        with self.engine.unit_of_work(write=False) as uow:
            return cycles.get_cycle(uow, SYSTEM, cycle).status == "completed"

    def state_size(self, cycle: int) -> int:
        with self.engine.unit_of_work(write=False) as uow:
            state = uow.session.scalar(select(CycleRow.state).where(CycleRow.id == cycle))
        return len(state.encode())

    def spec_size(self) -> int:
        with self.engine.unit_of_work(write=False) as uow:
            spec = uow.session.scalar(
                select(ProcessDefinition.spec).where(ProcessDefinition.process_id == PROCESS_ID)
            )
        return len(spec.encode())

    def commit_floor_ms(self, transactions: int = 200) -> float:
        """Median ms of the cheapest durable write: a one-row INSERT and its COMMIT, in a
        write transaction as the engine opens them. No completion can cost less."""
        with self.engine.database.begin() as connection:
            connection.execute(text("CREATE TABLE bench_commit_floor (n INTEGER)"))
        writer = self.engine.database.execution_options(picycle_write=True)
        seconds = []
        for n in range(transactions):
            started = time.perf_counter()
            with writer.begin() as connection:
                connection.execute(text("INSERT INTO bench_commit_floor VALUES (:n)"), {"n": n})
            seconds.append(time.perf_counter() - started)
        return statistics.median(seconds) * 1000

    def dispose(self) -> None:
        self.engine.dispose()


@dataclass
class DatabaseRun:
    """picycle on one database: veteran units with a long history, and their timings."""

    variant: PicycleVariant
    history: int
    veterans: list[str] = field(default_factory=list)
    building: dict[int, Timings] = field(default_factory=dict)
    commit_floor_ms: float = 0.0

    def __post_init__(self) -> None:
        name = self.variant.database
        self.first = Timings(f"(c) picycle, {name}, cycle 1")
        self.last = Timings(f"(c) picycle, {name}, cycle {self.history}")
        self.raw_beside = Timings(f"(a) raw SpiffWorkflow, beside (c) on {name}")

    def build_history(self, units: int) -> None:
        """Each veteran gets history - 1 completed cycles; each is timed, to show the trend."""
        self.veterans = [f"Veteran unit {n}" for n in range(units)]
        # Round robin: the database grows with every unit's history as the cycles go by.
        for cycle_number in range(1, self.history):
            timings = self.building.setdefault(cycle_number, Timings(f"cycle {cycle_number}"))
            for unit in self.veterans:
                run_cycle(self.variant, unit, timings)

    def measure(self, veterans: list[str], raw: RawVariant) -> None:
        """Each veteran's next cycle beside a newcomer's first and a raw cycle, completion
        by completion. The raw cycle is (a) in the same moments as (c) and with the CPU's
        caches as (c)'s work leaves them, where (a) on its own runs step after step."""
        for unit in veterans:
            newcomer = unit.replace("Veteran", "Newcomer")
            run_side_by_side(
                [
                    (CycleRun(self.variant, newcomer), self.first),
                    (CycleRun(self.variant, unit), self.last),
                    (CycleRun(raw, "Raw unit"), self.raw_beside),
                ]
            )


# --- the plan -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    rounds: int  # every variant is measured in each round, so slow spells hit all of them
    raw_cycles: int
    naive_cycles: int
    veterans: int  # units per database measured at their last cycle
    history: int = 50  # the cycle measured: the unit has history - 1 completed cycles
    warm_up_cycles: int = 3

    def share(self, total: int, round_number: int) -> int:
        return total // self.rounds + (round_number < total % self.rounds)


# Eight rounds: (a) and (c) are measured in turn often enough that a slower or faster spell
# of the machine falls on both.
FULL = Plan(rounds=8, raw_cycles=400, naive_cycles=80, veterans=8)
QUICK = Plan(rounds=2, raw_cycles=60, naive_cycles=16, veterans=2)


@dataclass
class Results:
    stock: Timings
    raw: Timings
    naive: Timings
    databases: list[DatabaseRun]
    sizes: Sizes


def run(plan: Plan, databases: Databases) -> Results:
    specs = shipped_specs()
    raw, naive = RawVariant(specs), NaiveVariant(specs, databases.folder / "naive.db")
    stock = RawVariant(specs, stock_script_engine())
    picycle = [PicycleVariant("SQLite", "sqlite", databases.sqlite_url("picycle.db"))]
    if databases.postgres_url:
        picycle.append(PicycleVariant("PostgreSQL", "pg", databases.postgres_url))
    try:
        sizes = Sizes()
        for variant in (stock, raw, naive, *picycle):
            warm_up(variant, plan.warm_up_cycles, sizes)
        sizes.note("picycle spec, stored once per version", picycle[0].spec_size())
        results = Results(
            stock=Timings("(a0) raw SpiffWorkflow, SpiffWorkflow's stock script engine"),
            raw=Timings("(a) raw SpiffWorkflow, picycle's sandboxed script engine"),
            naive=Timings("(b) naive: whole workflow in one SQLite row, stock serializer"),
            databases=[DatabaseRun(variant, plan.history) for variant in picycle],
            sizes=sizes,
        )
        for database in results.databases:
            announce(
                f"building history on {database.variant.database}: "
                f"{plan.veterans} units x {plan.history - 1} cycles"
            )
            database.build_history(plan.veterans)
        for round_number in range(plan.rounds):
            announce(f"measuring, round {round_number + 1} of {plan.rounds}")
            measure_round(plan, round_number, (stock, raw), naive, results)
        for database in results.databases:
            database.commit_floor_ms = database.variant.commit_floor_ms()
        return results
    finally:
        naive.dispose()
        for variant in picycle:
            variant.dispose()


def measure_round(
    plan: Plan,
    round_number: int,
    raws: tuple[RawVariant, RawVariant],
    naive: NaiveVariant,
    results: Results,
) -> None:
    stock, raw = raws
    for _ in range(plan.share(plan.raw_cycles, round_number)):
        run_side_by_side(
            [
                (CycleRun(stock, "Stock unit"), results.stock),
                (CycleRun(raw, "Raw unit"), results.raw),
            ]
        )
    for _ in range(plan.share(plan.naive_cycles, round_number)):
        run_cycle(naive, "Naive unit", results.naive)
    for database in results.databases:
        database.measure(database.veterans[round_number :: plan.rounds], raw)


# --- the report ---------------------------------------------------------------------------------


def print_table(rows: list[Timings]) -> None:
    print(f"\n{'ms per completion':<64}{'n':>6}{'median':>9}{'p90':>9}{'mean':>9}")
    for row in rows:
        figures = f"{row.median_ms():>9.2f}{row.p90_ms():>9.2f}{row.mean_ms():>9.2f}"
        print(f"{row.label:<64}{len(row.samples):>6}{figures}")


def print_steps(rows: list[Timings], headings: list[str]) -> None:
    """Median per user task: shows which completions carry the cost."""
    print(f"\n{'median ms by user task':<28}" + "".join(f"{h:>10}" for h in headings))
    for step in STEP_ORDER:
        print(f"{step:<28}" + "".join(f"{row.median_ms(step):>10.2f}" for row in rows))


def print_trend(database: DatabaseRun) -> None:
    """How a completion's cost moved while the veterans' history (and the database) grew."""
    numbers = sorted(database.building)
    shown = sorted({numbers[0], *numbers[9::10], numbers[-1]})
    cells = "  ".join(f"{n}: {database.building[n].median_ms():.2f}" for n in shown)
    print(f"  {database.variant.database:<11}{cells}")


@dataclass(frozen=True)
class Ratio:
    """One comparison; judged on medians, with the ratio of means beside it for context."""

    name: str
    slower: Timings
    faster: Timings
    goal: float | None

    def line(self, goals: Goals) -> str:
        by_median = self.slower.median_ms() / self.faster.median_ms()
        by_mean = self.slower.mean_ms() / self.faster.mean_ms()
        figures = f"{self.name:<48}{by_median:>8.2f}{by_mean:>8.2f}"
        if self.goal is None:
            return f"{figures}   (context, no goal)"
        verdict = goals.judge(self.name, by_median, self.goal, at_most=True, unit="x")
        return f"{figures}   {verdict}"


def ratios(results: Results) -> list[Ratio]:
    raw, naive = results.raw, results.naive
    found = [
        Ratio("(a) sandboxed / (a0) stock script engine", raw, results.stock, None),
        Ratio("(b) naive / (a) raw", naive, raw, None),
    ]
    for database in results.databases:
        first, last = database.first, database.last
        name, history = database.variant.database, database.history
        # (b) runs on SQLite only: on PostgreSQL the comparison crosses databases.
        naive_name = "(b) naive" if name == "SQLite" else "(b) naive on SQLite"
        found += [
            Ratio(f"(c) {name} cycle 1 / (a)", first, raw, GOAL_VS_RAW[name]),
            Ratio(f"(c) {name} cycle {history} / (a)", last, raw, GOAL_VS_RAW[name]),
            # Context: (a) with its caches as cold as (c) leaves them, in the same moments.
            Ratio(f"(c) {name} cycle {history} / (a) beside it", last, database.raw_beside, None),
            Ratio(f"(c) {name} cycle {history} / cycle 1", last, first, GOAL_HISTORY),
            Ratio(f"(c) {name} cycle 1 / {naive_name}", first, naive, None),
            Ratio(f"(c) {name} cycle {history} / {naive_name}", last, naive, None),
        ]
    return found


def report(results: Results, skipped: str | None, goals: Goals) -> None:
    picycle_rows = [t for d in results.databases for t in (d.first, d.last)]
    rows = [results.stock, results.raw, results.naive, *picycle_rows]
    print_table(rows + [d.raw_beside for d in results.databases])
    if skipped:
        print(f"(c) on PostgreSQL skipped: {skipped}")
    headings = ["(a0)", "(a)", "(b)"] + [
        f"{d.variant.short}-{n}" for d in results.databases for n in (1, d.history)
    ]
    print_steps(rows, headings)
    print("\nmedian ms per completion by cycle number while the history was built")
    print("(one cycle after another: a busy spell of the machine shows here, not in the tables)")
    for database in results.databases:
        print_trend(database)
    print("\nSQL statements per completion, authentication included")
    for database in results.databases:
        name = database.variant.database
        counts = database.variant.statements_per_completion
        median = statistics.median(counts)
        verdict = goals.judge(
            f"{name} SQL statements per completion",
            median,
            GOAL_STATEMENTS,
            at_most=True,
            unit="statements",
        )
        print(
            f"  {name:<11}median {median:g}, from {min(counts)} to "
            f"{max(counts)} over {len(counts)} completions   {verdict}"
        )
    print("\nthe floor: one durable one-row write transaction (INSERT + COMMIT), median")
    for database in results.databases:
        floor = database.commit_floor_ms
        print(
            f"  {database.variant.database:<11}{floor:.2f} ms = "
            f"{floor / results.raw.median_ms():.1f} x (a)'s median"
        )
    print(f"\n{'ratios per completion':<50}{'median':>8}{'mean':>8}")
    for ratio in ratios(results):
        print("  " + ratio.line(goals))
    print("\nserialized sizes")
    for name, size in results.sizes.entries.items():
        print(f"  {name:<42}{size:>9,} bytes")


# --- running it ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    args = parse_args("What one user-task completion costs.", SCHEMA, argv)
    plan = QUICK if args.quick else FULL
    measure_and_report(args, SCHEMA, partial(run, plan), report)


if __name__ == "__main__":
    main()
