"""Timer workers racing for the same due timers: each timer fires once, whoever claims
it, and a worker killed mid-firing leaves its timer to the next. Both databases; on
PostgreSQL a held claim is skipped, not waited for."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from click.testing import CliRunner
from picycle.cli.main import main
from picycle.engine import Engine
from picycle.engine.actors import SYSTEM
from picycle.engine.services import audit, cycles, definitions, timers
from sqlalchemy import make_url, text

from tests.conftest import START
from tests.deadline import finishes_within
from tests.spinning import FIXED, PROCESS, bundle
from tests.support import Driver, ensure_unit

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def driver(database_url, clock):
    """People, and the process that waits an hour before its first user task, deployed."""
    made = Driver(lambda: Engine(database_url, clock))
    made.add_people()
    with made.engine.unit_of_work() as uow:
        definitions.deploy(uow, SYSTEM, bundle(FIXED, timer=True))
    yield made
    made.engine.dispose()


def start_waiting(driver: Driver, count: int) -> list[int]:
    """``count`` cycles, each waiting on its one timer, due an hour after the test clock's
    start (long past by the wall clock, which worker processes run on)."""
    actor = driver.actor("pia")
    started = []
    for n in range(count):
        ensure_unit(driver.engine, f"Unit {n}")
        with driver.engine.unit_of_work() as uow:
            started.append(cycles.start_cycle(uow, actor, f"Unit {n}", "Wait", PROCESS).id)
    return started


def firings(driver: Driver) -> dict[int, int]:
    """How many times each cycle's timer fired, by the trail."""
    counted: dict[int, int] = {}
    for event in driver.events():
        if event.type == "timer_fired":
            counted[event.cycle_id] = counted.get(event.cycle_id, 0) + 1
    return counted


def assert_trail_intact(driver: Driver) -> None:
    assert audit.verify(driver.engine, SYSTEM, workers=1).intact


class HeldFiring:
    """A worker that has claimed a cycle and fired its timers, and waits before it commits."""

    def __init__(self, engine: Engine):
        self.claimed = threading.Event()
        self.release = threading.Event()
        self.fired: int | None = None
        self._thread = threading.Thread(target=self._run, args=(engine,))

    def _run(self, engine: Engine) -> None:
        with engine.unit_of_work() as uow:
            commit = uow.commit

            def held_commit() -> None:
                self.claimed.set()
                self.release.wait()
                commit()

            uow.commit = held_commit
            self.fired = timers.fire_next_due(uow, [])

    def __enter__(self) -> HeldFiring:
        self._thread.start()
        finishes_within(30, self.claimed.wait)
        return self

    def __exit__(self, *exc_info) -> None:
        self.release.set()
        self._thread.join()


def test_two_workers_one_due_timer_one_firing(driver, database_url, clock):
    (cycle_id,) = start_waiting(driver, 1)
    clock.advance(hours=2)
    other = Engine(database_url, clock)
    try:
        with HeldFiring(driver.engine) as first:
            if make_url(database_url).get_backend_name() == "postgresql":
                # The claim is skipped at once: the other worker waits for nothing.
                assert finishes_within(30, lambda: timers.fire_due_timers(other)) == 0
            second = threading.Thread(target=lambda: timers.fire_due_timers(other))
            second.start()  # on SQLite it queues behind the first's transaction
        second.join()
        assert first.fired == 1
        assert timers.fire_due_timers(other) == 0
    finally:
        other.dispose()
    assert firings(driver) == {cycle_id: 1}
    assert driver.task(cycle_id, "look").state == "open"
    assert_trail_intact(driver)


def test_worker_status_says_what_is_due_and_how_late(driver, database_url):
    start_waiting(driver, 2)
    result = CliRunner().invoke(
        main, ["worker", "--status"], env={"PICYCLE_DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    due, oldest, lag, held = result.stdout.splitlines()[:4]
    assert (due, oldest, held) == (
        "due timers: 2",
        f"oldest due: {(START + timedelta(hours=1)).isoformat()}",
        "awaiting an admin (timer incidents): 0",
    )
    assert lag.startswith("lag: ") and int(lag.split()[1]) > 0


def picycle(database_url: str, *args: str) -> subprocess.Popen:
    """The ``picycle`` command in a process of its own."""
    return subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "picycle"), *args],
        env={**os.environ, "PICYCLE_DATABASE_URL": database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def test_four_worker_processes_fire_each_timer_exactly_once(driver, database_url):
    started = start_waiting(driver, 12)
    workers = [picycle(database_url, "worker", "--once") for _ in range(4)]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), outputs
    said = [out.strip() for out, _ in outputs]
    fired = sum(int(line.split()[1]) for line in said if line.startswith("fired "))
    assert fired == len(started), said
    assert firings(driver) == dict.fromkeys(started, 1)
    assert_trail_intact(driver)


# A worker that fires its claimed cycle's timers and writes every row of it, then stops
# short of COMMIT and says so (with its PostgreSQL backend's id) until it is killed.
HOLDING_WORKER = """
import sys, time
from contextlib import contextmanager
from sqlalchemy import text
from picycle.engine import Engine, uow
from picycle.engine.services import timers

@contextmanager
def written_then_held(session):
    yield  # the writes, each sent and answered
    backend = 0
    if session.bind.dialect.name == "postgresql":
        backend = session.execute(text("SELECT pg_backend_pid()")).scalar()
    print(f"holding {backend}", flush=True)
    time.sleep(3600)

uow.committed_at_end = written_then_held
timers.fire_due_timers(Engine(sys.argv[1]))
"""


def wait_until_gone(database_url: str, backend: int, engine: Engine) -> None:
    """PostgreSQL rolls a dead client's transaction back when it notices the closed
    connection; wait for that, or fail after a generous while."""
    if not backend:
        return
    for _ in range(300):
        with engine.database.connect() as connection:
            alive = connection.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": backend}
            )
        if not alive:
            return
        time.sleep(0.1)
    raise AssertionError(f"backend {backend} still there after the worker was killed")


def test_a_worker_killed_mid_firing_leaves_the_timer_to_fire_once_later(driver, database_url):
    (cycle_id,) = start_waiting(driver, 1)
    doomed = subprocess.Popen(
        [sys.executable, "-c", HOLDING_WORKER, database_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    line = doomed.stdout.readline()
    assert line.startswith("holding "), doomed.stderr.read()
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait()
    doomed.stdout.close()
    doomed.stderr.close()
    wait_until_gone(database_url, int(line.split()[1]), driver.engine)
    assert firings(driver) == {}
    later = Engine(database_url, lambda: driver.engine.clock() + timedelta(hours=2))
    try:
        assert timers.fire_due_timers(later) == 1
    finally:
        later.dispose()
    assert firings(driver) == {cycle_id: 1}
    assert_trail_intact(driver)
