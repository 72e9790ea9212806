"""A unit of work after its service has committed: a second service in it records only its
own changes, and a cycle written once can be worked on again."""

from __future__ import annotations

from collections import Counter

from picycle.engine.actors import SYSTEM
from picycle.engine.services import audit, tasks, users

from tests.support import INDICATORS


def test_two_services_in_one_unit_of_work_record_each_event_once(driver):
    before = len(driver.events())
    with driver.engine.unit_of_work() as uow:
        users.add_user(uow, SYSTEM, "noor", "member", ["PI Unit"])
        users.add_user(uow, SYSTEM, "sami", "member", ["PI Unit"])
    recorded = [(e.type, e.data["user"]) for e in driver.events()[before:]]
    assert Counter(recorded) == {
        ("user_created", "noor"): 1,
        ("token_issued", "noor"): 1,
        ("user_created", "sami"): 1,
        ("token_issued", "sami"): 1,
    }
    assert audit.verify(driver.engine, SYSTEM).intact


def test_a_cycle_committed_once_is_worked_on_again_in_the_same_unit_of_work(driver):
    cycle_id = driver.start()
    task_id = driver.task(cycle_id, "assess_performance").id
    pia = driver.actor("pia")
    with driver.engine.unit_of_work() as uow:
        tasks.claim_task(uow, pia, task_id)
        done = tasks.complete_task(uow, pia, task_id, {"indicators": INDICATORS})
    assert (done.state, done.completed_by) == ("completed", "pia")
    types = [e.type for e in driver.events(cycle_id)]
    assert types == [
        "cycle_started",
        "task_created",
        "task_claimed",
        "task_completed",
        "task_created",
    ]
    row = driver.row(cycle_id)
    assert row.audit_length == len(types)
    assert audit.verify(driver.engine, SYSTEM).intact
    driver.identify_gaps(cycle_id)  # and the kept cycle is the one the database holds
