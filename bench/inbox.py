"""How the inbox holds up under a large task table, and what a completion costs over HTTP.

1. Fill: 1,000,000 task rows (about 10% open) in cycles spread over 200 units (a ministry,
   19 directorates below it, 180 departments below them), worked by 200 members of the
   three lanes, each a member of their group in a unit: the PI unit at the ministry,
   leadership in a directorate, department teams in three departments each; bulk-inserted
   (SQLAlchemy Core on SQLite, COPY on PostgreSQL) next to one real cycle the rows copy
   their titles, forms and data from.
2. The inbox as a typical member sees it: ``GET /api/v1/tasks`` through the Flask test
   client, and the service behind it (``list_inbox``) called directly; p50/p95 of the first
   page, a deep page, ``sort=due``, ``overdue=true``, one unit's tasks and
   ``scope=groups``. The tables and their indexes are the migrations' own. When a request
   misses its goal in a full run, the plans of the SQL ``list_inbox`` emits for it are
   printed.
3. ``POST /api/v1/tasks/<id>/complete`` over HTTP against waitress in a process of its own
   (as ``picycle serve`` runs it), on the filled database: one client after another, then
   several at once, against one server process and against one per CPU.

Run from the repository root::

    .venv/bin/python -m bench.inbox            # full run, about 5 minutes
    .venv/bin/python -m bench.inbox --quick    # 100,000 task rows (or PICYCLE_BENCH_QUICK=1)
    .venv/bin/python bench/inbox.py --no-postgres

PostgreSQL: ``--postgres-url`` or ``PICYCLE_BENCH_POSTGRES_URL`` (default: the test database).
The benchmark works in a schema of its own, ``picycle_bench_inbox``, dropped at the end.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

# Run as ``python bench/inbox.py``, this file's folder comes first on sys.path; the
# repository root must be there too for the ``bench`` package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from picycle.api import create_app
from picycle.engine.actors import SYSTEM, Actor
from picycle.engine.audit.chain import GENESIS
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.clock import FixedClock
from picycle.engine.db.models import Cycle, Task
from picycle.engine.services import cycles, definitions, inbox, tasks, users
from picycle.engine.services.inbox import InboxQuery
from picycle.engine.uow import Engine
from picycle.engine.vocabulary import InboxScope, TaskState
from sqlalchemy import event, func, insert, select, text

from bench.common import (
    BenchSchema,
    Databases,
    Goals,
    Server,
    announce,
    measure_and_report,
    median,
    parse_args,
    percentile,
    take_turns,
    unit_named,
)
from bench.engine import INDICATORS, PEOPLE, ReadyTask, form_for, performer

SCHEMA = BenchSchema("picycle_bench_inbox")

GOAL_INBOX_P95_MS = 20.0
GOAL_COMPLETION_MEDIAN_MS = 8.0
GOAL_COMPLETIONS_PER_S = 150.0
# Not measured by this benchmark: printed for scale, always with its source and date.
PEER = (
    "quoted, not measured here: spiff-arena (SpiffWorkflow + Flask backend) on this kind of "
    "machine, ~87 ms per completion, ~11/s (picycle's README of 2026-11-23)"
)


@dataclass(frozen=True)
class Plan:
    task_rows: int
    requests: int  # per inbox query and database
    sequential: int  # completions one after another, per database
    concurrent: int  # completions by all clients together, per database
    clients: int = 8


FULL = Plan(task_rows=1_000_000, requests=200, sequential=200, concurrent=480)
QUICK = Plan(task_rows=100_000, requests=60, sequential=60, concurrent=160)


# --- the people ---------------------------------------------------------------------------------

LANES = {"PI Unit": 50, "Department Team": 100, "Leadership": 50}
ASSIGNEES = 60  # department members who own microprojects
MEMBER_NUMBER = 7
MEMBER = f"department-{MEMBER_NUMBER:03}"  # the typical member whose inbox is measured: one
# lane in three departments, some microprojects of their own
DIRECTORATES = 19
DEPARTMENTS = 180  # 200 units with the ministry and the directorates
UNITS_PER_TEAM_MEMBER = 3


@dataclass(frozen=True)
class Organisation:
    """The unit tree's ids: the ministry, its directorates, their departments."""

    ministry: int
    directorates: list[int]
    departments: list[int]
    names: dict[int, str]

    @property
    def units(self) -> list[int]:
        return [self.ministry, *self.directorates, *self.departments]

    def directorate_of(self, department: int) -> int:
        return self.directorates[self.departments.index(department) % DIRECTORATES]

    def team_units(self, member: int) -> list[int]:
        """A department team member's departments, spread over the tree."""
        step = DEPARTMENTS // UNITS_PER_TEAM_MEMBER
        return [
            self.departments[(member + k * step) % DEPARTMENTS]
            for k in range(UNITS_PER_TEAM_MEMBER)
        ]


def make_organisation(engine: Engine) -> Organisation:
    names: dict[int, str] = {}

    def add(name: str, parent: int | None) -> int:
        names[unit := unit_named(engine, name, parent)] = name
        return unit

    ministry = add("Ministry", None)
    directorates = [add(f"Directorate {n:02}", ministry) for n in range(DIRECTORATES)]
    departments = [
        add(f"Department {n:03}", directorates[n % DIRECTORATES]) for n in range(DEPARTMENTS)
    ]
    return Organisation(ministry, directorates, departments, names)


def member_names(lane: str) -> list[str]:
    prefix = lane.split()[0].lower()
    return [f"{prefix}-{n:03}" for n in range(LANES[lane])]


def memberships(org: Organisation, lane: str, n: int) -> list[tuple[str, int]]:
    if lane == "PI Unit":
        return [(lane, org.ministry)]
    if lane == "Leadership":
        return [(lane, org.directorates[n % DIRECTORATES])]
    return [(lane, unit) for unit in org.team_units(n)]


def add_people(engine: Engine, org: Organisation) -> dict[str, str]:
    """Everyone in the lanes, each a member in units; bench.engine's people (their groups
    held in the whole organisation) for the real cycle; name -> token."""
    tokens = {}
    for lane in LANES:
        for n, name in enumerate(member_names(lane)):
            with engine.unit_of_work() as uow:  # the service commits
                added = users.add_user(uow, SYSTEM, name, "member", [], memberships(org, lane, n))
                tokens[name] = added.token
    for name, (role, groups) in PEOPLE.items():
        with engine.unit_of_work() as uow:
            tokens[name] = users.add_user(uow, SYSTEM, name, role, groups).token
    return tokens


# --- one real cycle, which the filled rows copy -------------------------------------------------


@dataclass(frozen=True)
class Template:
    """One user task as a real cycle's inbox row shows it."""

    element_id: str
    title: str
    instructions: str | None
    candidate_group: str | None
    form_file: str | None
    form_data: dict


def real_templates(engine: Engine, clock: FixedClock) -> dict[str, Template]:
    """Runs one whole cycle through the services and keeps each user task's inbox row."""
    unit = unit_named(engine, "Template unit")
    with engine.unit_of_work(write=False) as uow:
        actors = {name: users.actor_named(uow, name) for name in PEOPLE}
    with engine.unit_of_work() as uow:
        cycle_id = cycles.start_cycle(uow, actors["pia"], unit, "Faster permits").id
    found: dict[str, Template] = {}
    while True:
        with engine.unit_of_work(write=False) as uow:
            ready = uow.session.scalars(
                select(Task)
                .where(Task.cycle_id == cycle_id, Task.state == TaskState.OPEN)
                .order_by(Task.created_at, Task.id)
            ).all()
        if not ready:
            return found
        row = ready[0]
        found.setdefault(
            row.element_id,
            Template(
                row.element_id,
                row.title,
                row.instructions,
                row.candidate_group,
                row.form_file,
                row.form_data,
            ),
        )
        task = ReadyTask(row.id, row.element_id, row.assignee, row.form_data)
        clock.advance(days=1)
        with engine.unit_of_work() as uow:
            tasks.complete_task(
                uow, actors[performer(task)], task.id, form_for(task, clock().date())
            )


# --- the fill -----------------------------------------------------------------------------------

# The stages of a cycle, in order: the user tasks each opens. The design is sent back once.
STAGES = [
    ("assess_performance",),
    ("identify_gaps",),
    ("design_microprojects",),
    ("leadership_approval",),
    ("design_microprojects",),
    ("leadership_approval",),
    ("implement_microproject", "implement_microproject"),
    ("evaluate_results",),
    ("institutionalise_and_share",),
]
# Where running cycles wait: implementation takes weeks, so most wait there.
WAITING_AT = [8, 8, 7, 7, 3, 3, 40, 12, 12]
RUNNING_SHARE = 0.57  # with WAITING_AT, about 10% of all task rows are open
CLAIMED_SHARE = 0.15  # open group tasks someone has claimed
OVERDUE_SHARE = 0.10  # of all open tasks; only microprojects have due dates
IMPLEMENTING_SHARE_OF_OPEN = 0.8 / 1.4  # open rows that are microprojects, by WAITING_AT

TASK_COLUMNS = [c.name for c in Task.__table__.columns]
CYCLE_COLUMNS = [c.name for c in Cycle.__table__.columns]


@dataclass
class Filled:
    cycles: int = 0
    rows: int = 0
    open: int = 0
    overdue: int = 0
    seconds: float = 0.0  # all of it: load, indexes, statistics
    load_seconds: float = 0.0


class Filler:
    """Cycles and their task rows, made up deterministically, a cycle at a time."""

    def __init__(
        self, templates: dict[str, Template], now: datetime, definition_id: int, units: list[int]
    ):
        self.templates = templates
        self.now = now
        self.definition_id = definition_id
        self.units = units
        self.members = {lane: member_names(lane) for lane in LANES}
        self.assignees = self.members["Department Team"][:ASSIGNEES]
        self.rng = random.Random(1849)
        self.filled = Filled()
        self.cycle_limit: int | None = None  # stop at this many cycles, whatever the rows

    def batches(self, first_id: int, rows: int, size: int) -> Iterator[tuple[list, list]]:
        """(cycle rows, task rows) as tuples in table column order, about ``size`` task rows
        at a time, until ``rows`` task rows are made."""
        cycle_rows: list[tuple] = []
        task_rows: list[tuple] = []
        cycle_id = first_id
        while self.filled.rows < rows and self.filled.cycles != self.cycle_limit:
            cycle, made = self._cycle(cycle_id, cycle_id - first_id)
            cycle_rows.append(cycle)
            task_rows.extend(made)
            cycle_id += 1
            if len(task_rows) >= size:
                yield cycle_rows, task_rows
                cycle_rows, task_rows = [], []
        if cycle_rows:
            yield cycle_rows, task_rows

    def _cycle(self, cycle_id: int, number: int) -> tuple[tuple, list[tuple]]:
        rng, now = self.rng, self.now
        running = rng.random() < RUNNING_SHARE
        if running:
            at = rng.choices(range(len(STAGES)), weights=WAITING_AT)[0]
            opened = now - timedelta(days=rng.uniform(0.05, 45))
            # Walk back from the open stage to find when the cycle started.
            started = opened - timedelta(days=sum(rng.uniform(1, 6) for _ in range(at)))
            stages = STAGES[: at + 1]
        else:
            started = now - timedelta(days=rng.uniform(75, 365))
            stages = STAGES
        rows, moment = [], started
        unit = self.units[number % len(self.units)]
        for index, elements in enumerate(stages):
            is_open = running and index == len(stages) - 1
            for element_id in elements:
                rows.append(self._task(cycle_id, unit, element_id, moment, is_open))
            if not is_open:
                days = 30 if elements[0] == "implement_microproject" else rng.uniform(0.5, 5)
                moment += timedelta(days=days)
        self.filled.cycles += 1
        self.filled.rows += len(rows)
        values = {
            "id": cycle_id,
            "definition_id": self.definition_id,
            "process_id": "pi_cycle",
            "unit_id": unit,
            "title": "Faster permits",
            "cycle_number": number // len(self.units) + 1,
            "previous_cycle_id": None,
            "status": "running" if running else "completed",
            "started_at": started,
            "started_by": self.members["PI Unit"][number % LANES["PI Unit"]],
            "ended_at": None if running else moment,
            "data": {},
            # Inbox reads never restore a workflow: a placeholder stands for the state.
            "state": "{}",
            "revision": 1,
            "audit_length": 0,
            "audit_head": GENESIS,
            "audit_seal": None,
        }
        return tuple(values[c] for c in CYCLE_COLUMNS), rows

    def _task(
        self, cycle_id: int, unit: int, element_id: str, created: datetime, is_open: bool
    ) -> tuple:
        rng, now = self.rng, self.now
        template = self.templates[element_id]
        group, assignee, due = template.candidate_group, None, None
        if element_id == "implement_microproject":
            group, assignee = None, rng.choice(self.assignees)
            due = created + timedelta(days=rng.uniform(14, 45))
        if is_open:
            self.filled.open += 1
            created = now - timedelta(days=rng.uniform(0.02, 30))
            if due is not None:
                overdue = rng.random() < OVERDUE_SHARE / IMPLEMENTING_SHARE_OF_OPEN
                self.filled.overdue += overdue
                offset = timedelta(days=rng.uniform(0.05, 40))
                due = now - offset if overdue else now + offset
            worker = None
            if group and rng.random() < CLAIMED_SHARE:
                worker = rng.choice(self.members[group])
            state, ended, completed_by, claimed_by = "open", None, None, worker
        else:
            worker = assignee or rng.choice(self.members[group])
            ended = created + timedelta(hours=rng.uniform(1, 72))
            state, completed_by, claimed_by = "completed", worker, worker
        values = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "cycle_id": cycle_id,
            "unit_id": unit,
            "element_id": element_id,
            "title": template.title,
            "instructions": template.instructions,
            "candidate_group": group,
            "assignee": assignee,
            "claimed_by": claimed_by,
            "state": state,
            "created_at": created,
            "due_at": due,
            "ended_at": ended,
            "completed_by": completed_by,
            "form_file": template.form_file,
            "form_data": template.form_data,
        }
        return tuple(values[c] for c in TASK_COLUMNS)


def fill(engine: Engine, filler: Filler, rows: int) -> Filled:
    """Bulk-inserts the rows: executemany through SQLAlchemy Core on SQLite, COPY on
    PostgreSQL, with the secondary indexes of both tables dropped during the load and built
    again after it, as bulk loads do. Then PostgreSQL gets the VACUUM ANALYZE autovacuum
    would give it soon after such a load; SQLite stays as picycle leaves it (picycle never
    runs ANALYZE)."""
    with engine.unit_of_work(write=False) as uow:
        first_id = (uow.session.scalar(select(text("max(id)")).select_from(Cycle)) or 0) + 1
    indexes = [*Cycle.__table__.indexes, *Task.__table__.indexes]
    started = time.perf_counter()
    with engine.database.begin() as connection:
        for index in indexes:
            index.drop(connection)
    if engine.database.dialect.name == "postgresql":
        _copy_into_postgres(engine, filler, first_id, rows)
    else:
        _insert_into_sqlite(engine, filler, first_id, rows)
    loaded = time.perf_counter()
    with engine.database.begin() as connection:
        for index in indexes:
            index.create(connection)
    if engine.database.dialect.name == "postgresql":
        with engine.database.connect() as connection:
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.exec_driver_sql("VACUUM ANALYZE cycles")
            autocommit.exec_driver_sql("VACUUM ANALYZE tasks")
    filler.filled.seconds = time.perf_counter() - started
    filler.filled.load_seconds = loaded - started
    return filler.filled


def _insert_into_sqlite(engine: Engine, filler: Filler, first_id: int, rows: int) -> None:
    with engine.database.begin() as connection:
        # A page cache big enough that the load does not spill pages to the log over and
        # over; the connection gets SQLite's default back before it returns to the pool.
        connection.exec_driver_sql("PRAGMA cache_size = -262144")
        try:
            for cycle_rows, task_rows in filler.batches(first_id, rows, 20_000):
                connection.execute(
                    insert(Cycle.__table__),
                    [dict(zip(CYCLE_COLUMNS, r, strict=True)) for r in cycle_rows],
                )
                connection.execute(
                    insert(Task.__table__),
                    [dict(zip(TASK_COLUMNS, r, strict=True)) for r in task_rows],
                )
        finally:
            connection.exec_driver_sql("PRAGMA cache_size = -2000")


def _copy_into_postgres(engine: Engine, filler: Filler, first_id: int, rows: int) -> None:
    as_json: dict[int, str] = {}

    def jsonb(value: dict) -> str:
        # The templates' form data are shared objects: each is serialized once.
        key = id(value)
        if key not in as_json:
            as_json[key] = json.dumps(value)
        return as_json[key]

    cycle_json = CYCLE_COLUMNS.index("data")
    task_json = TASK_COLUMNS.index("form_data")
    connection = engine.database.raw_connection()
    try:
        with connection.cursor() as cursor:
            cycle_copy = f"COPY cycles ({', '.join(CYCLE_COLUMNS)}) FROM STDIN"
            task_copy = f"COPY tasks ({', '.join(TASK_COLUMNS)}) FROM STDIN"
            for cycle_rows, task_rows in filler.batches(first_id, rows, 20_000):
                with cursor.copy(cycle_copy) as copy:
                    for row in cycle_rows:
                        copy.write_row(_replace(row, cycle_json, jsonb(row[cycle_json])))
                with cursor.copy(task_copy) as copy:
                    for row in task_rows:
                        copy.write_row(_replace(row, task_json, jsonb(row[task_json])))
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('cycles', 'id'), max(id)) FROM cycles"
            )
        connection.commit()
    finally:
        connection.close()


def _replace(row: tuple, index: int, value: Any) -> tuple:
    return row[:index] + (value,) + row[index + 1 :]


# --- 2. the inbox: the service, and the endpoint through the Flask test client -----------------


@dataclass(frozen=True)
class InboxCase:
    name: str
    params: str  # the query string
    query: InboxQuery  # what list_inbox receives for it


def inbox_cases(deep_offset: int, unit: str) -> list[InboxCase]:
    return [
        InboxCase("first page", "limit=50", InboxQuery()),
        InboxCase(
            f"deep page (offset {deep_offset})",
            f"limit=50&offset={deep_offset}",
            InboxQuery(offset=deep_offset),
        ),
        InboxCase("sort=due", "sort=due&limit=50", InboxQuery(sort="due")),
        InboxCase("overdue=true", "overdue=true&limit=50", InboxQuery(overdue=True)),
        InboxCase(f"unit={unit}", f"unit={quote(unit)}&limit=50", InboxQuery(unit=unit)),
        InboxCase("scope=groups", "scope=groups&limit=50", InboxQuery(scope=InboxScope.GROUPS)),
    ]


class InboxClient:
    """``GET /api/v1/tasks`` in process, as the member, through the Flask test client."""

    def __init__(self, engine: Engine, token: str):
        self.client = create_app({"PICYCLE_ENGINE": engine, "TESTING": True}).test_client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, params: str) -> dict:
        response = self.client.get(f"/api/v1/tasks?{params}", headers=self.headers)
        if response.status_code != 200:
            raise RuntimeError(
                f"GET /api/v1/tasks?{params}: {response.status_code} {response.json}"
            )
        return response.json

    def timed(self, case: InboxCase) -> float:
        started = time.perf_counter()
        self.get(case.params)
        return time.perf_counter() - started


class InboxService:
    """``list_inbox`` called directly, as the member, in a read-only unit of work of its own:
    what the endpoint costs without authentication, parsing and JSON."""

    def __init__(self, engine: Engine, actor: Actor):
        self.engine = engine
        self.actor = actor

    def timed(self, case: InboxCase) -> float:
        started = time.perf_counter()
        with self.engine.unit_of_work(write=False) as uow:
            inbox.list_inbox(uow, self.actor, case.query)
        return time.perf_counter() - started


@dataclass
class Statement:
    sql: str
    parameters: Any
    cases: list[str]
    ms: float = 0.0
    plan: list[str] = field(default_factory=list)


def explain_inbox(engine: Engine, actor: Actor, cases: list[InboxCase]) -> list[Statement]:
    """The SQL ``list_inbox`` emits for the cases, each distinct statement once, with its
    time alone (median of 5) and its plan (EXPLAIN QUERY PLAN / EXPLAIN ANALYZE)."""
    found: dict[str, Statement] = {}
    for case in cases:
        emitted: list[tuple[str, Any]] = []

        def capture(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("SELECT"):
                emitted.append((statement, parameters))  # noqa: B023 (used at once)

        event.listen(engine.database, "before_cursor_execute", capture)
        try:
            with engine.unit_of_work(write=False) as uow:
                inbox.list_inbox(uow, actor, case.query)
        finally:
            event.remove(engine.database, "before_cursor_execute", capture)
        for sql, parameters in emitted:
            key = f"{sql}|{parameters}"
            found.setdefault(key, Statement(sql, parameters, [])).cases.append(case.name)
    postgres = engine.database.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    with engine.database.connect() as connection:
        for statement in found.values():
            seconds = []
            for _ in range(5):
                started = time.perf_counter()
                connection.exec_driver_sql(statement.sql, statement.parameters).fetchall()
                seconds.append(time.perf_counter() - started)
            statement.ms = median(seconds) * 1000
            rows = connection.exec_driver_sql(prefix + statement.sql, statement.parameters)
            statement.plan = [row[0] if postgres else row[-1] for row in rows]
    return list(found.values())


# --- 3. completions over HTTP against waitress --------------------------------------------------


def assessment_tasks(engine: Engine, org: Organisation, count: int, prefix: str) -> list[str]:
    """Starts ``count`` real cycles of the shipped process (in units of their own, below
    the ministry); returns the ids of their open "Assess performance" tasks. Started here,
    not through the server: the server restores each workflow from the database, as it does
    for a task completed days after its cycle began."""
    pi_unit = member_names("PI Unit")
    found = []
    units = [unit_named(engine, f"{prefix} {n:04}", org.ministry) for n in range(count)]
    with engine.unit_of_work(write=False) as uow:  # after the units: their reach holds them
        starters = [users.actor_named(uow, name) for name in pi_unit[:10]]
    for n, unit in enumerate(units):
        with engine.unit_of_work() as uow:
            cycle = cycles.start_cycle(uow, starters[n % 10], unit, "Faster permits")
        (task,) = cycle.open_tasks
        found.append(task.id)
    return found


class Completer:
    """One HTTP client: a keep-alive connection, completing assessments as one PI Unit member."""

    BODY = json.dumps({"data": {"indicators": INDICATORS}})

    def __init__(self, port: int, token: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def complete(self, task_id: str) -> float:
        started = time.perf_counter()
        self.connection.request(
            "POST", f"/api/v1/tasks/{task_id}/complete", body=self.BODY, headers=self.headers
        )
        response = self.connection.getresponse()
        body = response.read()
        seconds = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"completing {task_id}: {response.status} {body[:300]!r}")
        return seconds

    def close(self) -> None:
        self.connection.close()


@dataclass
class Concurrent:
    """Completions by several clients at once."""

    servers: int
    clients: int
    ms: list[float]
    seconds: float

    @property
    def per_second(self) -> float:
        return len(self.ms) / self.seconds


@dataclass
class Completions:
    sequential_ms: list[float]
    concurrent: list[Concurrent]


def complete_concurrently(
    ports: list[int], tokens: list[str], task_ids: list[str], clients: int
) -> Concurrent:
    """``clients`` threads, each on a keep-alive connection to one of the servers in turn,
    each completing its share of the tasks; all start together."""
    completers = [Completer(ports[n % len(ports)], tokens[n]) for n in range(clients)]
    shares = [task_ids[n::clients] for n in range(clients)]
    done_ms: list[float] = []
    failures: list[BaseException] = []
    gate = threading.Barrier(clients + 1)

    def work(completer: Completer, share: list[str]) -> None:
        gate.wait()
        try:
            done_ms.extend([completer.complete(task_id) * 1000 for task_id in share])
        except BaseException as error:  # reported below, after the others finish
            failures.append(error)

    threads = [
        threading.Thread(target=work, args=pair) for pair in zip(completers, shares, strict=True)
    ]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    for completer in completers:
        completer.close()
    if failures:
        raise failures[0]
    return Concurrent(len(ports), clients, done_ms, seconds)


def measure_completions(
    engine: Engine, org: Organisation, url: str, tokens: dict[str, str], plan: Plan
) -> Completions:
    """One client, then ``plan.clients`` at once against one server process (8 threads, as
    ``picycle serve`` runs), then against one server process per CPU."""
    warm_up = 10
    servers = os.cpu_count() or 2
    wanted = warm_up + plan.sequential + 2 * plan.concurrent + 2 * servers
    ids = iter(assessment_tasks(engine, org, wanted, "HTTP unit"))

    def take(count: int) -> list[str]:
        return [next(ids) for _ in range(count)]

    pi_unit = member_names("PI Unit")
    members = [tokens[name] for name in pi_unit[1 : plan.clients + 1]]
    with Server(url, threads=8) as port:
        client = Completer(port, tokens[pi_unit[0]])
        for task_id in take(warm_up):
            client.complete(task_id)
        sequential_ms = [client.complete(task_id) * 1000 for task_id in take(plan.sequential)]
        client.close()
        one = complete_concurrently([port], members, take(plan.concurrent), plan.clients)
    with ExitStack() as stack:
        ports = [stack.enter_context(Server(url, threads=8)) for _ in range(servers)]
        for port in ports:  # each server's caches and connections warmed
            warmer = Completer(port, tokens[pi_unit[0]])
            for task_id in take(2):
                warmer.complete(task_id)
            warmer.close()
        several = complete_concurrently(ports, members, take(plan.concurrent), plan.clients)
    return Completions(sequential_ms, [one, several])


# --- the run ------------------------------------------------------------------------------------


@dataclass
class DatabaseResult:
    name: str
    filled: Filled
    mine_total: int
    groups_total: int
    assigned: int
    cases: list[InboxCase]
    endpoint: dict[str, list[float]]
    service: dict[str, list[float]]
    completions: Completions
    explained: list[Statement]  # the SQL of the cases that missed the goal


def p95(samples: list[float]) -> float:
    return percentile(samples, 95)


@dataclass(frozen=True)
class Populated:
    org: Organisation
    tokens: dict[str, str]  # user name -> API token
    filled: Filled
    real_cycle: int  # the one cycle run through the services, completed: the rows' template


def populate(engine: Engine, clock: FixedClock, name: str, task_rows: int) -> Populated:
    """The schema, the unit tree and its people, the shipped process, one real cycle run
    through the services, then ``task_rows`` task rows filled after it. The clock is back
    at its start when it returns."""
    now = clock.now
    engine.upgrade_schema()
    org = make_organisation(engine)
    tokens = add_people(engine, org)
    with engine.unit_of_work() as uow:
        definitions.deploy(uow, SYSTEM, read_bundle(shipped_processes()))
    templates = real_templates(engine, clock)
    with engine.unit_of_work(write=False) as uow:  # the real cycle and its process version
        real_cycle, definition_id = uow.session.execute(
            select(Cycle.id, Cycle.definition_id).order_by(Cycle.id).limit(1)
        ).one()
    clock.now = now
    announce(f"{name}: filling {task_rows:,} task rows")
    filled = fill(engine, Filler(templates, now, definition_id, org.units), task_rows)
    return Populated(org, tokens, filled, real_cycle)


def run_database(name: str, url: str, plan: Plan) -> DatabaseResult:
    now = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock(now)
    engine = Engine(url, clock)
    try:
        populated = populate(engine, clock, name, plan.task_rows)
        org, tokens, filled = populated.org, populated.tokens, populated.filled
        with engine.unit_of_work(write=False) as uow:
            actor = users.actor_named(uow, MEMBER)
            assigned = uow.session.scalar(
                select(func.count()).where(Task.state == TaskState.OPEN, Task.assignee == MEMBER)
            )
        client = InboxClient(engine, tokens[MEMBER])
        mine_total = client.get("limit=1")["total"]
        groups_total = client.get("scope=groups&limit=1")["total"]
        deep_offset = min(5000, max(0, mine_total - 50) // 50 * 50)
        # A directorate above one of the member's departments: the filter takes its units.
        directorate = org.directorate_of(org.team_units(MEMBER_NUMBER)[0])
        cases = inbox_cases(deep_offset, org.names[directorate])
        budget = 2.0 if plan is QUICK else 4.0
        announce(f"{name}: measuring the inbox")
        endpoint = take_turns(cases, client.timed, plan.requests, budget)
        service = take_turns(cases, InboxService(engine, actor).timed, plan.requests, budget)
        # A quick run judges no goal, so it has no missed case to explain.
        judging = plan is not QUICK
        missed = [c for c in cases if judging and p95(endpoint[c.name]) > GOAL_INBOX_P95_MS]
        explained = explain_inbox(engine, actor, missed)
        announce(f"{name}: completing tasks over HTTP")
        completions = measure_completions(engine, org, url, tokens, plan)
        return DatabaseResult(
            name,
            filled,
            mine_total,
            groups_total,
            assigned,
            cases,
            endpoint,
            service,
            completions,
            explained,
        )
    finally:
        engine.dispose()


def run(plan: Plan, databases: Databases) -> list[DatabaseResult]:
    return [run_database(name, url, plan) for name, url in databases.each("inbox.db")]


# --- the report ---------------------------------------------------------------------------------


def compact_sql(sql: str) -> str:
    """The statement on one line, its column lists shortened to tasks.*."""
    sql = re.sub(r"\s+", " ", sql)
    return re.sub(r"SELECT (tasks\.\w+( AS \w+)?, )+tasks\.\w+( AS \w+)? ", "SELECT tasks.* ", sql)


def report_fill(result: DatabaseResult) -> None:
    f = result.filled
    print(
        f"\n{result.name}: {f.cycles:,} cycles with {f.rows:,} task rows, {f.open:,} open "
        f"({f.open / f.rows:.1%}), {f.overdue:,} of them overdue ({f.overdue / f.open:.1%}); "
        f"filled in {f.seconds:.0f} s (rows {f.load_seconds:.0f} s, then indexes"
        f"{' and VACUUM ANALYZE' if result.name == 'PostgreSQL' else ''} "
        f"{f.seconds - f.load_seconds:.0f} s)"
    )


def report_inbox(result: DatabaseResult, goals: Goals) -> None:
    print(
        f"  {MEMBER}'s inbox: {result.mine_total:,} open tasks (scope=mine: "
        f"{result.assigned:,} microprojects of their own, the rest unheld in their lane), "
        f"{result.groups_total:,} with scope=groups"
    )
    print(
        f"  {'ms':<30}{'GET n':>7}{'p50':>8}{'p95':>8}{'list_inbox n':>14}{'p50':>8}{'p95':>8}"
        "   goal for GET p95"
    )
    for case in result.cases:
        endpoint, service = result.endpoint[case.name], result.service[case.name]
        verdict = goals.judge(
            f"{result.name} inbox {case.name} p95",
            p95(endpoint),
            GOAL_INBOX_P95_MS,
            at_most=True,
            unit="ms",
        )
        print(
            f"  {case.name:<30}{len(endpoint):>7}{median(endpoint):>8.1f}{p95(endpoint):>8.1f}"
            f"{len(service):>14}{median(service):>8.1f}{p95(service):>8.1f}   {verdict}"
        )


def report_explained(result: DatabaseResult) -> None:
    if not result.explained:
        return
    print(f"\n  why ({result.name}): the SQL list_inbox emits, each statement alone (median of 5)")
    for statement in result.explained:
        print(f"  - {statement.ms:.1f} ms, in: {', '.join(statement.cases)}")
        print(f"    {compact_sql(statement.sql)}")
        for line in statement.plan:
            print(f"      {line}")


def report_completions(results: list[DatabaseResult], goals: Goals) -> None:
    print(
        "\n== POST /api/v1/tasks/<id>/complete over HTTP: waitress (8 threads) in a process of\n"
        "   its own on 127.0.0.1, on the filled database; real cycles' 'Assess performance',\n"
        "   started outside the server, so it restores each workflow from its stored state =="
    )
    print(f"  {'':<44}{'n':>5}{'median':>9}{'p95':>9}")
    for result in results:
        c = result.completions
        verdict = goals.judge(
            f"{result.name} completion median",
            median(c.sequential_ms),
            GOAL_COMPLETION_MEDIAN_MS,
            at_most=True,
            unit="ms",
        )
        print(
            f"  {result.name + ', one client':<44}{len(c.sequential_ms):>5}"
            f"{median(c.sequential_ms):>9.1f}{percentile(c.sequential_ms, 95):>9.1f}   {verdict}"
        )
        for run in c.concurrent:
            processes = (
                "1 server process" if run.servers == 1 else f"{run.servers} server processes"
            )
            label = f"{result.name}, {run.clients} clients, {processes}"
            if result.name == "PostgreSQL" and run.servers == 1:
                verdict = goals.judge(
                    "PostgreSQL completions per second",
                    run.per_second,
                    GOAL_COMPLETIONS_PER_S,
                    at_most=False,
                    unit="/s",
                )
            elif result.name == "PostgreSQL":
                same = goals.verdict(
                    run.per_second, GOAL_COMPLETIONS_PER_S, at_most=False, unit="/s"
                )
                verdict = f"(the same goal, not counted: {same})"
            else:
                verdict = "(reported, no goal)"
            print(
                f"  {label:<44}{len(run.ms):>5}{median(run.ms):>9.1f}{percentile(run.ms, 95):>9.1f}"
                f"   {run.per_second:.0f} completions/s   {verdict}"
            )
    print(f"  for scale, {PEER}")


def report(results: list[DatabaseResult], skipped: str | None, goals: Goals) -> None:
    print(
        "== the fill, then the inbox: GET /api/v1/tasks through the Flask test client, and\n"
        "   list_inbox called directly =="
    )
    for result in results:
        report_fill(result)
        report_inbox(result, goals)
        report_explained(result)
    if skipped:
        print(f"\nPostgreSQL skipped: {skipped}")
    report_completions(results, goals)


def main(argv: list[str] | None = None) -> None:
    args = parse_args("The inbox on a large task table; completions over HTTP.", SCHEMA, argv)
    plan = QUICK if args.quick else FULL
    measure_and_report(args, SCHEMA, partial(run, plan), report)


if __name__ == "__main__":
    main()
