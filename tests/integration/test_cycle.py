"""A whole PI cycle through the engine, restarted between every step, on both databases."""

from __future__ import annotations

import pytest
from picycle.engine.errors import Conflict, PermissionDenied, ValidationFailed

from tests.support import INDICATORS, UNIT


def test_a_whole_cycle_survives_a_restart_between_every_step(driver, clock):
    cycle_id = driver.start()
    steps = [
        lambda: driver.assess(cycle_id),
        lambda: driver.identify_gaps(cycle_id),
        lambda: driver.design(cycle_id, clock().date()),
        lambda: driver.approve(cycle_id),
        lambda: driver.implement_all(cycle_id),
        lambda: driver.evaluate(cycle_id, permits=82, backlog=55),
        lambda: driver.institutionalise(cycle_id),
        lambda: driver.plan_next(cycle_id),
    ]
    for step in steps:
        driver.restart()
        clock.advance(days=1)
        step()

    cycle = driver.cycle(cycle_id)
    assert cycle.status == "completed"
    assert cycle.ended_at == clock()
    assert cycle.records["targets_met"] is True
    assert [g["gap"] for g in cycle.records["gaps"]] == [25, 60]
    assert {g["priority"] for g in cycle.records["gaps"]} <= {"high", "medium", "low"}
    assert driver.open_tasks(cycle_id) == []
    completed = [e.data["title"] for e in driver.events(cycle_id) if e.type == "task_completed"]
    assert completed[:4] == [
        "Assess performance",
        "Identify gaps",
        "Design microprojects",
        "Leadership approval",
    ]
    assert completed[-3:] == [
        "Evaluate results",
        "Institutionalise and share",
        "Plan the next cycle",
    ]
    assert [e.type for e in driver.events(cycle_id)][-2:] == [
        "cycle_completed",
        "next_cycle_scheduled",
    ]


def test_the_cycle_starts_in_the_pi_units_inbox(driver):
    cycle_id = driver.start()
    task = driver.task(cycle_id, "assess_performance")
    assert task.candidate_group == "PI Unit"
    assert task.form_name == "forms/assess-performance.schema.json"
    assert task.form_schema["title"] == "Assess performance"
    started = driver.events(cycle_id)[0]
    assert (started.type, started.actor, started.data["cycle_number"]) == (
        "cycle_started",
        "pia",
        1,
    )


def test_a_rejected_design_goes_back_with_the_leaderships_comment(driver, clock):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, clock().date())
    driver.approve(cycle_id, approved=False, comment="Too vague: name the forms")
    redesign = driver.task(cycle_id, "design_microprojects")
    assert redesign.form_data["approval_comment"] == "Too vague: name the forms"
    assert driver.open_tasks(cycle_id, "implement_microproject") == []


def test_implementation_tasks_go_to_each_microprojects_owner(driver, clock):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, clock().date(), due_in_days=20)
    driver.approve(cycle_id)
    implementation = driver.open_tasks(cycle_id, "implement_microproject")
    assert sorted(t.assignee for t in implementation) == ["dana", "omar"]
    assert {t.due_at.date().isoformat() for t in implementation} == {
        (clock().date().fromordinal(clock().date().toordinal() + 20)).isoformat()
    }
    dana_task = next(t for t in implementation if t.assignee == "dana")
    with pytest.raises(PermissionDenied, match="assigned to dana"):
        driver.complete_task("omar", dana_task.id, {"status": "done", "report": "x"})


def test_targets_not_met_go_back_to_gap_analysis_from_the_new_actuals(driver, clock):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, clock().date())
    driver.approve(cycle_id)
    driver.implement_all(cycle_id)
    driver.evaluate(cycle_id, permits=70, backlog=90)
    again = driver.task(cycle_id, "identify_gaps")
    assert {g["indicator"]: g["gap"] for g in again.form_data["gaps"]} == {
        "permits": 10,
        "backlog": 30,
    }
    assert driver.cycle(cycle_id).records["targets_met"] is False


def test_after_three_failed_evaluations_leadership_decides_to_close(driver, clock):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    for _ in range(3):
        driver.identify_gaps(cycle_id)
        driver.design(cycle_id, clock().date())
        driver.approve(cycle_id)
        driver.implement_all(cycle_id)
        driver.evaluate(cycle_id, permits=60, backlog=110)
    decision = driver.task(cycle_id, "decide_on_cycle")
    assert decision.candidate_group == "Leadership"
    driver.complete(
        "lena", cycle_id, "decide_on_cycle", {"decision": "close", "comment": "Revisit next year"}
    )
    cycle = driver.cycle(cycle_id)
    assert cycle.status == "completed"
    assert cycle.records["targets_met"] is False


def test_an_overdue_microproject_raises_a_follow_up_for_the_pi_unit(driver, clock):
    cycle_id = driver.start()
    driver.to_implementation(cycle_id, due_in_days=10)
    assert driver.fire_timers() == 0
    clock.advance(days=11)
    driver.restart()
    assert driver.fire_timers() == 2
    follow_ups = driver.open_tasks(cycle_id, "follow_up_overdue_microproject")
    assert len(follow_ups) == 2
    assert {t.candidate_group for t in follow_ups} == {"PI Unit"}
    assert len(driver.open_tasks(cycle_id, "implement_microproject")) == 2
    fired = [e for e in driver.events(cycle_id) if e.type == "timer_fired"]
    assert [e.actor for e in fired] == ["system", "system"]
    assert driver.fire_timers() == 0


@pytest.mark.parametrize("restarted", [False, True], ids=["kept", "restored"])
def test_timers_due_when_a_step_is_taken_fire_before_it(driver, clock, restarted):
    """No worker ran since the microprojects fell due: completing one of them fires the
    due timers first, as the worker would have, whether the cycle was kept in memory or
    is read back from the database."""
    cycle_id = driver.start()
    driver.to_implementation(cycle_id, due_in_days=10)
    clock.advance(days=11)
    if restarted:
        driver.restart()
    task = driver.open_tasks(cycle_id, "implement_microproject")[0]
    driver.complete_task(task.assignee, task.id, {"status": "done", "report": "Late"})
    assert driver.fire_timers() == 0  # both fired in the step
    (follow_up,) = driver.open_tasks(cycle_id, "follow_up_overdue_microproject")
    assert task.title.removeprefix("Implement: ") not in follow_up.title


def test_a_step_taken_before_any_timer_is_due_fires_none(driver, clock):
    cycle_id = driver.start()
    driver.to_implementation(cycle_id, due_in_days=10)
    clock.advance(days=9)
    task = driver.open_tasks(cycle_id, "implement_microproject")[0]
    driver.complete_task(task.assignee, task.id, {"status": "done", "report": "Early"})
    assert [e for e in driver.events(cycle_id) if e.type == "timer_fired"] == []
    assert driver.open_tasks(cycle_id, "follow_up_overdue_microproject") == []


def test_a_too_big_microproject_is_rejected_and_nothing_changes(driver, clock):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    before = len(driver.events())
    with pytest.raises(ValidationFailed, match="too big") as refused:
        driver.design(cycle_id, clock().date(), due_in_days=200)
    assert "microprojects.0.due" in refused.value.errors
    assert "Digital permit intake" in refused.value.errors["microprojects.0.due"][0]
    assert len(driver.events()) == before
    assert driver.task(cycle_id, "design_microprojects").state == "open"


def test_form_data_that_breaks_the_schema_names_the_fields(driver):
    cycle_id = driver.start()
    broken = [{**INDICATORS[0], "direction": "sideways"}, {**INDICATORS[1], "baseline": "many"}]
    with pytest.raises(ValidationFailed) as refused:
        driver.assess(cycle_id, indicators=broken)
    assert set(refused.value.errors) == {"indicators.0.direction", "indicators.1.baseline"}
    with pytest.raises(ValidationFailed, match="used twice"):
        driver.assess(cycle_id, indicators=[INDICATORS[0], INDICATORS[0]])


def test_only_the_lanes_group_may_work_a_task(driver):
    cycle_id = driver.start()
    with pytest.raises(PermissionDenied, match="PI Unit"):
        driver.complete("dana", cycle_id, "assess_performance", {"indicators": INDICATORS})
    with pytest.raises(PermissionDenied, match="auditors"):
        driver.complete("audrey", cycle_id, "assess_performance", {"indicators": INDICATORS})


def test_a_completed_task_cannot_be_completed_again(driver):
    cycle_id = driver.start()
    task = driver.task(cycle_id, "assess_performance")
    driver.assess(cycle_id)
    with pytest.raises(Conflict, match="no longer open"):
        driver.complete_task("pia", task.id, {"indicators": INDICATORS})


def test_the_next_cycle_builds_on_the_previous_ones_results(driver):
    first = driver.start()
    with pytest.raises(Conflict, match="still running"):
        driver.start(title="Too early")
    driver.work_whole_cycle(first)

    second = driver.start(title="Next round")
    cycle = driver.cycle(second)
    assert (cycle.cycle_number, cycle.previous_cycle_id, cycle.unit) == (2, first, UNIT)
    seeded = driver.task(second, "assess_performance").form_data["indicators"]
    assert {i["key"]: i["baseline"] for i in seeded} == {"permits": 82, "backlog": 55}


def test_a_cancelled_cycle_seeds_nothing_the_last_completed_one_does(driver):
    from picycle.engine.services import cycles

    def cancel(cycle_id: int) -> None:
        with driver.engine.unit_of_work() as uow:
            cycles.cancel_cycle(uow, driver.actor("ada"), cycle_id, "Opened by mistake")

    abandoned = driver.start()
    driver.assess(abandoned)
    cancel(abandoned)
    fresh = driver.start(title="A real start")
    assert "indicators" not in driver.task(fresh, "assess_performance").form_data

    driver.work_whole_cycle(fresh)
    wrong = driver.start(title="Wrong indicators")
    driver.assess(wrong, indicators=[{**INDICATORS[0], "baseline": 1}])
    cancel(wrong)

    after = driver.start(title="Next round")
    assert driver.cycle(after).cycle_number == 4
    seeded = driver.task(after, "assess_performance").form_data["indicators"]
    assert {i["key"]: i["baseline"] for i in seeded} == {"permits": 82, "backlog": 55}


def test_an_admin_cancels_a_cycle_and_its_tasks_leave_the_inbox(driver):
    from picycle.engine.services import cycles

    cycle_id = driver.start()
    with driver.engine.unit_of_work() as uow, pytest.raises(PermissionDenied):
        cycles.cancel_cycle(uow, driver.actor("pia"), cycle_id, "wrong unit")
    with driver.engine.unit_of_work() as uow:
        cycles.cancel_cycle(uow, driver.actor("ada"), cycle_id, "Opened for the wrong unit")
    assert driver.cycle(cycle_id).status == "cancelled"
    assert driver.open_tasks(cycle_id) == []
    types = [e.type for e in driver.events(cycle_id)]
    assert types[-2:] == ["cycle_cancelled", "task_withdrawn"]


def test_a_report_after_the_due_date_counts_though_no_worker_escalated_yet(driver, clock):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, clock().date())
    driver.approve(cycle_id)
    clock.advance(days=35)  # past every due date; the timer worker has not run
    driver.implement_all(cycle_id)
    assert [t.element_id for t in driver.open_tasks(cycle_id)] == ["evaluate_results"]
    reported = driver.cycle(cycle_id).records["implemented_microprojects"]
    assert [m["status"] for m in reported] == ["done", "done"]


def test_a_target_met_at_the_assessment_is_a_gap_no_one_has_to_explain(driver, clock):
    cycle_id = driver.start()
    met = [INDICATORS[0], {**INDICATORS[1], "baseline": 50}]  # backlog 50, target 60 or lower
    driver.assess(cycle_id, met)
    gaps = driver.task(cycle_id, "identify_gaps").form_data["gaps"]
    assert [(g["indicator"], g["gap"]) for g in gaps] == [("permits", 25), ("backlog", 0)]
    permits = {
        **gaps[0],
        "cause_category": "tools_resources",
        "cause": "Paper files",
        "impact": 5,
        "effort": 2,
    }
    driver.complete("dana", cycle_id, "identify_gaps", {"gaps": [permits, gaps[1]]})
    prioritised = driver.cycle(cycle_id).records["gaps"]
    assert [(g["indicator"], g["priority"]) for g in prioritised] == [
        ("permits", "high"),
        ("backlog", "low"),
    ]
    assert driver.open_tasks(cycle_id, "design_microprojects")
