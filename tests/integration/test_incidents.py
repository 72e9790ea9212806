"""A model step over its budget fails fast, frees the database and changes nothing but the
incident it raises; admins see the incident, retry it once the model is fixed, or dismiss
it. Both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from picycle.engine import Engine
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle
from picycle.engine.errors import Conflict, ModelError, PermissionDenied
from picycle.engine.services import cycles, definitions, incidents, migration, timers, users

from tests.deadline import finishes_within
from tests.spinning import FIXED, PROCESS, SPINS, bundle
from tests.support import Driver, ensure_unit

FANOUT = Path(__file__).parent.parent / "data" / "fanout"


@pytest.fixture
def driver(monkeypatch, database_url, clock):
    """The people, on an engine whose model code gets a third of a second of CPU time."""
    monkeypatch.setenv("PICYCLE_MODEL_CPU_SECONDS", "0.3")
    engine = Engine(database_url, clock)
    engine.upgrade_schema()
    engine.dispose()
    made = Driver(lambda: Engine(database_url, clock))
    made.add_people()
    yield made
    made.engine.dispose()


def deploy(driver, script: str, timer: bool = False) -> None:
    with driver.engine.unit_of_work() as uow:
        definitions.deploy(uow, SYSTEM, bundle(script, timer))


def start(driver, unit: str = "Directorate of Planning") -> int:
    ensure_unit(driver.engine, unit)
    with driver.engine.unit_of_work() as uow:
        return cycles.start_cycle(uow, driver.actor("pia"), unit, "Spin", PROCESS).id


def open_incidents(driver, actor_name: str = "ada"):
    with driver.engine.unit_of_work(write=False) as uow:
        return incidents.list_incidents(uow, driver.actor(actor_name)).items


def act(driver, service, *arguments):
    with driver.engine.unit_of_work() as uow:
        return service(uow, driver.actor("ada"), *arguments)


def test_a_step_over_its_cpu_budget_fails_fast_frees_the_database_and_raises_an_incident(driver):
    deploy(driver, SPINS)
    cycle_id = start(driver)
    before = driver.row(cycle_id)
    with pytest.raises(ModelError) as failed:
        driver.complete("pia", cycle_id, "look", {"note": "done"})
    message = str(failed.value)
    assert "'spin'" in message and "CPU-time budget of 0.3 s" in message
    assert "PICYCLE_MODEL_CPU_SECONDS" in message
    # Nothing of the attempt was kept: the task is open, the state as it was.
    assert driver.row(cycle_id).state == before.state
    assert driver.task(cycle_id, "look").state == "open"
    # The database is free: another cycle starts at once (on SQLite: the write lock).
    start(driver, unit="Directorate of Roads")
    [incident] = open_incidents(driver)
    assert (incident.id, incident.cycle_id) == (failed.value.incident_id, cycle_id)
    assert (incident.action, incident.element_id) == ("complete_task", "spin")
    assert (incident.attempted_by, incident.failures) == ("pia", 1)
    assert incident.budget_limit == "PICYCLE_MODEL_CPU_SECONDS"
    raised = driver.events(cycle_id)[-1]
    assert (raised.type, raised.actor, raised.element_id) == ("incident_raised", "pia", "spin")
    assert raised.data["incident"] == incident.id


def test_a_retry_after_the_model_is_fixed_submits_the_members_form_again(driver):
    deploy(driver, SPINS)
    cycle_id = start(driver)
    with pytest.raises(ModelError):
        driver.complete("pia", cycle_id, "look", {"note": "done"})
    [incident] = open_incidents(driver)
    # Retrying the same model fails again and counts on the same incident.
    with pytest.raises(ModelError):
        act(driver, incidents.retry_incident, incident.id)
    [still] = open_incidents(driver)
    assert (still.id, still.failures) == (incident.id, 2)
    deploy(driver, FIXED)
    act(driver, migration.migrate_cycle, cycle_id, None)
    resolved = act(driver, incidents.retry_incident, incident.id)
    assert (resolved.resolution, resolved.resolved_by) == ("retried", "ada")
    assert open_incidents(driver) == []
    assert driver.task(cycle_id, "next").state == "open"
    completed = [e for e in driver.events(cycle_id) if e.type == "task_completed"]
    assert [(e.actor, e.data["data"]) for e in completed] == [("pia", {"note": "done"})]
    assert driver.events(cycle_id)[-1].type == "incident_resolved"
    with pytest.raises(Conflict, match="was retried by ada"):
        act(driver, incidents.retry_incident, incident.id)


def test_an_incident_whose_task_was_done_since_is_dismissed_with_a_reason(driver):
    deploy(driver, SPINS)
    cycle_id = start(driver)
    with pytest.raises(ModelError):
        driver.complete("pia", cycle_id, "look", {"note": "done"})
    deploy(driver, FIXED)
    act(driver, migration.migrate_cycle, cycle_id, None)
    driver.complete("pia", cycle_id, "look", {"note": "again"})
    [incident] = open_incidents(driver)
    with pytest.raises(Conflict, match="no longer open.*dismiss"):
        act(driver, incidents.retry_incident, incident.id)
    dismissed = act(driver, incidents.dismiss_incident, incident.id, "pia submitted again")
    assert (dismissed.resolution, dismissed.reason) == ("dismissed", "pia submitted again")
    last = driver.events(cycle_id)[-1]
    assert (last.type, last.data["reason"]) == ("incident_resolved", "pia submitted again")


def test_timers_that_fail_raise_one_incident_and_wait_for_an_admin(driver, clock):
    deploy(driver, SPINS, timer=True)
    cycle_id = start(driver)
    clock.advance(hours=2)
    with driver.engine.unit_of_work(write=False) as uow:
        assert timers.cycles_with_due_timers(uow) == [cycle_id]
    assert timers.fire_due_timers(driver.engine) == 0
    [incident] = open_incidents(driver)
    assert (incident.action, incident.attempted_by) == ("fire_timers", "system")
    # The worker leaves the cycle alone: the same model would only spin again.
    with driver.engine.unit_of_work(write=False) as uow:
        assert timers.cycles_with_due_timers(uow) == []
        backlog = timers.timer_backlog(uow)
    assert (backlog.due, backlog.oldest_due_at, backlog.awaiting_admin) == (0, None, 1)
    deploy(driver, FIXED, timer=True)
    act(driver, migration.migrate_cycle, cycle_id, None)
    assert act(driver, incidents.retry_incident, incident.id).resolution == "retried"
    assert driver.task(cycle_id, "look").state == "open"


@pytest.mark.parametrize("who", ["pia", "audrey"])
def test_only_admins_see_and_resolve_incidents(driver, who):
    deploy(driver, SPINS)
    cycle_id = start(driver)
    with pytest.raises(ModelError) as failed:
        driver.complete("pia", cycle_id, "look", {"note": "done"})
    incident_id = failed.value.incident_id
    with pytest.raises(PermissionDenied):
        open_incidents(driver, who)
    with driver.engine.unit_of_work() as uow, pytest.raises(PermissionDenied):
        incidents.retry_incident(uow, users.actor_named(uow, who), incident_id)
    with driver.engine.unit_of_work() as uow, pytest.raises(PermissionDenied):
        incidents.dismiss_incident(uow, users.actor_named(uow, who), incident_id, "no")
    assert [incident.id for incident in open_incidents(driver)] == [incident_id]


# The watchdog's exception may first land in a garbage collector's callback, which Python
# ignores (and pytest reports); it is raised again, and the step stops.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_step_that_keeps_the_engine_itself_busy_is_stopped_from_outside(driver):
    with driver.engine.unit_of_work() as uow:
        definitions.deploy(uow, SYSTEM, read_bundle(FANOUT))
    with driver.engine.unit_of_work() as uow:
        cycle_id = cycles.start_cycle(uow, driver.actor("pia"), "Roads", "Fan out", "fanout").id
    before = driver.row(cycle_id)
    with pytest.raises(ModelError) as failed:
        finishes_within(60, lambda: driver.complete("pia", cycle_id, "look", {"note": "go"}))
    assert "twice its CPU-time or memory budget inside the engine" in str(failed.value)
    assert failed.value.limit == "PICYCLE_MODEL_CPU_SECONDS"
    assert driver.row(cycle_id).state == before.state
    assert driver.task(cycle_id, "look").state == "open"
    with driver.engine.unit_of_work() as uow:  # the database is free
        cycles.start_cycle(uow, driver.actor("pia"), "Planning", "Next", "fanout")
    [incident] = open_incidents(driver)
    assert incident.cycle_id == cycle_id


def test_cancelling_a_cycle_dismisses_its_open_incidents(driver):
    deploy(driver, SPINS)
    cycle_id = start(driver)
    with pytest.raises(ModelError) as failed:
        driver.complete("pia", cycle_id, "look", {"note": "done"})
    act(driver, cycles.cancel_cycle, cycle_id, "Opened by mistake")
    assert open_incidents(driver) == []
    with driver.engine.unit_of_work(write=False) as uow:
        [closed] = incidents.list_incidents(uow, driver.actor("ada"), open_only=False).items
    assert (closed.id, closed.resolution, closed.resolved_by) == (
        failed.value.incident_id,
        "dismissed",
        "ada",
    )
    assert closed.reason == "the cycle was cancelled: Opened by mistake"
    last = driver.events(cycle_id)[-1]
    assert (last.type, last.data["incident"]) == ("incident_resolved", closed.id)
