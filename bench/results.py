"""Results across cycles at scale: the organisation overview and one directorate's results,
at 10,000 cycles (about 100,000 task rows) and 1,000,000 audit events.

The cycles and task rows are bench.inbox's fill (a real cycle's inbox rows, copied), each
cycle with recorded data as the PI cycle writes it; the audit events are made-up rows of
the same shape, there because the overview must not read them. Measured: the overview
through ``GET /api/v1/results/overview`` (Flask's test client: authentication, the three
aggregate statements, JSON) and as CSV, the service alone, and a directorate's results
with its departments. Goal: the overview answers within 200 ms (p95).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from picycle.api import create_app
from picycle.engine.actors import SYSTEM
from picycle.engine.audit.chain import chain_of
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.clock import FixedClock
from picycle.engine.db.models import AuditEvent, Cycle
from picycle.engine.services import definitions, results, users
from picycle.engine.uow import Engine
from sqlalchemy import insert, select

from bench.common import (
    BenchSchema,
    Databases,
    Goals,
    announce,
    measure_and_report,
    median,
    parse_args,
    percentile,
)
from bench.inbox import (
    CYCLE_COLUMNS,
    Filler,
    _replace,
    add_people,
    fill,
    make_organisation,
    real_templates,
)

SCHEMA = BenchSchema("bench_results")
GOAL_OVERVIEW_MS = 200


@dataclass(frozen=True)
class Plan:
    cycles: int
    events: int
    requests: int


FULL = Plan(cycles=10_000, events=1_000_000, requests=50)
QUICK = Plan(cycles=1_000, events=100_000, requests=20)

INDICATOR_KEYS = ("permits", "backlog", "response_days")


def recorded_data(rng: random.Random, completed: bool) -> dict:
    """What a PI cycle records: indicators, gaps, microprojects and, once evaluated, the
    evaluation and whether its targets were met."""
    indicators = [
        {
            "key": key,
            "name": f"Indicator {key}",
            "unit": "%",
            "direction": "increase",
            "baseline": rng.randint(30, 70),
            "target": 80,
        }
        for key in INDICATOR_KEYS
    ]
    microprojects = [
        {
            "title": f"Microproject {n}",
            "gap": key,
            "owner": "department-001",
            "due": "2026-06-01",
            "deliverable": "A new way of working, in use",
        }
        for n, key in enumerate(INDICATOR_KEYS[:2])
    ]
    data = {
        "indicators": indicators,
        "gaps": [
            {
                "indicator": i["key"],
                "gap": 80 - i["baseline"],
                "cause": "Paper files",
                "cause_category": "tools_resources",
                "impact": 4,
                "effort": 2,
                "priority": "high",
            }
            for i in indicators
        ],
        "microprojects": microprojects,
    }
    if completed:
        evaluation = [
            {
                "indicator": i["key"],
                "baseline": i["baseline"],
                "target": 80,
                "actual": (actual := rng.randint(60, 95)),
                "met": actual >= 80,
            }
            for i in indicators
        ]
        data |= {
            "implemented_microprojects": [
                {**m, "status": "done", "report": "Delivered"} for m in microprojects
            ],
            "evaluation": evaluation,
            "targets_met": all(e["met"] for e in evaluation),
            "lessons_learned": "Small steps work",
        }
    return data


class ResultsFiller(Filler):
    """bench.inbox's cycles, each with the data it recorded."""

    DATA = CYCLE_COLUMNS.index("data")
    STATUS = CYCLE_COLUMNS.index("status")

    def _cycle(self, cycle_id: int, number: int) -> tuple[tuple, list[tuple]]:
        cycle, rows = super()._cycle(cycle_id, number)
        data = recorded_data(self.rng, cycle[self.STATUS] == "completed")
        return _replace(cycle, self.DATA, data), rows


EVENT_COLUMNS = [c.name for c in AuditEvent.__table__.columns if c.name != "seq"]
EVENT_TYPES = ("task_created", "task_claimed", "task_completed", "task_commented")


def fill_events(engine: Engine, total: int, now: datetime) -> float:
    """``total`` events spread over the filled cycles (those without a chain of their own;
    the indexes rebuilt after the load); returns the seconds it took."""
    started = time.perf_counter()
    with engine.unit_of_work(write=False) as uow:
        cycles = uow.session.scalars(select(Cycle.id).where(Cycle.audit_length == 0)).all()
    per_cycle = max(1, total // len(cycles))
    indexes = list(AuditEvent.__table__.indexes)
    with engine.database.begin() as connection:
        for index in indexes:
            index.drop(connection)

    def rows():
        made = 0
        for cycle_id in cycles:
            for position in range(1, per_cycle + 1):
                if made == total:
                    return
                made += 1
                yield {
                    "at": now - timedelta(minutes=made),
                    "actor": "pi-001",
                    "type": EVENT_TYPES[position % len(EVENT_TYPES)],
                    "cycle_id": cycle_id,
                    "task_id": None,
                    "element_id": "assess_performance",
                    "data": {"title": "Assess performance"},
                    "chain": chain_of(cycle_id),
                    "position": position,
                    "prev_hash": "0" * 64,
                    "hash": f"{made:064x}",
                    "hash_version": 2,
                }

    if engine.database.dialect.name == "postgresql":
        connection = engine.database.raw_connection()
        try:
            with connection.cursor() as cursor:
                columns = ", ".join(EVENT_COLUMNS)
                with cursor.copy(f"COPY audit_events ({columns}) FROM STDIN") as copy:
                    for row in rows():
                        row["data"] = json.dumps(row["data"])
                        copy.write_row([row[c] for c in EVENT_COLUMNS])
            connection.commit()
        finally:
            connection.close()
    else:
        batch: list[dict] = []
        with engine.database.begin() as connection:
            for row in rows():
                batch.append(row)
                if len(batch) == 20_000:
                    connection.execute(insert(AuditEvent.__table__), batch)
                    batch = []
            if batch:
                connection.execute(insert(AuditEvent.__table__), batch)
    with engine.database.begin() as connection:
        for index in indexes:
            index.create(connection)
    if engine.database.dialect.name == "postgresql":
        with engine.database.connect() as connection:
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.exec_driver_sql("VACUUM ANALYZE audit_events")
    return time.perf_counter() - started


@dataclass
class DatabaseResult:
    name: str
    cycles: int
    task_rows: int
    events: int
    fill_seconds: float
    timings: dict[str, list[float]]  # case -> milliseconds


def timed(call, requests: int) -> list[float]:
    call()  # warm: the first request compiles statements and fills caches
    samples = []
    for _ in range(requests):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def run_database(name: str, url: str, plan: Plan) -> DatabaseResult:
    now = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock(now)
    engine = Engine(url, clock)
    try:
        engine.upgrade_schema()
        org = make_organisation(engine)
        add_people(engine, org)
        with engine.unit_of_work() as uow:
            definitions.deploy(uow, SYSTEM, read_bundle(shipped_processes()))
        templates = real_templates(engine, clock)
        with engine.unit_of_work(write=False) as uow:
            definition_id = uow.session.scalar(select(Cycle.definition_id).limit(1))
        clock.now = now
        announce(f"{name}: filling {plan.cycles:,} cycles")
        filler = ResultsFiller(templates, now, definition_id, org.units)
        filler.cycle_limit = plan.cycles
        filled = fill(engine, filler, rows=10**9)
        announce(f"{name}: filling {plan.events:,} audit events")
        event_seconds = fill_events(engine, plan.events, now)
        with engine.unit_of_work() as uow:
            token = users.issue_token(uow, SYSTEM, "pi-000").token
        client = create_app({"PICYCLE_ENGINE": engine, "TESTING": True}).test_client()
        headers = {"Authorization": f"Bearer {token}"}

        def get(path: str):
            def call():
                response = client.get("/api/v1" + path, headers=headers)
                assert response.status_code == 200, response.get_data(as_text=True)[:500]

            return call

        def service():
            with engine.unit_of_work(write=False) as uow:
                results.overview(uow, SYSTEM)

        directorate = org.directorates[0]
        announce(f"{name}: measuring")
        timings = {
            "GET /results/overview": timed(get("/results/overview"), plan.requests),
            "GET /results/overview?format=csv": timed(
                get("/results/overview?format=csv"), plan.requests
            ),
            "results.overview (the service)": timed(service, plan.requests),
            "GET /units/{directorate}/results?below=true": timed(
                get(f"/units/{directorate}/results?below=true"), plan.requests
            ),
        }
        return DatabaseResult(
            name,
            filled.cycles,
            filled.rows,
            plan.events,
            filled.seconds + event_seconds,
            timings,
        )
    finally:
        engine.dispose()


def run(plan: Plan, databases: Databases) -> list[DatabaseResult]:
    return [run_database(name, url, plan) for name, url in databases.each("results.db")]


def report(found: list[DatabaseResult], skipped: str | None, goals: Goals) -> None:
    for result in found:
        print(
            f"\n== {result.name}: {result.cycles:,} cycles, {result.task_rows:,} task rows, "
            f"{result.events:,} audit events (filled in {result.fill_seconds:.0f} s) =="
        )
        for case, samples in result.timings.items():
            p95 = percentile(samples, 95)
            line = f"  {case}: median {median(samples):.1f} ms, p95 {p95:.1f} ms"
            if case == "GET /results/overview":
                verdict = goals.judge(
                    f"overview p95, {result.name}", p95, GOAL_OVERVIEW_MS, at_most=True, unit="ms"
                )
                line += f" ({verdict})"
            print(line)
    if skipped:
        print(f"\nPostgreSQL skipped: {skipped}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args("Results across cycles at 10,000 cycles and 1M events.", SCHEMA, argv)
    plan = QUICK if args.quick else FULL
    measure_and_report(args, SCHEMA, partial(run, plan), report)


if __name__ == "__main__":
    main()
