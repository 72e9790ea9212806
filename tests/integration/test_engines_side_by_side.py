"""Several engine processes on one database: each keeps live instances between requests,
and none may act on a state another has moved on from."""

from __future__ import annotations

import pytest
from picycle.engine import Engine
from picycle.engine.errors import ValidationFailed

from tests.support import Driver


def test_two_engines_take_turns_on_one_cycle(driver, database_url, clock):
    other = Driver(lambda: Engine(database_url, clock))
    cycle_id = driver.start()
    driver.assess(cycle_id)  # this engine now keeps the instance
    other.identify_gaps(cycle_id)  # the other engine moves the cycle on
    driver.design(cycle_id, clock().date())  # must see the other engine's step
    other.approve(cycle_id)
    driver.implement_all(cycle_id)
    other.evaluate(cycle_id, permits=82, backlog=55)
    driver.institutionalise(cycle_id)
    driver.plan_next(cycle_id)
    assert driver.cycle(cycle_id).status == "completed"
    other.engine.dispose()


def test_a_refused_step_leaves_nothing_behind_in_memory(driver, clock):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    with pytest.raises(ValidationFailed, match="too big"):
        driver.design(cycle_id, clock().date(), due_in_days=400)
    driver.design(cycle_id, clock().date())
    driver.approve(cycle_id)
    assert len(driver.open_tasks(cycle_id, "implement_microproject")) == 2
