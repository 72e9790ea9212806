"""Production-like load on PostgreSQL: ``picycle serve`` in several processes and two
``picycle worker`` processes on one database, many users through locust.

1. Load: people of the three lanes read their inboxes, look at tasks, complete them,
   comment and start cycles (``bench/locustfile.py``): completions per second, the p95 of
   a completion, errors other than the expected 409s.
2. Faults mid-load: a serving process killed (SIGKILL), a worker killed, then every
   picycle connection to the database cut (as a PostgreSQL restart does; the server
   itself is shared and is not restarted). Every completion answered 200 must be in the
   database, the audit trail intact, every cycle's inbox matching its workflow.
3. Four workers racing for due timers: none fired twice, none left.

Traffic goes to 127.0.0.1 only; each phase is bounded in time. Needs the load extra
(``pip install -e '.[load]'``, which brings locust) and PostgreSQL.

    .venv/bin/python -m bench.load            # full run, about 3 minutes
    .venv/bin/python -m bench.load --quick    # shorter phases; judges nothing
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.db.models import AuditEvent, Task
from picycle.engine.services import audit, cycles, definitions, units, users
from picycle.engine.services.health import inbox_mismatches
from picycle.engine.uow import Engine
from sqlalchemy import make_url, select, text

from bench.common import (
    ROOT,
    BenchRun,
    BenchSchema,
    Goals,
    RunRecord,
    announce,
    children_of,
    parse_args,
)

SCHEMA = BenchSchema("picycle_bench_load")
BIN = Path(sys.executable).parent
GOAL_PER_S = 150.0
GOAL_P95_MS = 50.0


@dataclass(frozen=True)
class Plan:
    users: int
    seconds: int  # of the load phase
    fault_seconds: int
    cycles: int  # started before the load, so inboxes are full from the first second
    timers: int
    processes: int = 2
    threads: int = 8


FULL = Plan(users=40, seconds=60, fault_seconds=40, cycles=1500, timers=300)
QUICK = Plan(users=24, seconds=15, fault_seconds=12, cycles=300, timers=60)

TIMER_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="load_timer_definitions" targetNamespace="http://picycle.bench/load">
  <bpmn:process id="load_timer" name="A reminder a second later" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_pi" name="PI Unit">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>wait</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>look</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:intermediateCatchEvent id="wait" name="A second later">
      <bpmn:timerEventDefinition id="wait_timer">
        <bpmn:timeDuration>"PT1S"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="look" name="Look">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="note.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="look" />
    <bpmn:sequenceFlow id="f3" sourceRef="look" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""
NOTE_FORM = '{"type": "object", "properties": {"note": {"type": "string"}}}'


# --- the database and the people ----------------------------------------------------------------


def prepare(engine: Engine, plan: Plan, folder: Path) -> Path:
    """Schema, processes, units, people and started cycles; the people file locust reads."""
    engine.upgrade_schema()
    with engine.unit_of_work() as uow:
        definitions.deploy(uow, SYSTEM, read_bundle(shipped_processes()))
    # A unit runs one cycle at a time: one unit for each cycle started here, as many again
    # for the users to start theirs in, and one for each timer cycle.
    names = [f"load-unit-{n:04}" for n in range(2 * plan.cycles)]
    timer_units = [f"timer-unit-{n:04}" for n in range(plan.timers)]
    for name in names + timer_units:
        with engine.unit_of_work() as uow:
            units.add_unit(uow, SYSTEM, name)
    lanes = ["PI Unit", "Department Team", "Leadership"]
    people = {"dana": ["Department Team"], "omar": ["Department Team"]}
    people |= {f"member-{n:02}": lanes for n in range(plan.users)}
    tokens = []
    for name, groups in people.items():
        with engine.unit_of_work() as uow:
            tokens.append((name, users.add_user(uow, SYSTEM, name, "member", groups).token))
    with engine.unit_of_work(write=False) as uow:
        starter = users.actor_named(uow, "member-00")
    announce(f"starting {plan.cycles} cycles")
    for n in range(plan.cycles):
        with engine.unit_of_work() as uow:
            cycles.start_cycle(uow, starter, names[n], "Faster permits")
    setup = folder / "people.json"
    setup.write_text(json.dumps({"people": tokens, "units": names[plan.cycles :]}))
    return setup


# --- the deployment: serving processes and workers ----------------------------------------------


class Deployment:
    """``picycle serve --processes N`` and two ``picycle worker`` on the database."""

    def __init__(self, url: str, plan: Plan, port: int, folder: Path):
        self.env = {**os.environ, "PICYCLE_DATABASE_URL": url}
        self.plan, self.port, self.folder = plan, port, folder
        self.workers: list[subprocess.Popen] = []

    def __enter__(self) -> Deployment:
        self.server = self._start(
            "serve",
            "--port",
            str(self.port),
            "--processes",
            str(self.plan.processes),
            "--threads",
            str(self.plan.threads),
        )
        self.workers = [self.start_worker() for _ in range(2)]
        for _ in range(600):
            if len(children_of(self.server.pid)) == self.plan.processes and self._healthy():
                return self
            time.sleep(0.1)
        raise RuntimeError("the servers did not start")

    def _start(self, *args: str) -> subprocess.Popen:
        log = open(self.folder / f"{args[0]}-{time.monotonic_ns()}.log", "w")  # noqa: SIM115
        return subprocess.Popen([str(BIN / "picycle"), *args], env=self.env, stderr=log)

    def start_worker(self) -> subprocess.Popen:
        return self._start("worker", "--interval", "1")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/health") as answer:
                return answer.status == 200
        except OSError:
            return False

    def kill_serving_process(self) -> None:
        os.kill(min(children_of(self.server.pid)), signal.SIGKILL)

    def kill_worker(self) -> None:
        doomed = self.workers.pop(0)
        doomed.kill()
        doomed.wait()
        self.workers.append(self.start_worker())

    def __exit__(self, *exc_info) -> None:
        for process in [self.server, *self.workers]:
            process.send_signal(signal.SIGTERM)
        for process in [self.server, *self.workers]:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


APPLICATION = "picycle-bench-load"  # the name of this run's connections, and no one else's


def cut_connections(url: str) -> None:
    """Every connection of this run's servers and workers terminated, as a restart would
    (the server is shared: nobody else's connections are touched)."""
    database = Engine(url).database
    with database.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                "datname = current_database() AND application_name = :name "
                "AND pid <> pg_backend_pid()"
            ),
            {"name": APPLICATION},
        )
    database.dispose()


# --- locust ---------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    seconds: int
    completed: list[str]
    conflicts: int
    requests: int
    failures: int
    complete_p95_ms: float
    complete_failures: int

    @property
    def per_second(self) -> float:
        return len(self.completed) / self.seconds


def swarm(port: int, plan: Plan, seconds: int, setup: Path, folder: Path) -> subprocess.Popen:
    out = folder / f"outcome-{time.monotonic_ns()}"
    process = subprocess.Popen(
        [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--users",
            str(plan.users),
            "--spawn-rate",
            str(plan.users),
            "--run-time",
            f"{seconds}s",
            "--host",
            f"http://127.0.0.1:{port}",
            "--csv",
            str(out),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        env={**os.environ, "PICYCLE_LOAD_PEOPLE": str(setup), "PICYCLE_LOAD_OUT": f"{out}.json"},
        stdout=subprocess.DEVNULL,
        stderr=open(folder / "locust.log", "a"),  # noqa: SIM115
        cwd=ROOT,
    )
    process.outcome = out  # type: ignore[attr-defined]
    return process


def result_of(process: subprocess.Popen, seconds: int) -> LoadResult:
    process.wait(timeout=seconds + 120)
    out = process.outcome  # type: ignore[attr-defined]
    outcome = json.loads(Path(f"{out}.json").read_text())
    with open(f"{out}_stats.csv") as file:
        rows = {row["Name"]: row for row in csv.DictReader(file)}
    complete, total = rows["complete"], rows["Aggregated"]
    return LoadResult(
        seconds,
        outcome["completed"],
        outcome["conflicts"],
        int(total["Request Count"]),
        int(total["Failure Count"]),
        float(complete["95%"]),
        int(complete["Failure Count"]),
    )


# --- the checks after a phase ---------------------------------------------------------------------


@dataclass
class Kept:
    lost: int  # completions answered 200 that the database does not hold
    intact: bool
    mismatched: int  # cycles whose inbox does not match their workflow


def kept(url: str, completed: list[str]) -> Kept:
    engine = Engine(url)
    try:
        with engine.unit_of_work(write=False) as uow:
            done = set(uow.session.scalars(select(Task.id).where(Task.state == "completed")))
        lost = len(set(completed) - done)
        return Kept(lost, audit.verify(engine, SYSTEM).intact, len(inbox_mismatches(engine)))
    finally:
        engine.dispose()


def timer_race(url: str, plan: Plan) -> tuple[int, int]:
    """Cycles whose timer fired twice, and cycles whose due timer did not fire, after four
    ``picycle worker --once`` raced for ``plan.timers`` due timers."""
    engine = Engine(url)
    try:
        bundle = {
            "load_timer.bpmn": TIMER_BPMN.encode(),
            "forms/note.schema.json": NOTE_FORM.encode(),
        }
        with engine.unit_of_work() as uow:
            definitions.deploy(uow, SYSTEM, bundle)
        with engine.unit_of_work(write=False) as uow:
            starter = users.actor_named(uow, "member-00")
        started = []
        for n in range(plan.timers):
            with engine.unit_of_work() as uow:
                unit = f"timer-unit-{n:04}"
                started.append(cycles.start_cycle(uow, starter, unit, "Wait", "load_timer").id)
        time.sleep(1.5)  # every timer due
        env = {**os.environ, "PICYCLE_DATABASE_URL": url}
        racers = [
            subprocess.Popen(
                [str(BIN / "picycle"), "worker", "--once"], env=env, stdout=subprocess.DEVNULL
            )
            for _ in range(4)
        ]
        for racer in racers:
            racer.wait(timeout=300)
        with engine.unit_of_work(write=False) as uow:
            fired = Counter(
                uow.session.scalars(
                    select(AuditEvent.cycle_id).where(
                        AuditEvent.type == "timer_fired", AuditEvent.cycle_id.in_(started)
                    )
                )
            )
        return sum(n > 1 for n in fired.values()), sum(fired[c] == 0 for c in started)
    finally:
        engine.dispose()


# --- the run --------------------------------------------------------------------------------------


def run(url: str, plan: Plan, goals: Goals) -> None:
    folder = Path(tempfile.mkdtemp(prefix="picycle-load-"))
    engine = Engine(url)
    try:
        setup = prepare(engine, plan, folder)
    finally:
        engine.dispose()
    port = 18000 + os.getpid() % 1000
    with ExitStack() as stack:
        deployment = stack.enter_context(Deployment(url, plan, port, folder))
        announce(f"load: {plan.users} users for {plan.seconds} s")
        clean = result_of(swarm(port, plan, plan.seconds, setup, folder), plan.seconds)
        announce(f"faults: {plan.fault_seconds} s")
        load = swarm(port, plan, plan.fault_seconds, setup, folder)
        quarter = plan.fault_seconds / 4
        time.sleep(quarter)
        deployment.kill_serving_process()
        time.sleep(quarter)
        deployment.kill_worker()
        time.sleep(quarter)
        cut_connections(url)
        faulted = result_of(load, plan.fault_seconds)
    checked = kept(url, clean.completed + faulted.completed)
    announce("timers: four workers racing")
    twice, missed = timer_race(url, plan)
    report(plan, clean, faulted, checked, twice, missed, goals)


def report(plan, clean, faulted, checked, twice, missed, goals: Goals) -> None:
    print(
        f"== load: {plan.users} users for {plan.seconds} s against picycle serve "
        f"({plan.processes} processes x {plan.threads} threads) and 2 workers, PostgreSQL =="
    )
    print(
        f"  requests {clean.requests}, completions {len(clean.completed)} "
        f"(+ {clean.conflicts} answered 409/404: someone else was first)"
    )
    rate = goals.judge(
        "completions per second", clean.per_second, GOAL_PER_S, at_most=False, unit="/s"
    )
    print(f"  completions per second: {clean.per_second:.0f}   {rate}")
    p95 = goals.judge(
        "p95 of a completion", clean.complete_p95_ms, GOAL_P95_MS, at_most=True, unit="ms"
    )
    print(f"  p95 of a completion: {clean.complete_p95_ms:.0f} ms   {p95}")
    errors = goals.judge("unexpected errors", clean.failures, 0, at_most=True, unit="errors")
    print(f"  unexpected errors (other than 409/404): {clean.failures}   {errors}")
    print(
        f"\n== faults mid-load ({plan.fault_seconds} s): a serving process killed, a worker "
        "killed, every picycle connection to the database cut =="
    )
    print(
        f"  completions {len(faulted.completed)}; requests that failed during the faults: "
        f"{faulted.failures} (broken connections, 503: the client retries)"
    )
    lost = goals.judge("completions answered 200 but lost", checked.lost, 0, at_most=True, unit="")
    print(
        f"  completions answered 200 that the database lacks (both phases): {checked.lost}   {lost}"
    )
    print(
        f"  audit trail intact: {checked.intact}; cycles whose inbox does not match their "
        f"workflow: {checked.mismatched}"
    )
    goals.judge(
        "audit trail and inboxes",
        (not checked.intact) + checked.mismatched,
        0,
        at_most=True,
        unit="problems",
    )
    print(f"\n== timers: four workers racing for {plan.timers} due timers ==")
    fired = goals.judge("timers fired twice", twice, 0, at_most=True, unit="")
    print(f"  fired twice: {twice}   {fired}; not fired: {missed}")
    goals.judge("timers not fired", missed, 0, at_most=True, unit="")


def main(argv: list[str] | None = None) -> None:
    args = parse_args("picycle under load on PostgreSQL, with faults.", SCHEMA, argv)
    plan = QUICK if args.quick else FULL
    record = RunRecord(args)
    with BenchRun(args, SCHEMA) as databases:
        if databases.postgres_url is None:
            print(f"nothing measured: this benchmark runs on PostgreSQL ({databases.skipped})")
            return
        url = make_url(databases.postgres_url).update_query_dict({"application_name": APPLICATION})
        run(url.render_as_string(hide_password=False), plan, record.goals)
    record.close()


if __name__ == "__main__":
    main()
