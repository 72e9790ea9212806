"""Whole cycles of a unit with time going by between their steps, for the results tests."""

from __future__ import annotations

from tests.support import INDICATORS, UNIT, Driver


def indicators(permits: tuple[float, float], backlog: tuple[float, float]) -> list[dict]:
    """The two indicators of ``INDICATORS`` with these (baseline, target) pairs."""
    pairs = {"permits": permits, "backlog": backlog}
    return [
        {**indicator, "baseline": pairs[indicator["key"]][0], "target": pairs[indicator["key"]][1]}
        for indicator in INDICATORS
    ]


def work_cycle(
    driver: Driver,
    clock,
    permits: tuple[float, float] = (55, 80),
    backlog: tuple[float, float] = (120, 60),
    actuals: tuple[float, float] = (82, 55),
    late_days: int = 0,
    unit: str = UNIT,
) -> int:
    """A whole cycle with a day or more between steps. Its microprojects are due 30 days
    after the design and reported ``late_days`` after that (0: three days after the
    approval), each then followed up. Actuals that miss a target are measured three
    times, then leadership closes the cycle."""
    cycle_id = driver.start(unit=unit)
    clock.advance(days=1)
    driver.assess(cycle_id, indicators(permits, backlog))
    while True:
        clock.advance(days=1)
        driver.identify_gaps(cycle_id)
        clock.advance(days=1)
        driver.design(cycle_id, clock().date())
        clock.advance(days=2)
        driver.approve(cycle_id)
        clock.advance(days=30 + late_days if late_days else 3)
        driver.implement_all(cycle_id)
        for follow_up in driver.open_tasks(cycle_id, "follow_up_overdue_microproject"):
            driver.complete_task("pia", follow_up.id, {"action_taken": "Called the owner"})
        clock.advance(days=1)
        driver.evaluate(cycle_id, permits=actuals[0], backlog=actuals[1])
        if driver.open_tasks(cycle_id, "institutionalise_and_share"):
            driver.institutionalise(cycle_id)
        if driver.open_tasks(cycle_id, "decide_on_cycle"):
            driver.complete("lena", cycle_id, "decide_on_cycle", {"decision": "close"})
        if driver.open_tasks(cycle_id, "plan_next_cycle"):
            driver.plan_next(cycle_id)
        if driver.cycle(cycle_id).status != "running":
            return cycle_id
