"""How long the server takes for a page of the audit event browser at 1,000,000 events.

The events are bench.audit's (``fill_events``: a real cycle's events sealed into valid
chains, a thousand cycles under way at once, now and then an event about no cycle), in
SQLite and in PostgreSQL. Then ``GET /audit`` through the Flask test client, signed in as an
auditor: the first page (the newest 50 events) and a deep page (the 50 before the event a
tenth of the way into the trail, so 900,000 newer ones lie above it), without a filter and
filtered by a cycle, a user, a type of event, a time range and a unit (whose one cycle's
events are the oldest in the trail: the rarest match, deepest down). p50 and p95 per case;
goal p95 <= 100 ms.

Run from the repository root::

    .venv/bin/python -m bench.audit_pages            # 1,000,000 events, about 10 minutes
    .venv/bin/python -m bench.audit_pages --quick    # 100,000 (or PICYCLE_BENCH_QUICK=1)

PostgreSQL: ``--postgres-url`` or ``PICYCLE_BENCH_POSTGRES_URL`` (default: the test database).
The benchmark works in a schema of its own, ``picycle_bench_audit_pages``, dropped at the end.
"""

from __future__ import annotations

import sys
import urllib.parse
from dataclasses import dataclass
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from picycle.engine.actors import SYSTEM
from picycle.engine.db.models import AuditEvent
from picycle.engine.services import users
from sqlalchemy import func, select

from bench.audit import fill_events
from bench.common import (
    BenchSchema,
    Databases,
    Goals,
    announce,
    measure_and_report,
    median,
    parse_args,
    percentile,
    take_turns,
)
from bench.engine import PicycleVariant
from bench.pages import PASSWORD, Visitor, pages_app

SCHEMA = BenchSchema("picycle_bench_audit_pages")
GOAL_PAGE_P95_MS = 100.0
AUDITOR = "bench-auditor"
TEMPLATE_UNIT = "Template unit"  # where bench.audit runs the cycle its events copy
DEEP = 0.1  # how far into the trail, from its oldest event, a deep page lies


@dataclass(frozen=True)
class Plan:
    events: int
    requests: int  # per case and database


FULL = Plan(events=1_000_000, requests=100)
QUICK = Plan(events=100_000, requests=30)


@dataclass(frozen=True)
class Case:
    name: str
    path: str


def seq_at(variant: PicycleVariant, fraction: float) -> int:
    """The sequence number of the event ``fraction`` of the way into the trail."""
    with variant.engine.unit_of_work(write=False) as uow:
        total = uow.session.scalar(select(func.count()).select_from(AuditEvent))
        ordered = select(AuditEvent.seq).order_by(AuditEvent.seq)
        return uow.session.scalar(ordered.offset(int(total * fraction)).limit(1))


def moment_at(variant: PicycleVariant, seq: int) -> str:
    with variant.engine.unit_of_work(write=False) as uow:
        moment = uow.session.scalar(select(AuditEvent.at).where(AuditEvent.seq == seq))
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


def browser_cases(variant: PicycleVariant) -> list[Case]:
    """Each filter's first page and a deep page."""
    deep = seq_at(variant, DEEP)
    with variant.engine.unit_of_work(write=False) as uow:
        # A filled cycle under way around the deep page: its events lie on both sides.
        cycle = uow.session.scalar(select(AuditEvent.cycle_id).where(AuditEvent.seq == deep))
        cycle_seqs = uow.session.scalars(
            select(AuditEvent.seq).where(AuditEvent.cycle_id == cycle).order_by(AuditEvent.seq)
        ).all()
    filters = {
        "no filter": ({}, deep),
        "a cycle": ({"cycle": cycle}, cycle_seqs[len(cycle_seqs) // 2]),
        "a user": ({"actor": "dana"}, deep),
        "a type": ({"type": "task_completed"}, deep),
        "a time range": (
            {"since": moment_at(variant, seq_at(variant, 0.05)), "until": moment_at(variant, deep)},
            seq_at(variant, 0.08),
        ),
        "a unit": ({"unit": TEMPLATE_UNIT}, None),
    }
    cases = []
    for name, (query, before) in filters.items():
        cases.append(Case(f"{name}, first page", f"/audit?{urllib.parse.urlencode(query)}"))
        if before is not None:
            deeper = urllib.parse.urlencode({**query, "before": before})
            cases.append(Case(f"{name}, deep page", f"/audit?{deeper}"))
    return cases


@dataclass
class DatabaseResult:
    name: str
    samples: dict[str, list[float]]


def measure(variant: PicycleVariant, plan: Plan) -> DatabaseResult:
    with variant.engine.unit_of_work() as uow:
        users.add_user(uow, SYSTEM, AUDITOR, "auditor", [])
    with variant.engine.unit_of_work() as uow:
        users.set_password(uow, SYSTEM, AUDITOR, PASSWORD)
    auditor = Visitor(pages_app(variant.engine), AUDITOR)
    cases = browser_cases(variant)
    budget = 2.0 if plan is QUICK else 6.0
    samples = take_turns(cases, lambda case: auditor.timed(case.path), plan.requests, budget)
    return DatabaseResult(variant.database, samples)


def run(plan: Plan, databases: Databases) -> list[DatabaseResult]:
    variants = [PicycleVariant("SQLite", "sqlite", databases.sqlite_url("audit_pages.db"))]
    if databases.postgres_url:
        variants.append(PicycleVariant("PostgreSQL", "pg", databases.postgres_url))
    try:
        # bench.audit runs its template cycle in the first database; the others get a cycle
        # of that unit too, before the filled events: the unit filter's rare, deep match.
        for variant in variants[1:]:
            variant.start(TEMPLATE_UNIT)
        announce(f"sealing {plan.events:,} events into every database")
        fill_events(variants, plan.events)
        results = []
        for variant in variants:
            announce(f"{variant.database}: measuring the event browser")
            results.append(measure(variant, plan))
        return results
    finally:
        for variant in variants:
            variant.dispose()


def report(results: list[DatabaseResult], skipped: str | None, goals: Goals) -> None:
    for result in results:
        print(f"\n{result.name}: ms per request for GET /audit (50 events), test client")
        print(f"  {'case':<28}{'n':>5}{'p50':>8}{'p95':>8}   goal for p95")
        for name, samples in result.samples.items():
            p95 = percentile(samples, 95)
            verdict = goals.judge(
                f"{result.name} {name} p95", p95, GOAL_PAGE_P95_MS, at_most=True, unit="ms"
            )
            print(f"  {name:<28}{len(samples):>5}{median(samples):>8.1f}{p95:>8.1f}   {verdict}")
    if skipped:
        print(f"\nPostgreSQL skipped: {skipped}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args("Server time of the audit event browser's pages.", SCHEMA, argv)
    plan = QUICK if args.quick else FULL
    heading = f"== the audit event browser on {plan.events:,} events =="
    measure_and_report(args, SCHEMA, partial(run, plan), report, heading)


if __name__ == "__main__":
    main()
