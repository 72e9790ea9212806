"""Model scripts run sandboxed; concurrent completions of one task never both succeed; many
request threads share one engine."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from picycle.engine import Engine
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle
from picycle.engine.cache import LruCache
from picycle.engine.errors import Conflict, ModelError
from picycle.engine.repository import LiveCycles
from picycle.engine.services import audit, cycles, definitions

from tests.support import INDICATORS, Driver

HOSTILE = Path(__file__).parent.parent / "data" / "hostile_script"


def test_a_script_that_reaches_for_files_fails_and_leaves_the_cycle_as_it_was(driver):
    with driver.engine.unit_of_work() as uow:
        definitions.deploy(uow, SYSTEM, read_bundle(HOSTILE))
    with driver.engine.unit_of_work() as uow:
        cycle_id = cycles.start_cycle(uow, driver.actor("pia"), "Audit", "t", "hostile").id
    state_before = driver.row(cycle_id).state
    events_before = len(driver.events())
    with pytest.raises(ModelError, match="'open' is not available"):
        driver.complete("pia", cycle_id, "note", {"note": "hello"})
    assert driver.row(cycle_id).state == state_before
    assert driver.task(cycle_id, "note").state == "open"
    # The one thing kept is the incident, for admins to see.
    assert [event.type for event in driver.events()[events_before:]] == ["incident_raised"]


def race(*completions) -> list[str]:
    """Run the completions at the same moment, each in its own thread; what each met."""
    barrier = threading.Barrier(len(completions))
    outcomes: list[str] = []

    def run(complete) -> None:
        barrier.wait()
        try:
            complete()
            outcomes.append("completed")
        except Conflict:
            outcomes.append("conflict")
        except Exception as error:  # noqa: BLE001 - shown in the assertion
            outcomes.append(repr(error))

    threads = [threading.Thread(target=run, args=(complete,)) for complete in completions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def nothing_half_written(driver, cycle_id: int, task_id: str) -> None:
    """One completion recorded, the next step open once, every chain intact."""
    completions = [e for e in driver.events(cycle_id) if e.type == "task_completed"]
    assert [e.task_id for e in completions] == [task_id]
    claims = [e for e in driver.events(cycle_id) if e.type == "task_claimed"]
    assert [e.task_id for e in claims] == [task_id]
    done = driver.task_detail(task_id)
    assert (done.state, done.completed_by) == ("completed", "pia")
    assert len(driver.open_tasks(cycle_id)) == 1
    assert len(driver.open_tasks(cycle_id, "identify_gaps")) == 1
    events = driver.events(cycle_id)
    row = driver.row(cycle_id)
    assert (row.audit_length, row.audit_head) == (len(events), events[-1].hash)
    assert audit.verify(driver.engine, SYSTEM).intact


def test_two_people_completing_one_task_at_once_one_wins(driver):
    cycle_id = driver.start()
    task_id = driver.task(cycle_id, "assess_performance").id

    def complete() -> None:
        driver.complete_task("pia", task_id, {"indicators": INDICATORS})

    assert race(complete, complete) == ["completed", "conflict"]
    nothing_half_written(driver, cycle_id, task_id)
    driver.identify_gaps(cycle_id)  # the engine goes on from what was committed


def test_two_engines_completing_one_task_at_once_one_wins(driver, database_url, clock):
    other = Driver(lambda: Engine(database_url, clock))
    try:
        cycle_id = driver.start()
        task_id = driver.task(cycle_id, "assess_performance").id
        # Both engines have read the cycle; this one keeps it in memory since the start.
        other.task_detail(task_id)

        def complete(on: Driver):
            return lambda: on.complete_task("pia", task_id, {"indicators": INDICATORS})

        assert race(complete(driver), complete(other)) == ["completed", "conflict"]
        nothing_half_written(driver, cycle_id, task_id)
        # Whichever engine lost, neither acts on a stale cycle from here on.
        other.identify_gaps(cycle_id)
        driver.design(cycle_id, clock().date())
        assert len(other.open_tasks(cycle_id, "leadership_approval")) == 1
        assert audit.verify(other.engine, SYSTEM).intact
    finally:
        other.engine.dispose()


def test_many_threads_run_their_cycles_on_one_engine_with_small_caches(driver, clock):
    """Eight request threads, each taking a unit's cycle to implementation, through caches
    too small to hold what they use: everything is evicted and loaded again under them."""
    driver.engine.forms = LruCache(2)
    driver.engine.live = LiveCycles(2)
    units = [f"Directorate {n}" for n in range(8)]
    started: dict[str, int] = {}
    failures: list[BaseException] = []
    barrier = threading.Barrier(len(units))

    def run(unit: str) -> None:
        try:
            barrier.wait()
            cycle_id = started[unit] = driver.start(unit=unit)
            driver.assess(cycle_id)
            driver.identify_gaps(cycle_id)
            driver.design(cycle_id, clock().date())
            driver.approve(cycle_id)
        except BaseException as failure:  # noqa: BLE001 - re-raised below
            failures.append(failure)

    threads = [threading.Thread(target=run, args=(unit,)) for unit in units]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    for unit in units:
        implementation = driver.open_tasks(started[unit], "implement_microproject")
        assert sorted(t.assignee for t in implementation) == ["dana", "omar"], unit
    assert audit.verify(driver.engine, SYSTEM).intact
