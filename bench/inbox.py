"""How the inbox holds up under a large task table, and what a completion costs over HTTP.

1. Fill: 1,000,000 task rows (about 10% open) in cycles spread over 500 units, worked by
   200 members of the three lanes, bulk-inserted (SQLAlchemy Core on SQLite, COPY on
   PostgreSQL) next to one real cycle the rows copy their titles, forms and data from.
2. ``GET /api/v1/tasks`` through the Flask test client, as a typical member: p50/p95 of the
   first page, a deep page, ``sort=due``, ``overdue=true`` and ``scope=groups``. When a
   query misses its goal, the plans of the SQL ``list_inbox`` emits are printed, and a fix
   is measured in the benchmark's own database (the engine's code and migrations are left
   alone): redefined indexes, then a rewritten query (``arms_inbox``, patched in for this
   process only), then an upper bound for cheaper authentication.
3. ``POST /api/v1/tasks/<id>/complete`` over HTTP against waitress in a process of its own
   (as ``picycle serve`` runs it), on the filled database: one client after another, then
   several at once, against one server process and against one per CPU.

Run from the repository root::

    .venv/bin/python -m bench.inbox            # full run, about 7 minutes
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
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as ``python bench/inbox.py``, this file's folder comes first on sys.path; the
# repository root must be there too for the ``bench`` package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from picycle.api import create_app
from picycle.engine.actors import SYSTEM, Actor
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.clock import FixedClock
from picycle.engine.db.models import Cycle, Task
from picycle.engine.errors import PermissionDenied
from picycle.engine.services import cycles, definitions, tasks, users
from picycle.engine.services.tasks import InboxQuery
from picycle.engine.uow import Engine
from sqlalchemy import event, func, insert, select, text, union_all

from bench.common import (
    BenchRun,
    BenchSchema,
    Databases,
    Goals,
    Server,
    announce,
    machine_load,
    median,
    parse_args,
    percentile,
)
from bench.engine import INDICATORS, PEOPLE, ReadyTask, form_for, performer

SCHEMA = BenchSchema("picycle_bench_inbox")

GOAL_INBOX_P95_MS = 20.0
GOAL_COMPLETION_MEDIAN_MS = 10.0
GOAL_COMPLETIONS_PER_S = 150.0
PEER = "closest open-source peer (SpiffWorkflow + Flask backend) on this kind of machine"
PEER_FIGURES = "~87 ms per completion, ~11/s"


@dataclass(frozen=True)
class Plan:
    task_rows: int
    requests: int  # per inbox query and database
    sequential: int  # completions one after another, per database
    concurrent: int  # completions by all clients together, per database
    clients: int = 8
    units: int = 500


FULL = Plan(task_rows=1_000_000, requests=200, sequential=200, concurrent=480)
QUICK = Plan(task_rows=100_000, requests=60, sequential=60, concurrent=160)


# --- the people ---------------------------------------------------------------------------------

LANES = {"PI Unit": 50, "Department Team": 100, "Leadership": 50}
ASSIGNEES = 60  # department members who own microprojects
MEMBER = "department-007"  # the typical member whose inbox is measured: one lane, some
# microprojects of their own


def member_names(lane: str) -> list[str]:
    prefix = lane.split()[0].lower()
    return [f"{prefix}-{n:03}" for n in range(LANES[lane])]


def add_people(engine: Engine) -> dict[str, str]:
    """Everyone in the lanes, bench.engine's people for the real cycle; name -> token."""
    tokens = {}
    with engine.unit_of_work() as uow:
        for lane in LANES:
            for name in member_names(lane):
                _, tokens[name] = users.add_user(uow, SYSTEM, name, "member", [lane])
        for name, (role, groups) in PEOPLE.items():
            _, tokens[name] = users.add_user(uow, SYSTEM, name, role, groups)
        uow.commit()
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
    with engine.unit_of_work(write=False) as uow:
        actors = {name: users.actor_named(uow, name) for name in PEOPLE}
    with engine.unit_of_work() as uow:
        cycle_id = cycles.start_cycle(uow, actors["pia"], "Template unit", "Faster permits").id
        uow.commit()
    found: dict[str, Template] = {}
    while True:
        with engine.unit_of_work(write=False) as uow:
            ready = cycles.open_tasks(uow, cycle_id)
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
            uow.commit()


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
        self, templates: dict[str, Template], now: datetime, definition_id: int, units: int
    ):
        self.templates = templates
        self.now = now
        self.definition_id = definition_id
        self.units = [f"Unit {n:03}" for n in range(units)]
        self.members = {lane: member_names(lane) for lane in LANES}
        self.assignees = self.members["Department Team"][:ASSIGNEES]
        self.rng = random.Random(1849)
        self.filled = Filled()

    def batches(self, first_id: int, rows: int, size: int) -> Iterator[tuple[list, list]]:
        """(cycle rows, task rows) as tuples in table column order, about ``size`` task rows
        at a time, until ``rows`` task rows are made."""
        cycle_rows: list[tuple] = []
        task_rows: list[tuple] = []
        cycle_id = first_id
        while self.filled.rows < rows:
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
        for index, elements in enumerate(stages):
            is_open = running and index == len(stages) - 1
            for element_id in elements:
                rows.append(self._task(cycle_id, element_id, moment, is_open))
            if not is_open:
                days = 30 if elements[0] == "implement_microproject" else rng.uniform(0.5, 5)
                moment += timedelta(days=days)
        self.filled.cycles += 1
        self.filled.rows += len(rows)
        unit = self.units[number % len(self.units)]
        values = {
            "id": cycle_id,
            "definition_id": self.definition_id,
            "process_id": "pi_cycle",
            "unit": unit,
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
        }
        return tuple(values[c] for c in CYCLE_COLUMNS), rows

    def _task(self, cycle_id: int, element_id: str, created: datetime, is_open: bool) -> tuple:
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


# --- 2. the inbox through the Flask test client -------------------------------------------------


@dataclass(frozen=True)
class InboxCase:
    name: str
    params: str  # the query string
    query: InboxQuery  # what list_inbox receives for it


def inbox_cases(deep_offset: int) -> list[InboxCase]:
    return [
        InboxCase("first page", "limit=50", InboxQuery()),
        InboxCase(
            f"deep page (offset {deep_offset})",
            f"limit=50&offset={deep_offset}",
            InboxQuery(offset=deep_offset),
        ),
        InboxCase("sort=due", "sort=due&limit=50", InboxQuery(sort="due")),
        InboxCase("overdue=true", "overdue=true&limit=50", InboxQuery(overdue=True)),
        InboxCase("scope=groups", "scope=groups&limit=50", InboxQuery(scope="groups")),
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

    def timed(self, params: str) -> float:
        started = time.perf_counter()
        self.get(params)
        return time.perf_counter() - started


def measure_inbox(
    client: InboxClient, cases: list[InboxCase], requests: int, budget: float
) -> dict[str, list[float]]:
    """Milliseconds per request; the cases take turns, so a noisy spell hits them alike. A
    case stops early once it has used ``budget`` seconds (and has at least 10 samples): a
    slow query must not eat the run."""
    for case in cases:
        for _ in range(3):
            client.timed(case.params)
    samples: dict[str, list[float]] = {case.name: [] for case in cases}
    spent = dict.fromkeys(samples, 0.0)
    for _ in range(requests):
        running = [c for c in cases if spent[c.name] < budget or len(samples[c.name]) < 10]
        if not running:
            break
        for case in running:
            seconds = client.timed(case.params)
            spent[case.name] += seconds
            samples[case.name].append(seconds * 1000)
    return samples


# What the lead is told to try when a query misses: the three open-task indexes with the
# columns each arm of the inbox filters on and its sort keys, so that counts and pages are
# answered from the indexes alone. The arm's equality columns first, then the sort key
# (PostgreSQL orders by an index only after equalities, and IS NULL is not one), then the
# columns filtered on the index entries. The index alone helps the OR query little; the
# arms query below uses them.
PROPOSED_INDEXES = {
    "ix_tasks_open_claimed": ("state", "claimed_by", "created_at", "id", "due_at"),
    "ix_tasks_open_assignee": ("state", "assignee", "created_at", "id", "claimed_by", "due_at"),
    "ix_tasks_open_group": (
        "state",
        "candidate_group",
        "created_at",
        "id",
        "claimed_by",
        "assignee",
        "due_at",
    ),
}
SHIPPED_INDEXES = {
    index.name: tuple(column.name for column in index.columns)
    for index in Task.__table__.indexes
    if index.name in PROPOSED_INDEXES
}


def replace_indexes(engine: Engine, definitions_by_name: dict[str, tuple[str, ...]]) -> float:
    """Redefines the named indexes in the benchmark's database; returns the seconds it took."""
    started = time.perf_counter()
    with engine.database.begin() as connection:
        for name, columns in definitions_by_name.items():
            connection.exec_driver_sql(f"DROP INDEX {name}")
            connection.exec_driver_sql(f"CREATE INDEX {name} ON tasks ({', '.join(columns)})")
    return time.perf_counter() - started


def arms_inbox(uow, actor: Actor, query: InboxQuery) -> tuple[list[Task], int]:
    """A proposal for ``list_inbox``, measured here only: the same rows and total, but the
    OR of "held by me / assigned to me / unheld in my groups" becomes three disjoint arms.
    The total is the sum of the arms' counts, each answered from one index alone; the page
    merges the arms' first offset + limit keys (ids and sort keys only, from the indexes)
    and reads the whole rows of that page only."""
    if query.scope == "all" and not actor.reads_everything:
        raise PermissionDenied("only admins and auditors may list all open tasks")
    unheld = [
        Task.claimed_by.is_(None),
        Task.assignee.is_(None),
        Task.candidate_group.in_(sorted(actor.groups)),
    ]
    arms = {
        "mine": [
            [Task.claimed_by == actor.name],
            [Task.claimed_by.is_(None), Task.assignee == actor.name],
            unheld,
        ],
        "groups": [unheld],
        "all": [[]],
    }[query.scope]
    common = [Task.state == "open"]
    if query.cycle_id is not None:
        common.append(Task.cycle_id == query.cycle_id)
    if query.unit:
        common.append(Cycle.unit == query.unit)
    if query.process_id:
        common.append(Cycle.process_id == query.process_id)
    if query.overdue:
        common.append(Task.due_at < uow.now)
    if query.due_before is not None:
        common.append(Task.due_at < query.due_before)

    def arm(*columns, conditions):
        statement = select(*columns).select_from(Task)
        if query.unit or query.process_id:
            statement = statement.join(Cycle, Cycle.id == Task.cycle_id)
        return statement.where(*common, *conditions)

    counts = [arm(func.count(), conditions=c).scalar_subquery() for c in arms]
    total = uow.session.scalar(select(sum(counts[1:], counts[0]))) or 0
    key = Task.due_at if query.sort == "due" else Task.created_at
    depth = query.offset + query.limit
    parts = [
        arm(Task.id, key.label("k"), conditions=c).order_by(key, Task.id).limit(depth).subquery()
        for c in arms
    ]
    merged = union_all(*[p.select() for p in parts]).subquery() if len(parts) > 1 else parts[0]
    page = (
        select(merged.c.id, merged.c.k)
        .order_by(merged.c.k, merged.c.id)
        .limit(query.limit)
        .offset(query.offset)
        .subquery()
    )
    rows = uow.session.scalars(
        select(Task).join(page, Task.id == page.c.id).order_by(page.c.k, page.c.id)
    )
    return list(rows), total


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
                tasks.list_inbox(uow, actor, case.query)
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


def same_results(engine: Engine, actor: Actor, cases: list[InboxCase]) -> bool:
    """Whether the proposal returns what list_inbox returns, row for row."""
    with engine.unit_of_work(write=False) as uow:
        for case in cases:
            shipped, shipped_total = tasks.list_inbox(uow, actor, case.query)
            proposed, proposed_total = arms_inbox(uow, actor, case.query)
            if shipped_total != proposed_total or [t.id for t in shipped] != [
                t.id for t in proposed
            ]:
                return False
    return True


# --- 3. completions over HTTP against waitress --------------------------------------------------


def assessment_tasks(engine: Engine, count: int, prefix: str) -> list[str]:
    """Starts ``count`` real cycles of the shipped process (in units of their own); returns
    the ids of their open "Assess performance" tasks. Started here, not through the server:
    the server restores each workflow from the database, as it does for a task completed
    days after its cycle began."""
    pi_unit = member_names("PI Unit")
    found = []
    with engine.unit_of_work(write=False) as uow:
        starters = [users.actor_named(uow, name) for name in pi_unit[:10]]
    for n in range(count):
        with engine.unit_of_work() as uow:
            cycle = cycles.start_cycle(uow, starters[n % 10], f"{prefix} {n:04}", "Faster permits")
            uow.commit()
        with engine.unit_of_work(write=False) as uow:
            (task,) = cycles.open_tasks(uow, cycle.id)
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
    engine: Engine, url: str, tokens: dict[str, str], plan: Plan
) -> Completions:
    """One client, then ``plan.clients`` at once against one server process (8 threads, as
    ``picycle serve`` runs), then against one server process per CPU."""
    warm_up = 10
    servers = os.cpu_count() or 2
    wanted = warm_up + plan.sequential + 2 * plan.concurrent + 2 * servers
    ids = iter(assessment_tasks(engine, wanted, "HTTP unit"))

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
class Trial:
    """The fix tried in the benchmark's database when a query missed its goal."""

    statements: list[Statement]
    index_seconds: float
    indexes_only: dict[str, list[float]]
    with_arms: dict[str, list[float]]
    same_results: bool
    without_auth: dict[str, list[float]]  # B, authentication costing nothing (upper bound)


@contextmanager
def tokens_cached() -> Iterator[None]:
    """An upper bound for cheaper authentication: each token resolved once, then from
    memory (in this process only; picycle looks every request's token up in a unit of work
    of its own: a connection checkout with its ping, the user and token, the groups)."""
    shipped = users.authenticate
    known: dict[str, Actor | None] = {}

    def cached(uow, token: str) -> Actor | None:
        if token not in known:
            known[token] = shipped(uow, token)
        return known[token]

    users.authenticate = cached
    try:
        yield
    finally:
        users.authenticate = shipped


@dataclass
class DatabaseResult:
    name: str
    filled: Filled
    mine_total: int
    groups_total: int
    assigned: int
    cases: list[InboxCase]
    shipped: dict[str, list[float]]
    completions: Completions
    trial: Trial | None = None


def p95(samples: list[float]) -> float:
    return percentile(samples, 95)


def run_database(name: str, url: str, plan: Plan) -> DatabaseResult:
    now = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock(now)
    engine = Engine(url, clock)
    try:
        engine.upgrade_schema()
        tokens = add_people(engine)
        with engine.unit_of_work() as uow:
            deployed = definitions.deploy(uow, SYSTEM, read_bundle(shipped_processes()))
            uow.commit()
        definition_id = deployed.definitions[0].id
        templates = real_templates(engine, clock)
        clock.now = now
        announce(f"{name}: filling {plan.task_rows:,} task rows")
        filled = fill(engine, Filler(templates, now, definition_id, plan.units), plan.task_rows)
        with engine.unit_of_work(write=False) as uow:
            actor = users.actor_named(uow, MEMBER)
            assigned = uow.session.scalar(
                select(func.count()).where(Task.state == "open", Task.assignee == MEMBER)
            )
        client = InboxClient(engine, tokens[MEMBER])
        mine_total = client.get("limit=1")["total"]
        groups_total = client.get("scope=groups&limit=1")["total"]
        cases = inbox_cases(min(5000, max(0, mine_total - 50) // 50 * 50))
        budget = 2.0 if plan is QUICK else 4.0
        announce(f"{name}: measuring the inbox")
        shipped = measure_inbox(client, cases, plan.requests, budget)
        announce(f"{name}: completing tasks over HTTP")
        completions = measure_completions(engine, url, tokens, plan)
        result = DatabaseResult(
            name, filled, mine_total, groups_total, assigned, cases, shipped, completions
        )
        missed = [c for c in cases if p95(shipped[c.name]) > GOAL_INBOX_P95_MS]
        if missed:
            announce(f"{name}: {len(missed)} inbox queries missed; explaining and trying a fix")
            statements = explain_inbox(engine, actor, missed)
            index_seconds = replace_indexes(engine, PROPOSED_INDEXES)
            indexes_only = measure_inbox(client, cases, plan.requests, budget)
            same = same_results(engine, actor, cases)
            shipped_list_inbox = tasks.list_inbox
            tasks.list_inbox = arms_inbox  # in this process only, for the view to call
            try:
                with_arms = measure_inbox(client, cases, plan.requests, budget)
                with tokens_cached():
                    without_auth = measure_inbox(client, cases, plan.requests, budget)
            finally:
                tasks.list_inbox = shipped_list_inbox
            result.trial = Trial(
                statements, index_seconds, indexes_only, with_arms, same, without_auth
            )
        return result
    finally:
        engine.dispose()


def run(plan: Plan, databases: Databases) -> list[DatabaseResult]:
    results = [run_database("SQLite", databases.sqlite_url("inbox.db"), plan)]
    if databases.postgres_url:
        results.append(run_database("PostgreSQL", databases.postgres_url, plan))
    return results


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
    print(f"  {'ms per request':<30}{'n':>5}{'p50':>9}{'p95':>9}")
    for case in result.cases:
        samples = result.shipped[case.name]
        verdict = goals.judge(
            f"{result.name} inbox {case.name} p95",
            p95(samples),
            GOAL_INBOX_P95_MS,
            at_most=True,
            unit="ms",
        )
        print(
            f"  {case.name:<30}{len(samples):>5}{median(samples):>9.1f}{p95(samples):>9.1f}"
            f"   {verdict}"
        )


def report_trial(result: DatabaseResult) -> None:
    trial = result.trial
    if trial is None:
        return
    print(f"\n  why ({result.name}): the SQL list_inbox emits, each statement alone (median of 5)")
    for statement in trial.statements:
        print(f"  - {statement.ms:.1f} ms, in: {', '.join(statement.cases)}")
        print(f"    {compact_sql(statement.sql)}")
        for line in statement.plan:
            print(f"      {line}")
    print(f"\n  the fix, tried in the benchmark's {result.name} database (engine code unchanged):")
    built = f"built in {trial.index_seconds:.1f} s on {result.filled.rows:,} rows"
    print(
        "  A. the three open-task indexes redefined: each arm's equality columns, its sort\n"
        f"     keys, then the other columns it filters on ({built}):"
    )
    for name, columns in PROPOSED_INDEXES.items():
        print(f"       {name} ({', '.join(columns)})")
        print(f"         shipped: ({', '.join(SHIPPED_INDEXES[name])})")
    same = "yes" if trial.same_results else "NO"
    print(
        "  B. A, plus list_inbox as three disjoint arms (bench/inbox.py arms_inbox: sum of\n"
        "     index-only counts, merged keys, whole rows for the page only); same rows and\n"
        f"     totals as list_inbox for every case: {same}"
    )
    print(
        "  C. B, with authentication costing nothing: an upper bound for resolving the token\n"
        "     in the view's own unit of work and in one query (measured here with each token\n"
        "     looked up once, then kept in memory: not a proposal as it stands, revocation)"
    )
    print(
        f"  {'p95 ms (p50)':<26}{'shipped':>16}{'A: indexes':>16}{'B: A + arms':>16}"
        f"{'C: B + auth':>16}   goal with B, C"
    )
    for case in result.cases:
        runs = (result.shipped, trial.indexes_only, trial.with_arms, trial.without_auth)
        cells = [f"{p95(run[case.name]):.1f} ({median(run[case.name]):.1f})" for run in runs]
        met = ["met" if p95(run[case.name]) <= GOAL_INBOX_P95_MS else "missed" for run in runs[2:]]
        print(f"  {case.name:<26}" + "".join(f"{c:>16}" for c in cells) + f"   {', '.join(met)}")


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
                met = run.per_second >= GOAL_COMPLETIONS_PER_S
                verdict = f"(against the same goal: {'met' if met else 'missed'})"
            else:
                verdict = "(reported, no goal)"
            print(
                f"  {label:<44}{len(run.ms):>5}{median(run.ms):>9.1f}{percentile(run.ms, 95):>9.1f}"
                f"   {run.per_second:.0f} completions/s   {verdict}"
            )
    print(f"  for scale: {PEER}: {PEER_FIGURES}")


def report(results: list[DatabaseResult], skipped: str | None) -> Goals:
    goals = Goals()
    print("== the fill and GET /api/v1/tasks through the Flask test client ==")
    for result in results:
        report_fill(result)
        report_inbox(result, goals)
        report_trial(result)
    if skipped:
        print(f"\nPostgreSQL skipped: {skipped}")
    report_completions(results, goals)
    return goals


def main(argv: list[str] | None = None) -> None:
    args = parse_args("The inbox on a large task table; completions over HTTP.", SCHEMA, argv)
    plan = QUICK if args.quick else FULL
    began = time.perf_counter()
    load_before = machine_load()
    with BenchRun(args, SCHEMA) as databases:
        results = run(plan, databases)
    goals = report(results, databases.skipped)
    print(f"\n{goals.summary()}")
    print(f"{'quick' if args.quick else 'full'} run in {time.perf_counter() - began:.0f} s")
    print(f"machine: {load_before} at the start, {machine_load()} at the end")


if __name__ == "__main__":
    main()
