"""What the benchmarks in this folder share: a PostgreSQL schema of their own, the command
line, percentiles, goal lines and a production server in a child process."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from picycle.engine import Engine
from picycle.engine.actors import SYSTEM
from picycle.engine.errors import ValidationFailed
from picycle.engine.services import units
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parent.parent
CaseT = TypeVar("CaseT", bound="Case")
ResultsT = TypeVar("ResultsT")
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def announce(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- a PostgreSQL schema of the benchmark's own -------------------------------------------------


@dataclass(frozen=True)
class BenchSchema:
    """Not the tests' schema public (they empty it while they run), and not another
    benchmark's: each benchmark names its own, so they can all run at once."""

    name: str

    def url_in(self, url: str) -> str:
        """The URL with this schema as the search path."""
        options = {"options": f"-csearch_path={self.name}"}
        return make_url(url).update_query_dict(options).render_as_string(hide_password=False)

    def recreate(self, url: str) -> str | None:
        """A new empty schema; returns why PostgreSQL is skipped, or None."""
        try:
            in_postgres(
                url, f"DROP SCHEMA IF EXISTS {self.name} CASCADE", f"CREATE SCHEMA {self.name}"
            )
        except OperationalError as error:
            return f"PostgreSQL is not reachable at {make_url(url)}: {error.orig}"
        return None

    def drop(self, url: str) -> None:
        in_postgres(url, f"DROP SCHEMA IF EXISTS {self.name} CASCADE")


def in_postgres(url: str, *statements: str) -> None:
    database = create_engine(url)
    try:
        with database.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        database.dispose()


# --- the command line ---------------------------------------------------------------------------


def parse_args(
    description: str,
    schema: BenchSchema,
    argv: list[str] | None,
    parents: Sequence[argparse.ArgumentParser] = (),
) -> argparse.Namespace:
    """The options every benchmark takes, and those of ``parents`` (parsers made with
    ``add_help=False``) for a benchmark's own."""
    parser = argparse.ArgumentParser(description=description, parents=list(parents))
    parser.add_argument(
        "--quick", action="store_true", help="a smaller run (also PICYCLE_BENCH_QUICK=1)"
    )
    parser.add_argument("--no-postgres", action="store_true", help="measure SQLite only")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("PICYCLE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help=f"a scratch database; the benchmark works in its schema {schema.name}",
    )
    args = parser.parse_args(argv)
    args.quick = args.quick or os.environ.get("PICYCLE_BENCH_QUICK") == "1"
    return args


@dataclass(frozen=True)
class Databases:
    """Where a run measures: an SQLite file in ``folder`` and, unless skipped, PostgreSQL in
    the benchmark's schema."""

    folder: Path
    postgres_url: str | None
    skipped: str | None

    def sqlite_url(self, name: str) -> str:
        return f"sqlite:///{self.folder / name}"

    def each(self, name: str) -> list[tuple[str, str]]:
        """(database, URL) for each database to measure in, in turn: SQLite (its file
        ``name``), then PostgreSQL unless skipped."""
        found = [("SQLite", self.sqlite_url(name))]
        if self.postgres_url:
            found.append(("PostgreSQL", self.postgres_url))
        return found


class BenchRun:
    """``with BenchRun(args, schema) as databases: ...``: the schema exists inside, and is
    dropped (with the temporary folder) on the way out, whatever happens."""

    def __init__(self, args: argparse.Namespace, schema: BenchSchema):
        self.args = args
        self.schema = schema

    def __enter__(self) -> Databases:
        if self.args.no_postgres:
            skipped = "--no-postgres"
        else:
            skipped = self.schema.recreate(self.args.postgres_url)
        if skipped:
            announce(f"PostgreSQL skipped: {skipped}")
        self._postgres = None if skipped else self.args.postgres_url
        self._folder = tempfile.TemporaryDirectory(prefix="picycle-bench-")
        url = self.schema.url_in(self._postgres) if self._postgres else None
        return Databases(Path(self._folder.name), url, skipped)

    def __exit__(self, *exc_info) -> None:
        try:
            if self._postgres:
                self.schema.drop(self._postgres)
        finally:
            self._folder.cleanup()


# --- figures and goals --------------------------------------------------------------------------


def machine_load() -> str:
    """The load the benchmark shares the machine with: other sessions' test runs show here."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile (0-100), interpolated between the nearest samples."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: list[float]) -> float:
    return statistics.median(values)


class Case(Protocol):
    name: str


def take_turns(
    cases: Sequence[CaseT], timed: Callable[[CaseT], float], requests: int, budget: float
) -> dict[str, list[float]]:
    """Milliseconds per call of ``timed`` (which returns seconds), after three warm-up calls
    of each case; the cases take turns, so a noisy spell hits them alike. A case stops early
    once it has used ``budget`` seconds (and has at least 10 samples): a slow one must not
    eat the run."""
    for case in cases:
        for _ in range(3):
            timed(case)
    samples: dict[str, list[float]] = {case.name: [] for case in cases}
    spent = dict.fromkeys(samples, 0.0)
    for _ in range(requests):
        running = [c for c in cases if spent[c.name] < budget or len(samples[c.name]) < 10]
        if not running:
            break
        for case in running:
            seconds = timed(case)
            spent[case.name] += seconds
            samples[case.name].append(seconds * 1000)
    return samples


@dataclass
class Goals:
    """Every goal a run judges, for the summary at the end. A missed goal never fails.

    A quick run (``judging`` False) is too small and too noisy to judge a goal: it names
    the goal beside each figure, and neither judges nor counts it."""

    judging: bool = True
    results: list[tuple[str, bool]] = field(default_factory=list)

    def judge(self, name: str, value: float, goal: float, *, at_most: bool, unit: str) -> str:
        """The goal beside a figure and, in a judging run, whether the figure met it,
        counted in the summary under ``name``."""
        if self.judging:
            self.results.append((name, _meets(value, goal, at_most)))
        return self.verdict(value, goal, at_most=at_most, unit=unit)

    def verdict(self, value: float, goal: float, *, at_most: bool, unit: str) -> str:
        """As ``judge``, but not counted: for a figure held against another's goal."""
        stated = f"goal {'<=' if at_most else '>='} {goal:g} {unit}"
        if not self.judging:
            return stated
        return f"{stated}: {'met' if _meets(value, goal, at_most) else 'MISSED'}"

    def summary(self) -> str:
        if not self.judging:
            return "quick run: figures only, no goal judged (a full run judges them)"
        met = sum(ok for _, ok in self.results)
        lines = [f"goals met: {met} of {len(self.results)}"]
        lines += [f"  MISSED: {name}" for name, ok in self.results if not ok]
        return "\n".join(lines)


class RunRecord:
    """What every run says at its end: the goals' summary, how long it took, and the
    machine's load at its start and at its end (the figures' noise)."""

    def __init__(self, args: argparse.Namespace):
        self.quick = args.quick
        self.goals = Goals(judging=not args.quick)
        self.began = time.perf_counter()
        self.load_before = machine_load()

    def close(self) -> None:
        print(f"\n{self.goals.summary()}")
        took = time.perf_counter() - self.began
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        print(f"{'quick' if self.quick else 'full'} run in {took:.0f} s, ended {when}")
        print(f"machine: {self.load_before} at the start, {machine_load()} at the end")


def measure_and_report(
    args: argparse.Namespace,
    schema: BenchSchema,
    measure: Callable[[Databases], ResultsT],
    report: Callable[[ResultsT, str | None, Goals], None],
    heading: str | None = None,
) -> None:
    """A benchmark's run: ``measure`` in its databases; once they are dropped, the
    ``heading``, the ``report`` of the results (given why PostgreSQL was skipped, if it
    was, and the run's goals) and the run's record."""
    record = RunRecord(args)
    with BenchRun(args, schema) as databases:
        results = measure(databases)
    if heading:
        print(heading)
    report(results, databases.skipped, record.goals)
    record.close()


def _meets(value: float, goal: float, at_most: bool) -> bool:
    return value <= goal if at_most else value >= goal


# --- the production server in a child process ---------------------------------------------------

_SERVE = """
import sys
sys.path.insert(0, sys.argv[2])
from bench.common import serve_child
serve_child(sys.argv[1], int(sys.argv[3]))
"""


def serve_child(url: str, threads: int) -> None:
    """In the child: the API under waitress as ``picycle serve`` runs it, on an ephemeral
    loopback port, which the first line of stdout names."""
    import logging

    import waitress
    from picycle.api.serve import make_app, settle_heap
    from picycle.engine.uow import Engine

    logging.getLogger("spiff").setLevel(logging.WARNING)
    engine = Engine(url)
    server = waitress.create_server(
        make_app(engine), host="127.0.0.1", port=0, threads=threads, ident="picycle"
    )
    settle_heap()
    print(f"port {server.effective_port}", flush=True)
    try:
        server.run()
    finally:
        engine.dispose()


class Server:
    """``with Server(url) as port: ...``: picycle's API under waitress in a process of its
    own, so the clients measuring it do not share its interpreter."""

    def __init__(self, url: str, threads: int = 8):
        self.url = url
        self.threads = threads

    def __enter__(self) -> int:
        self._log = tempfile.TemporaryFile(mode="w+")
        self._process = subprocess.Popen(
            [sys.executable, "-c", _SERVE, self.url, str(ROOT), str(self.threads)],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            cwd=ROOT,
        )
        line = self._process.stdout.readline()
        if not line.startswith("port "):
            self._process.kill()
            self._process.wait()
            self._log.seek(0)
            raise RuntimeError(f"the server did not start:\n{self._log.read()}")
        return int(line.split()[1])

    def __exit__(self, *exc_info) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()
        self._log.close()


def unit_named(engine: Engine, name: str, parent_id: int | None = None) -> int:
    """The id of the unit called ``name``, added (below ``parent_id``) when there is none: a
    cycle starts only for a unit that exists."""
    with engine.unit_of_work() as uow:
        try:
            return units.find_unit(uow, name).id
        except ValidationFailed:
            return units.add_unit(uow, SYSTEM, name, parent_id).id


def children_of(pid: int) -> set[int]:
    """The processes ``pid`` started (``picycle serve``'s serving processes)."""
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return {int(line) for line in found.stdout.split()}
