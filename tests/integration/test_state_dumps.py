"""A cycle's state is written on every change, reusing the JSON of tasks finished for good
from the instance's previous dumps: what it writes must be, byte for byte, what
SpiffWorkflow's serializer writes of the whole workflow, on every path a cycle can take;
and the workflow kept in memory must hold what restoring that state gives."""

from __future__ import annotations

import json

import pytest
from picycle.engine.services import cycles
from picycle.engine.spiff import serializer
from picycle.engine.spiff.runner import CycleInstance


@pytest.fixture
def dumps(monkeypatch) -> list[str]:
    """Every state the engine writes, each checked against a full serialization and
    against the workflow kept in memory, as a process restoring the state reads it."""
    written: list[str] = []
    kept_from_before = CycleInstance.dump

    def checked(instance: CycleInstance) -> str:
        state = kept_from_before(instance)
        assert state == serializer.dump_state(instance._workflow)
        assert_kept_as_restored(instance._workflow, state)
        written.append(state)
        return state

    monkeypatch.setattr(CycleInstance, "dump", checked)
    return written


def assert_kept_as_restored(workflow, state: str) -> None:
    """Each task's data in memory is what restoring ``state`` gives, to the kind of every
    value and the order of every name."""
    restored = serializer.load_state(state, workflow.spec, workflow.subprocess_specs)
    flows = [(workflow, restored)]
    for key, kept in workflow.subprocesses.items():
        if key in restored.subprocesses:
            flows.append((kept, restored.subprocesses[key]))
        else:  # one whose task is gone (a cancelled cycle): no restore reads it back
            assert all(key not in flow.tasks for flow, _ in flows)
    for kept, again in flows:
        assert json.dumps(kept.data) == json.dumps(again.data)
        for task_id, task in kept.tasks.items():
            again_data = again.tasks[task_id].data
            assert json.dumps(task.data) == json.dumps(again_data), task.task_spec.bpmn_id


def test_loops_rejections_and_a_closing_decision(driver, clock, dumps):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, clock().date())
    driver.approve(cycle_id, approved=False, comment="Smaller, please")
    for _ in range(3):
        driver.design(cycle_id, clock().date())
        driver.approve(cycle_id)
        driver.implement_all(cycle_id)
        driver.evaluate(cycle_id, permits=60, backlog=110)
        if driver.open_tasks(cycle_id, "identify_gaps"):
            driver.identify_gaps(cycle_id)
    driver.complete("lena", cycle_id, "decide_on_cycle", {"decision": "close", "comment": "Later"})
    assert driver.cycle(cycle_id).status == "completed"
    assert len(dumps) > 20


def test_overdue_microprojects_their_follow_ups_and_a_restart(driver, clock, dumps):
    cycle_id = driver.start()
    driver.to_implementation(cycle_id, due_in_days=10)
    clock.advance(days=11)
    assert driver.fire_timers() == 2
    for task in driver.open_tasks(cycle_id, "follow_up_overdue_microproject"):
        driver.complete_task("pia", task.id, {"action_taken": "Called the owner"})
        driver.restart()  # the next dump starts from a restored instance
    driver.implement_all(cycle_id)
    driver.evaluate(cycle_id, permits=85, backlog=50)
    driver.institutionalise(cycle_id)
    driver.plan_next(cycle_id)
    assert driver.cycle(cycle_id).status == "completed"
    assert len(dumps) > 8


def test_a_cancelled_cycle(driver, clock, dumps):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, clock().date())
    driver.approve(cycle_id)
    with driver.engine.unit_of_work() as uow:
        cycles.cancel_cycle(uow, driver.actor("ada"), cycle_id, "Opened for the wrong unit")
    assert driver.cycle(cycle_id).status == "cancelled"
    assert len(dumps) >= 6
