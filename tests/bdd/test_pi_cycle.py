"""Steps for features/pi_cycle.feature, in the PI unit's words."""

from __future__ import annotations

from picycle.engine.errors import ValidationFailed
from pytest_bdd import parsers, scenarios, then, when

from tests.support import INDICATORS

scenarios("pi_cycle.feature")


@when(
    parsers.parse("the PI unit assesses permits at {baseline:d} % against a target of {target:d} %")
)
def assess(driver, cycle, baseline, target):
    permits = {**INDICATORS[0], "baseline": baseline, "target": target}
    driver.assess(cycle["id"], indicators=[permits, INDICATORS[1]])


@when("the department team names the causes of the gaps")
def name_causes(driver, cycle):
    driver.identify_gaps(cycle["id"])


@when(parsers.parse("the department team designs microprojects due in {days:d} days"))
def design(driver, cycle, clock, days):
    driver.design(cycle["id"], clock().date(), due_in_days=days)


@when(parsers.parse('leadership rejects the design with "{comment}"'))
def reject(driver, cycle, comment):
    driver.approve(cycle["id"], approved=False, comment=comment)


@when("every owner reports their microproject done")
def implement(driver, cycle):
    driver.implement_all(cycle["id"])


@when(parsers.parse("the department team proposes a microproject due in {days:d} days"))
def propose_big(driver, cycle, clock, days):
    try:
        driver.design(cycle["id"], clock().date(), due_in_days=days)
    except ValidationFailed as refusal:
        cycle["refusal"] = refusal


@when(parsers.parse("the PI unit plans the next cycle to start in {days:d} days"))
def plan_next(driver, cycle, days):
    driver.plan_next(cycle["id"], start_in_days=days)


@then("the cycle is completed with its targets met")
def completed(driver, cycle):
    done = driver.cycle(cycle["id"])
    assert (done.status, done.records["targets_met"]) == ("completed", True)


@then("the audit trail names who completed each step")
def audit_names(driver, cycle):
    completions = [
        (e.actor, e.data["title"]) for e in driver.events(cycle["id"]) if e.type == "task_completed"
    ]
    assert completions[0] == ("pia", "Assess performance")
    assert ("lena", "Leadership approval") in completions
    assert ("lena", "Institutionalise and share") in completions
    assert completions[-1] == ("pia", "Plan the next cycle")


@then(parsers.parse('the department team has the design back with the comment "{comment}"'))
def design_back(driver, cycle, comment):
    task = driver.task(cycle["id"], "design_microprojects")
    assert task.candidate_group == "Department Team"
    assert task.form_data["approval_comment"] == comment


@then("no microproject is being implemented")
def nothing_implemented(driver, cycle):
    assert driver.open_tasks(cycle["id"], "implement_microproject") == []


@then("the department team is asked to identify the gaps again")
def gaps_again(driver, cycle):
    assert driver.task(cycle["id"], "identify_gaps").candidate_group == "Department Team"


@then(parsers.parse("the gap on permits is now {gap:d}"))
def gap_now(driver, cycle, gap):
    gaps = driver.task(cycle["id"], "identify_gaps").form_data["gaps"]
    assert next(g["gap"] for g in gaps if g["indicator"] == "permits") == gap


@then(parsers.parse("the PI unit is asked to follow up {count:d} overdue microprojects"))
def follow_ups(driver, cycle, count):
    tasks = driver.open_tasks(cycle["id"], "follow_up_overdue_microproject")
    assert len(tasks) == count
    assert {t.candidate_group for t in tasks} == {"PI Unit"}


@then("the owners still have their microprojects to finish")
def owners_still(driver, cycle):
    owners = {t.assignee for t in driver.open_tasks(cycle["id"], "implement_microproject")}
    assert owners == {"dana", "omar"}


@then("the design is refused because the microproject is too big")
def refused(cycle):
    assert cycle["refusal"] is not None
    assert "too big" in str(cycle["refusal"])


@then("the design is still waiting in the department team's inbox")
def still_waiting(driver, cycle):
    assert driver.task(cycle["id"], "design_microprojects").state == "open"
