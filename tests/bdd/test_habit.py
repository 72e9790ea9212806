"""Steps for features/habit.feature: the next cycle (moved and called off too), partial
success, moved due dates and bounded loops, in the PI unit's words."""

from __future__ import annotations

from datetime import timedelta

from picycle.engine.services import planned_cycles
from pytest_bdd import given, parsers, scenarios, then, when

from tests.support import UNIT

scenarios("habit.feature")


def _cycles_of_unit(driver):
    with driver.engine.unit_of_work(write=False) as uow:
        from picycle.engine.actors import SYSTEM
        from picycle.engine.services import cycles

        return cycles.list_cycles(uow, SYSTEM, cycles.CycleFilter(unit=UNIT)).items


@given(
    parsers.parse(
        "the cycle has met its targets with permits at {permits:d} % and open complaints at "
        "{backlog:d} cases"
    )
)
def targets_met(driver, cycle, clock, permits, backlog):
    driver.assess(cycle["id"])
    driver.identify_gaps(cycle["id"])
    driver.design(cycle["id"], clock().date())
    driver.approve(cycle["id"])
    driver.implement_all(cycle["id"])
    driver.evaluate(cycle["id"], permits=permits, backlog=backlog)
    driver.institutionalise(cycle["id"])


@when(parsers.parse('the PI unit plans the next cycle "{title}" to start in {days:d} days'))
def plan_titled(driver, cycle, clock, title, days):
    cycle["planned"] = (clock().date() + timedelta(days=days)).isoformat()
    driver.plan_next(cycle["id"], start_in_days=days, title=title)


@given(parsers.parse("the PI unit has planned the next cycle to start in {days:d} days"))
def planned(driver, cycle, days):
    driver.plan_next(cycle["id"], start_in_days=days)


@given("the PI unit has started the next cycle by hand")
def started_by_hand(driver, cycle):
    cycle["by_hand"] = driver.start(title="Started early")


@then("the cycle is completed and the next cycle is planned for that date")
def completed_and_planned(driver, cycle):
    done = driver.cycle(cycle["id"])
    assert done.status == "completed"
    assert done.records["next_cycle"]["start_on"] == cycle["planned"]
    assert driver.events(cycle["id"])[-1].type == "next_cycle_scheduled"


@when("1 more day passes")
def one_more_day(driver, clock):
    clock.advance(days=1)
    driver.fire_timers()


@when(parsers.parse('the PI unit moves the next cycle to start in {days:d} days as "{title}"'))
def move_plan(driver, cycle, clock, days, title):
    with driver.engine.unit_of_work() as uow:
        planned_cycles.change_planned_cycle(
            uow,
            driver.actor("pia"),
            cycle["id"],
            start_on=clock().date() + timedelta(days=days),
            title=title,
        )


@when(parsers.parse('the PI unit calls off the next cycle because "{reason}"'))
def call_off_plan(driver, cycle, reason):
    cycle["reason"] = reason
    with driver.engine.unit_of_work() as uow:
        planned_cycles.call_off_planned_cycle(uow, driver.actor("pia"), cycle["id"], reason)


@then("the audit trail says the PI unit called off the planned cycle and why")
def trail_called_off(driver, cycle):
    last = driver.events(cycle["id"])[-1]
    assert (last.type, last.actor) == ("next_cycle_skipped", "pia")
    assert last.data["reason"] == cycle["reason"]


@then("the Directorate of Planning has no new cycle yet")
def no_new_cycle(driver):
    assert len(_cycles_of_unit(driver)) == 1


@then(parsers.parse('cycle {number:d} "{title}" has started for the Directorate of Planning'))
def next_started(driver, cycle, number, title):
    latest = _cycles_of_unit(driver)[0]
    assert (latest.cycle_number, latest.title, latest.status) == (number, title, "running")
    assert (latest.started_by, latest.previous_cycle_id) == ("system", cycle["id"])
    cycle["next"] = latest.id


@then(
    parsers.parse(
        "its assessment starts from permits at {permits:d} % and open complaints at "
        "{backlog:d} cases"
    )
)
def seeded(driver, cycle, permits, backlog):
    indicators = driver.task(cycle["next"], "assess_performance").form_data["indicators"]
    assert {i["key"]: i["baseline"] for i in indicators} == {
        "permits": permits,
        "backlog": backlog,
    }


@then("the audit trail says the planned cycle was started")
def trail_started(driver, cycle):
    last = driver.events(cycle["id"])[-1]
    assert (last.type, last.actor, last.data["cycle"]) == (
        "next_cycle_started",
        "system",
        cycle["next"],
    )


@then("no other cycle has started for the Directorate of Planning")
def no_other(driver, cycle):
    assert [c.id for c in _cycles_of_unit(driver)] == [cycle["by_hand"], cycle["id"]]


@then(
    parsers.parse(
        "the audit trail says the planned cycle was skipped because cycle {number:d} is "
        "already running"
    )
)
def trail_skipped(driver, cycle, number):
    last = driver.events(cycle["id"])[-1]
    assert (last.type, last.actor) == ("next_cycle_skipped", "system")
    assert f"cycle {number} (#{cycle['by_hand']}) is already running" in last.data["reason"]


@then(parsers.parse("leadership is asked to institutionalise what worked on {indicator}"))
def institutionalise_what_worked(driver, cycle, indicator):
    task = driver.task(cycle["id"], "institutionalise_and_share")
    assert task.candidate_group == "Leadership"
    assert task.form_data["newly_met"] == [indicator]


@then("the department team is asked to identify the gap on open complaints alone")
def missed_back(driver, cycle):
    gaps = driver.task(cycle["id"], "identify_gaps").form_data["gaps"]
    assert [g["indicator"] for g in gaps] == ["backlog"]


@when(parsers.parse("the PI unit agrees with {owner} on a new due date {days:d} days away"))
def agree_new_due(driver, cycle, clock, owner, days):
    follow_ups = driver.open_tasks(cycle["id"], "follow_up_overdue_microproject")
    (theirs,) = [t for t in follow_ups if _owner_of(driver, t) == owner]
    new_due = (clock().date() + timedelta(days=days)).isoformat()
    cycle["new_due"] = new_due
    driver.complete_task("pia", theirs.id, {"action_taken": f"Called {owner}", "new_due": new_due})


def _owner_of(driver, task) -> str:
    return driver.task_detail(task.id).form_data["microproject"]["owner"]


def _implementation(driver, cycle, owner):
    (task,) = [
        t for t in driver.open_tasks(cycle["id"], "implement_microproject") if t.assignee == owner
    ]
    return task


@then(parsers.parse("{owner}'s microproject is due in {days:d} days in her inbox"))
def due_moved(driver, cycle, owner, days):
    task = _implementation(driver, cycle, owner)
    assert task.due_at.date().isoformat() == cycle["new_due"]
    inbox = driver.open_tasks(cycle["id"], "implement_microproject")
    assert task in inbox


@then(parsers.parse("{owner}'s microproject is still due on the old date"))
def due_kept(driver, cycle, clock, owner):
    task = _implementation(driver, cycle, owner)
    assert task.due_at.date() == clock().date() - timedelta(days=1)


@then(parsers.parse("the PI unit is asked to follow up {owner}'s microproject again"))
def followed_up_again(driver, cycle, owner):
    follow_ups = driver.open_tasks(cycle["id"], "follow_up_overdue_microproject")
    assert sorted(_owner_of(driver, t) for t in follow_ups) == sorted([owner, "omar"])
    fired = [e for e in driver.events(cycle["id"]) if e.type == "timer_fired"]
    assert len(fired) == 3


@when(parsers.parse("leadership sends the design back {times:d} times"))
def send_back(driver, cycle, clock, times):
    for _ in range(times):
        driver.design(cycle["id"], clock().date())
        driver.approve(cycle["id"], approved=False, comment="Smaller, please")


@then("leadership is asked to decide on the cycle")
def decide_asked(driver, cycle):
    task = driver.task(cycle["id"], "decide_on_cycle")
    assert task.candidate_group == "Leadership"
    assert task.form_data["design_returns"] == 5
    assert driver.open_tasks(cycle["id"], "design_microprojects") == []


@when("leadership decides to continue in the next cycle")
def decide_continue(driver, cycle):
    driver.complete(
        "lena", cycle["id"], "decide_on_cycle", {"decision": "continue", "comment": "Start over"}
    )


@then("the PI unit is asked to plan the next cycle")
def plan_asked(driver, cycle):
    assert driver.task(cycle["id"], "plan_next_cycle").candidate_group == "PI Unit"
