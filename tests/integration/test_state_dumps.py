"""A cycle's state is written on every change, reusing the JSON of tasks finished for good
from the instance's previous dumps: what it writes must be, byte for byte, what
SpiffWorkflow's serializer writes of the whole workflow, on every path a cycle can take;
and the workflow kept in memory must hold what restoring that state gives. Admins' models
take paths the PI cycle does not: a multi-instance task and a join gathering nested data."""

from __future__ import annotations

import json
import re

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.services import cycles, definitions
from picycle.engine.spiff import serializer
from picycle.engine.spiff.parser import parse_bundle
from picycle.engine.spiff.runner import CycleInstance, merges_in_place

from tests.integration.test_plain_data import FORM, USER_TASK
from tests.support import ensure_unit


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


# SpiffWorkflow gives a task its parent's values by shallow copy, and merges into running
# tasks in place: nested values a finished step wrote must not change under it.
GATHERING_MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="gathering_definitions" targetNamespace="http://picycle.test/gathering">
  <bpmn:process id="gathering" name="Gather findings" isExecutable="true">
    <bpmn:laneSet id="gathering_lanes">
      <bpmn:lane id="lane_pi_unit" name="PI Unit">{refs}</bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="to_seed" sourceRef="start" targetRef="seed" />
    {body}
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def user_task(element_id: str) -> str:
    return USER_TASK.format(id=element_id, name=element_id)


def script_task(element_id: str, script: str) -> str:
    return (
        f'<bpmn:scriptTask id="{element_id}"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>'
    )


# seed -> look -> each (a multi-instance script over two sites, each writing its finding
# into the nested ``results`` seed made) -> check (user task) -> count -> done.
SEED = 'results = {"sites": {"base": 0}}; items = ["north", "south"]'
MULTI_INSTANCE = f"""{script_task("seed", SEED)}
    <bpmn:sequenceFlow id="to_look" sourceRef="seed" targetRef="look" />
    {user_task("look")}
    <bpmn:sequenceFlow id="to_each" sourceRef="look" targetRef="each" />
    <bpmn:scriptTask id="each" name="each">
      <bpmn:multiInstanceLoopCharacteristics isSequential="false">
        <bpmn:loopDataInputRef>items</bpmn:loopDataInputRef><bpmn:inputDataItem id="item" />
      </bpmn:multiInstanceLoopCharacteristics>
      <bpmn:script>results = {{"sites": {{"base": 0, item: 1}}}}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="to_check" sourceRef="each" targetRef="check" />
    {user_task("check")}
    <bpmn:sequenceFlow id="to_count" sourceRef="check" targetRef="count" />
    {script_task("count", 'seen = sorted(results["sites"])')}
    <bpmn:sequenceFlow id="to_done" sourceRef="count" targetRef="done" />
    {user_task("done")}
    <bpmn:sequenceFlow id="to_end" sourceRef="done" targetRef="end" />"""


def _branch(n: int, script: str) -> str:
    return f"""<bpmn:sequenceFlow id="to_ask_{n}" sourceRef="split" targetRef="ask_{n}" />
    {user_task(f"ask_{n}")}
    <bpmn:sequenceFlow id="to_note_{n}" sourceRef="ask_{n}" targetRef="note_{n}" />
    {script_task(f"note_{n}", script)}
    <bpmn:sequenceFlow id="from_note_{n}" sourceRef="note_{n}" targetRef="join" />"""


# seed -> three parallel branches (each a user task, then a script) -> join -> done. The
# join merges the first two branches' nested ``results`` into each other in place.
JOIN = f"""{script_task("seed", "other = 0")}
    <bpmn:sequenceFlow id="to_split" sourceRef="seed" targetRef="split" />
    <bpmn:parallelGateway id="split" />
    {_branch(1, 'results = {"sites": {"north": {"open": 1}}}')}
    {_branch(2, 'results = {"sites": {"north": {"closed": 2}}}')}
    {_branch(3, "other = 3")}
    <bpmn:parallelGateway id="join" />
    <bpmn:sequenceFlow id="to_done" sourceRef="join" targetRef="done" />
    {user_task("done")}
    <bpmn:sequenceFlow id="to_end" sourceRef="done" targetRef="end" />"""


def deploy_gathering(driver, body: str) -> None:
    elements = re.findall(r'<bpmn:\w+(?:Task|Gateway) id="(\w+)"', body)
    refs = "".join(f"<bpmn:flowNodeRef>{e}</bpmn:flowNodeRef>" for e in ["start", *elements, "end"])
    files = {
        "gathering.bpmn": GATHERING_MODEL.format(refs=refs, body=body).encode(),
        "forms/empty.schema.json": FORM.encode(),
    }
    with driver.engine.unit_of_work() as uow:
        assert definitions.deploy(uow, SYSTEM, files).definitions


def start_gathering(driver, unit: str) -> int:
    ensure_unit(driver.engine, unit)
    with driver.engine.unit_of_work() as uow:
        return cycles.start_cycle(uow, driver.actor("pia"), unit, "Gather", "gathering").id


def stored_updates(driver, cycle_id: int, element_id: str) -> list[dict]:
    """What the stored state says each task of ``element_id`` changed of its parent's data."""
    state = json.loads(driver.row(cycle_id).state)
    return [
        task["delta"]["updates"]
        for task in state["tasks"].values()
        if task["task_spec"] == element_id
    ]


@pytest.mark.parametrize("served", ["from memory", "restored"])
def test_a_multi_instance_gathering_nested_data_leaves_the_steps_before_it_as_they_were(
    driver, dumps, served
):
    deploy_gathering(driver, MULTI_INSTANCE)
    cycle_id = start_gathering(driver, f"Directorate {served}")
    if served == "restored":
        driver.restart()
    driver.complete("pia", cycle_id, "look", {})
    driver.complete("pia", cycle_id, "check", {})
    assert driver.row(cycle_id).data["seen"] == ["base", "north", "south"]
    assert stored_updates(driver, cycle_id, "seed")[0]["results"] == {"sites": {"base": 0}}
    assert len(dumps) >= 3


def test_a_join_of_branches_finished_in_separate_requests(driver, dumps):
    deploy_gathering(driver, JOIN)
    cycle_id = start_gathering(driver, "Directorate joined")
    for n in (1, 2, 3):
        driver.complete("pia", cycle_id, f"ask_{n}", {})
    (done,) = driver.open_tasks(cycle_id)
    assert done.element_id == "done" and len(dumps) >= 4
    joined = {"sites": {"north": {"open": 1, "closed": 2}}}
    assert driver.row(cycle_id).data["results"] == joined


def test_only_a_process_that_merges_into_running_tasks_holds_their_data_unshared():
    """Unshared data costs deep comparisons at every dump: the PI cycle, whose
    multi-instance tasks gather output items into collections, does without."""

    def merges(bpmn: str) -> bool:
        (process,) = parse_bundle({"model.bpmn": bpmn.encode()})
        return merges_in_place(process.spec, process.subprocess_specs)

    def gathering(body: str) -> str:
        return GATHERING_MODEL.format(refs="", body=body)

    pi_cycle = next(
        p for p in parse_bundle(read_bundle(shipped_processes())) if p.process_id == "pi_cycle"
    )
    assert not merges_in_place(pi_cycle.spec, pi_cycle.subprocess_specs)
    assert merges(gathering(MULTI_INSTANCE))
    into_collection = MULTI_INSTANCE.replace(
        '<bpmn:inputDataItem id="item" />',
        '<bpmn:inputDataItem id="item" /><bpmn:loopDataOutputRef>found</bpmn:loopDataOutputRef>'
        '<bpmn:outputDataItem id="results" />',
    )
    assert not merges(gathering(into_collection))
    assert not merges(gathering(JOIN))  # a join's run drops the kept entries instead
