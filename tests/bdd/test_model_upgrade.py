"""Steps for features/model_upgrade.feature: cycles of the model before "Plan the next
cycle" (kept in tests/data/pi_cycle_v1) moving onto the shipped one."""

from __future__ import annotations

from pathlib import Path

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle
from picycle.engine.services import definitions, migration
from pytest_bdd import given, parsers, scenarios, then, when

scenarios("model_upgrade.feature")

PREVIOUS_MODEL = Path(__file__).parents[1] / "data" / "pi_cycle_v1"
FINANCE = "Directorate of Finance"


@pytest.fixture
def versions(driver):
    """The shipped model is deployed first (version 1); the previous one comes after it, so
    new cycles start on it until they are moved."""
    with driver.engine.unit_of_work() as uow:
        (previous,) = definitions.deploy(uow, SYSTEM, read_bundle(PREVIOUS_MODEL)).definitions
    return {"shipped": 1, "previous": previous.version, "cycles": {}, "plans": {}}


@given(
    parsers.parse(
        "the Directorate of Planning's cycle runs on the previous model, awaiting "
        "leadership's approval"
    )
)
def planning_awaits_approval(driver, versions, clock):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, clock().date())
    assert driver.cycle(cycle_id).version == versions["previous"]
    versions["cycles"]["planning"] = cycle_id


@given(
    parsers.parse(
        "the Directorate of Finance's cycle runs on the previous model, implementing its "
        "microprojects"
    )
)
def finance_implements(driver, versions, clock):
    cycle_id = driver.start(unit=FINANCE)
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, clock().date())
    driver.approve(cycle_id)
    versions["cycles"]["finance"] = cycle_id


@when("the admin moves every running cycle onto the shipped model")
def move_all(driver, versions):
    plans = migration.migrate_all(driver.engine, driver.actor("ada"), "pi_cycle", 1)
    versions["plans"] = {plan.cycle_id: plan for plan in plans}


@then("the Directorate of Planning's cycle runs on the shipped model")
def planning_moved(driver, versions):
    cycle_id = versions["cycles"]["planning"]
    assert versions["plans"][cycle_id].migrated
    assert driver.cycle(cycle_id).version == versions["shipped"]


@then(
    "once its design is approved, implemented and its targets met, the PI unit is asked to "
    "plan the next cycle"
)
def planning_goes_on(driver, versions):
    cycle_id = versions["cycles"]["planning"]
    driver.restart()
    driver.approve(cycle_id)
    driver.implement_all(cycle_id)
    driver.evaluate(cycle_id, permits=82, backlog=55)
    driver.institutionalise(cycle_id)
    driver.plan_next(cycle_id)
    assert driver.cycle(cycle_id).status == "completed"


@then(
    parsers.parse(
        "the Directorate of Finance's cycle stays on the previous model because the shipped "
        "one lacks '{element}' where it stands"
    )
)
def finance_stays(driver, versions, element):
    cycle_id = versions["cycles"]["finance"]
    plan = versions["plans"][cycle_id]
    assert not plan.migrated
    assert any(f"'{element}'" in problem for problem in plan.problems), plan.problems
    assert driver.cycle(cycle_id).version == versions["previous"]
