"""A cycle's microprojects over all its rounds: each round designs anew, so the cycle's
recorded data holds only the last design, yet the cycle page, the results and the report
list every microproject the cycle gave, with what its owner last reported."""

from __future__ import annotations

from datetime import timedelta

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.errors import NotFound
from picycle.engine.services import microprojects, report, results, users

from bench.engine import microprojects as first_design
from tests.support import UNIT, ensure_unit


@pytest.fixture
def two_rounds(driver, clock) -> int:
    """A cycle whose first round missed a target: its second round designed two other
    microprojects, one reported done and one partly."""
    cycle_id = driver.start()
    driver.to_implementation(cycle_id)
    driver.implement_all(cycle_id)
    driver.evaluate(cycle_id, permits=60, backlog=110)  # both missed: back to the gaps
    driver.identify_gaps(cycle_id)
    due = (clock().date() + timedelta(days=30)).isoformat()
    second = [{**project, "title": f"{project['title']}, again"} for project in first_design(due)]
    driver.complete("dana", cycle_id, "design_microprojects", {"microprojects": second})
    driver.approve(cycle_id)
    for task in sorted(driver.open_tasks(cycle_id, "implement_microproject"), key=str):
        status = "done" if task.assignee == "dana" else "partial"
        driver.complete_task(task.assignee, task.id, {"status": status, "report": "Reported"})
    return cycle_id


def listed(found) -> list[tuple[str, str | None]]:
    return [(m.title, m.status) for m in found]


def test_every_round_is_listed_with_its_last_report(driver, engine, two_rounds):
    with engine.unit_of_work(write=False) as uow:
        found = microprojects.cycle_microprojects(uow, driver.actor("pia"), two_rounds)
        leadership = report.leadership_report(uow, driver.actor("lena"), two_rounds)
    assert listed(found) == [
        ("Digital permit intake", "done"),
        ("Complaint triage desk", "done"),
        ("Digital permit intake, again", "done"),
        ("Complaint triage desk, again", "partial"),
    ]
    assert listed(leadership.microprojects) == listed(found)
    assert (leadership.cycle.microprojects, leadership.cycle.done) == (4, 3)


def test_the_units_results_count_every_round(driver, engine, two_rounds):
    with engine.unit_of_work(write=False) as uow:
        found = results.unit_results(uow, driver.actor("pia"), ensure_unit(engine, UNIT))
    (cycle,) = [c for c in found.cycles if c.cycle_id == two_rounds]
    assert (cycle.microprojects, cycle.done) == (4, 3)


def test_a_design_awaiting_approval_is_listed_after_what_was_given(driver, engine, clock):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, clock().date())
    with engine.unit_of_work(write=False) as uow:
        found = microprojects.cycle_microprojects(uow, driver.actor("pia"), cycle_id)
    assert listed(found) == [("Digital permit intake", None), ("Complaint triage desk", None)]


def test_a_cycle_out_of_reach_does_not_exist(driver, engine, two_rounds):
    finance = ensure_unit(engine, "Directorate of Finance")
    with engine.unit_of_work() as uow:
        users.add_user(uow, SYSTEM, "outsider", "member", [], [("Department Team", finance)])
    with engine.unit_of_work(write=False) as uow, pytest.raises(NotFound):
        microprojects.cycle_microprojects(uow, driver.actor("outsider"), two_rounds)
