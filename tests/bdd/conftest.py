from __future__ import annotations

import pytest
from pytest_bdd import given, parsers, when

from tests.support import UNIT


@pytest.fixture(autouse=True)
def _every_scenario_on_each_database(driver):
    """pytest-bdd asks for step fixtures only while running; naming the driver here lets
    pytest see it at collection, so each scenario runs on SQLite and on PostgreSQL."""
    return driver


# Steps the features share, in the PI unit's words.


@pytest.fixture
def cycle(driver):
    return {"id": None, "refusal": None}


@given("the Directorate of Planning has a PI unit, a department team and leadership")
def people(driver):
    assert driver.actor("pia").groups == frozenset({"PI Unit"})


@given("the PI unit has opened a cycle for the Directorate of Planning")
def opened(driver, cycle):
    cycle["id"] = driver.start(unit=UNIT)


def _assess_and_analyse(driver, cycle):
    driver.assess(cycle["id"])
    driver.identify_gaps(cycle["id"])


@given("the department team has named the causes of the gaps")
def causes_named(driver, cycle):
    _assess_and_analyse(driver, cycle)


@given(parsers.parse("the department team has designed microprojects due in {days:d} days"))
def designed(driver, cycle, clock, days):
    _assess_and_analyse(driver, cycle)
    driver.design(cycle["id"], clock().date(), due_in_days=days)


@given("leadership approves the design")
@when("leadership approves the design")
def approve(driver, cycle):
    driver.approve(cycle["id"])


@given("the microprojects have been implemented")
def implemented(driver, cycle, clock):
    _assess_and_analyse(driver, cycle)
    driver.design(cycle["id"], clock().date())
    driver.approve(cycle["id"])
    driver.implement_all(cycle["id"])


@when(
    parsers.parse(
        "the PI unit measures permits at {permits:d} % and open complaints at {backlog:d} cases"
    )
)
def measure(driver, cycle, permits, backlog):
    driver.evaluate(cycle["id"], permits=permits, backlog=backlog)


@when("leadership standardises the new practice")
def standardise(driver, cycle):
    driver.institutionalise(cycle["id"])


@given(parsers.parse("{days:d} days pass"))
@when(parsers.parse("{days:d} days pass"))
def days_pass(driver, clock, days):
    clock.advance(days=days)
    driver.fire_timers()
