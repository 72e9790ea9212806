"""Results across cycles, read from the cycles' data and the tasks index, on both databases."""

from __future__ import annotations

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.errors import PermissionDenied, ValidationFailed
from picycle.engine.services import cycles, results, units, users

from tests.cycles_over_time import work_cycle
from tests.support import UNIT


def unit_id(driver, name: str = UNIT) -> int:
    with driver.engine.unit_of_work(write=False) as uow:
        return units.find_unit(uow, name).id


def results_of(driver, who: str = "ada", unit: str = UNIT, below: bool = False):
    with driver.engine.unit_of_work(write=False) as uow:
        return results.unit_results(uow, driver.actor(who), unit_id(driver, unit), below)


def overview_for(driver, who: str = "ada", quiet_days: int = results.QUIET_DAYS):
    with driver.engine.unit_of_work(write=False) as uow:
        return results.overview(uow, driver.actor(who), quiet_days)


def test_a_units_indicators_cycle_after_cycle(driver, clock):
    first = work_cycle(driver, clock, actuals=(70, 90))  # missed three times, then closed
    work_cycle(driver, clock, permits=(70, 80), backlog=(90, 60), actuals=(82, 55))
    found = results_of(driver)

    assert [c.cycle_number for c in found.cycles] == [1, 2]
    assert found.cycles[0].cycle_id == first
    permits = next(t for t in found.indicators if t.key == "permits")
    # The second cycle starts from the first one's actual.
    assert [(p.baseline, p.target, p.actual, p.met) for p in permits.points] == [
        (55, 80, 70, False),
        (70, 80, 82, True),
    ]
    assert (permits.name, permits.measure, permits.direction) == (
        "Permits issued within 30 days",
        "%",
        "increase",
    )
    backlog = next(t for t in found.indicators if t.key == "backlog")
    assert [p.met for p in backlog.points] == [False, True]
    assert [(c.gaps_found, c.gaps_closed) for c in found.cycles] == [(2, 0), (2, 2)]
    assert (found.gaps_found, found.gaps_closed) == (4, 2)
    assert [c.targets_met for c in found.cycles] == [False, True]


def test_time_in_each_step_and_the_people_who_took_part(driver, clock):
    work_cycle(driver, clock)
    found = results_of(driver)

    phases = {p.element_id: p for p in found.phases}
    assert list(phases)[:2] == ["assess_performance", "identify_gaps"]
    assert phases["leadership_approval"].median_seconds == 2 * 86400
    assert phases["implement_microproject"].tasks == 2
    assert phases["implement_microproject"].name == "Implement microproject"
    assert phases["implement_microproject"].slowest_seconds == 3 * 86400
    assert phases["assess_performance"].name == "Assess performance"
    people = {p.name: p for p in found.people}
    assert set(people) == {"pia", "dana", "omar", "lena"}
    assert (people["pia"].cycles, people["pia"].tasks_completed) == (1, 3)  # and plans the next


def test_picycle_itself_is_not_among_the_people_who_took_part(driver, clock):
    work_cycle(driver, clock)
    with driver.engine.unit_of_work() as uow:  # as when a planned next cycle starts
        cycles.start_cycle(uow, SYSTEM, UNIT, "Keep the gains")
    found = results_of(driver)

    assert len(found.cycles) == 2
    assert SYSTEM.name not in {p.name for p in found.people}
    assert {p.name for p in found.people} == {"pia", "dana", "omar", "lena"}


def test_microprojects_on_time_and_overdue_now(driver, clock):
    work_cycle(driver, clock)  # reported within the due date
    work_cycle(driver, clock, late_days=5)  # reported late
    late = driver.start()
    driver.assess(late)
    driver.identify_gaps(late)
    driver.design(late, clock().date(), due_in_days=3)
    driver.approve(late)
    clock.advance(days=10)
    found = results_of(driver)

    assert [(c.microprojects, c.done, c.due, c.on_time) for c in found.cycles] == [
        (2, 2, 2, 2),
        (2, 2, 2, 0),
        (2, 0, 2, 0),
    ]
    assert found.on_time_share == pytest.approx(2 / 6)
    assert [t.element_id for t in found.overdue] == ["implement_microproject"] * 2
    assert {t.cycle_id for t in found.overdue} == {late}


def test_a_unit_with_the_units_below_it(driver, clock):
    planning = unit_id(driver)
    with driver.engine.unit_of_work() as uow:
        ministry = units.add_unit(uow, SYSTEM, "Ministry").id
    with driver.engine.unit_of_work() as uow:
        units.update_unit(uow, SYSTEM, planning, parent_id=ministry)
    work_cycle(driver, clock)

    assert results_of(driver, unit="Ministry").cycles == []
    found = results_of(driver, unit="Ministry", below=True)
    assert [(c.unit, c.cycle_number) for c in found.cycles] == [(UNIT, 1)]
    assert {t.unit for t in found.indicators} == {UNIT}
    assert found.path == ["Ministry"]


def test_a_member_of_another_unit_may_not_see_its_results(driver, clock):
    work_cycle(driver, clock)
    finance = unit_id(driver, "Directorate of Finance")
    with driver.engine.unit_of_work() as uow:
        users.add_user(uow, SYSTEM, "fred", "member", [], [("Department Team", finance)])
    with pytest.raises(PermissionDenied):
        results_of(driver, "fred")
    assert results_of(driver, "fred", "Directorate of Finance").cycles == []
    assert results_of(driver, "audrey").cycles  # auditors read every unit's
    seen = overview_for(driver, "fred")
    assert not seen.whole_organisation
    assert [row.unit for row in seen.units] == ["Directorate of Finance"]


def test_the_overview_compares_units_and_flags_quiet_ones(driver, clock):
    work_cycle(driver, clock, actuals=(70, 90))
    work_cycle(driver, clock)
    clock.advance(days=200)
    driver.start(unit="Roads")
    found = overview_for(driver)

    assert found.whole_organisation
    rows = {row.unit: row for row in found.units}
    planning = rows[UNIT]
    assert (planning.cycles, planning.completed, planning.targets_met) == (2, 2, 1)
    assert planning.targets_met_share == 0.5
    assert (planning.microprojects_due, planning.on_time, planning.on_time_share) == (8, 8, 1.0)
    assert planning.quiet
    assert not rows["Roads"].quiet and rows["Roads"].running == 1
    assert rows["Roads"].last_activity == clock()
    assert not rows["Audit"].quiet and rows["Audit"].cycles == 0  # never had a cycle
    assert not {r.unit: r.quiet for r in overview_for(driver, quiet_days=365).units}[UNIT]
    assert planning.cycles_last_year == 2
    clock.advance(days=200)
    assert {r.unit: r.cycles_last_year for r in overview_for(driver).units}[UNIT] == 0


def test_a_task_completed_keeps_a_running_cycle_from_going_quiet(driver, clock):
    cycle_id = driver.start()
    clock.advance(days=190)
    assert {r.unit: r.quiet for r in overview_for(driver).units}[UNIT]
    driver.assess(cycle_id)
    assert not {r.unit: r.quiet for r in overview_for(driver).units}[UNIT]


def test_the_quiet_period_is_bounded(driver):
    with pytest.raises(ValidationFailed):
        overview_for(driver, quiet_days=0)
