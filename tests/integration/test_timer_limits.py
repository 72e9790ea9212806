"""A timer whose value is computed while a cycle runs is held to the model limits: out of
bounds, the step fails at once naming the timer and the limit, and nothing changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle
from picycle.engine.errors import ModelError
from picycle.engine.services import cycles, definitions

from tests.deadline import finishes_within

COMPUTED_TIMERS = Path(__file__).parent.parent / "data" / "computed_timers"


@pytest.fixture
def planning(driver):
    """A cycle of the computed-timers process, waiting for its plan."""
    with driver.engine.unit_of_work() as uow:
        definitions.deploy(uow, SYSTEM, read_bundle(COMPUTED_TIMERS))
    with driver.engine.unit_of_work() as uow:
        actor = driver.actor("pia")
        return cycles.start_cycle(uow, actor, "Audit", "t", "computed_timers").id


@pytest.mark.parametrize(
    ("plan", "refusal"),
    [
        (
            {"deadline": "P999999999Y", "reminders": "R3/P1D"},
            "the timeDuration of 'late': \"P999999999Y\" runs further ahead than 3,660 days",
        ),
        (
            {"deadline": "P14D", "reminders": "R/PT0S"},
            "the timeCycle of 'remind': \"R/PT0S\" repeats without end",
        ),
        (
            {"deadline": "P14D", "reminders": "R99999/PT0S"},
            "repeats 99,999 times; a timer may repeat at most 1,000 "
            "(PICYCLE_MODEL_TIMER_MAX_REPETITIONS)",
        ),
        (
            {"deadline": "P14D", "reminders": "R5/PT1S"},
            "repeats more often than every 60 seconds",
        ),
        ({"deadline": "PT0S", "reminders": "R3/P1D"}, "waits no time at all"),
        ({"deadline": "14 days", "reminders": "R3/P1D"}, "is not an ISO 8601 duration"),
    ],
    ids=["ten-billion-years", "endless", "99999-at-once", "every-second", "zero", "not-iso"],
)
def test_a_computed_timer_out_of_bounds_fails_the_step_and_changes_nothing(
    driver, planning, plan, refusal
):
    state_before = driver.row(planning).state
    events_before = len(driver.events())

    def complete() -> None:
        driver.complete("pia", planning, "plan", plan)

    with pytest.raises(ModelError) as failed:
        finishes_within(10, complete)
    assert refusal in str(failed.value)
    assert driver.row(planning).state == state_before
    assert driver.task(planning, "plan").state == "open"
    # What is kept is the incident, for an admin to see.
    assert [e.type for e in driver.events()[events_before:]] == ["incident_raised"]


def test_timers_within_bounds_run(driver, planning):
    driver.complete("pia", planning, "plan", {"deadline": "P14D", "reminders": "R3/P1D"})
    assert driver.task(planning, "work").state == "open"


def test_the_timer_limits_are_configurable(driver, planning, monkeypatch):
    monkeypatch.setenv("PICYCLE_MODEL_TIMER_MAX_REPETITIONS", "2")
    driver.restart()  # an engine reads its limits when it starts
    with pytest.raises(ModelError, match="a timer may repeat at most 2"):
        driver.complete("pia", planning, "plan", {"deadline": "P14D", "reminders": "R3/P1D"})
