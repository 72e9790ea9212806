"""Timers run by the engine's clock, without changing SpiffWorkflow for anyone else."""

from __future__ import annotations

import datetime as datetime_module
import json
from datetime import UTC, datetime, timedelta

import pytest
from picycle.engine.spiff import serializer
from picycle.engine.spiff.parser import parse_bundle
from picycle.engine.spiff.timers import (
    EngineClockCycle,
    EngineClockDuration,
    EngineClockTimeDate,
    engine_now,
    engine_time,
)
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

START = datetime(2020, 2, 10, 9, 0, tzinfo=UTC)


def _process(body: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs"
    targetNamespace="http://picycle.test">
  <bpmn:process id="timed" isExecutable="true">{body}</bpmn:process>
</bpmn:definitions>""".encode()


def waiting_for(kind: str, value: str) -> bytes:
    """A process that waits at one timer (timeDate or timeDuration) and ends."""
    return _process(f"""
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="to_wait" sourceRef="start" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:timerEventDefinition><bpmn:{kind}>{value}</bpmn:{kind}></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="to_end" sourceRef="wait" targetRef="end" />
    <bpmn:endEvent id="end" />""")


def reminding(cycle: str) -> bytes:
    """A process with a user task that a repeating timer reminds about while it is open."""
    return _process(f"""
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="to_work" sourceRef="start" targetRef="work" />
    <bpmn:userTask id="work" />
    <bpmn:sequenceFlow id="to_end" sourceRef="work" targetRef="end" />
    <bpmn:endEvent id="end" />
    <bpmn:boundaryEvent id="remind" attachedToRef="work" cancelActivity="false">
      <bpmn:timerEventDefinition><bpmn:timeCycle>{cycle}</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="to_reminded" sourceRef="remind" targetRef="reminded" />
    <bpmn:endEvent id="reminded" />""")


def deployed_spec(content: bytes) -> str:
    """The spec as deploying stores it."""
    (process,) = parse_bundle({"timed.bpmn": content})
    return serializer.dump_spec(process.spec, process.subprocess_specs)


def started(content: bytes, now: datetime = START) -> BpmnWorkflow:
    """An instance of the deployed spec, run as far as it goes at ``now``."""
    spec, subprocess_specs = serializer.load_spec(deployed_spec(content))
    workflow = BpmnWorkflow(spec, subprocess_specs)
    with engine_time(now):
        workflow.do_engine_steps()
    return workflow


def fire_due_timers(workflow: BpmnWorkflow, now: datetime) -> None:
    with engine_time(now):
        workflow.refresh_timers()
        workflow.do_engine_steps()


def due_dates(workflow: BpmnWorkflow) -> list[datetime]:
    """When the timers the instance waits at are due."""
    due = []
    for task in workflow.get_tasks(state=TaskState.WAITING):
        timer = getattr(task.task_spec, "event_definition", None)
        if isinstance(timer, TimerEventDefinition):
            due.append(TimerEventDefinition.get_datetime(timer.details(task).value))
    return due


def test_spiffworkflow_keeps_the_real_datetime_after_picycle_ran_a_timer():
    workflow = started(waiting_for("timeDuration", '"P14D"'))
    fire_due_timers(workflow, START + timedelta(days=15))
    assert workflow.completed
    assert spiff_timer.datetime is datetime_module.datetime


def test_a_host_application_s_own_timers_keep_the_wall_clock_inside_engine_time():
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(waiting_for("timeDuration", '"P14D"'))
    workflow = BpmnWorkflow(parser.get_spec("timed"))
    with engine_time(START):
        workflow.do_engine_steps()
    (waiting,) = workflow.get_tasks(state=TaskState.WAITING)
    due = datetime.fromisoformat(waiting.internal_data["event_value"])
    assert abs(due - (datetime.now(UTC) + timedelta(days=14))) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("duration", "due"),
    [
        ('"P14D"', datetime(2020, 2, 24, 9, 0, tzinfo=UTC)),
        ('"P1M"', datetime(2020, 3, 10, 9, 0, tzinfo=UTC)),
    ],
    ids=["days", "a month counted from the engine's February"],
)
def test_a_duration_timer_is_due_that_long_after_the_engine_time(duration, due):
    assert due_dates(started(waiting_for("timeDuration", duration))) == [due]


def test_a_date_timer_fires_only_once_the_engine_time_passes_it():
    deadline = datetime(2020, 6, 30, 17, 0, tzinfo=UTC)  # long past by the wall clock
    workflow = started(waiting_for("timeDate", f'"{deadline.isoformat()}"'))
    fire_due_timers(workflow, deadline - timedelta(minutes=1))
    assert due_dates(workflow) == [deadline]
    fire_due_timers(workflow, deadline + timedelta(minutes=1))
    assert due_dates(workflow) == []
    assert workflow.completed


def test_a_repeating_timer_repeats_by_the_engine_time():
    workflow = started(reminding('"R2/P1D"'))
    assert due_dates(workflow) == [START + timedelta(days=1)]
    fire_due_timers(workflow, START + timedelta(hours=23))
    assert due_dates(workflow) == [START + timedelta(days=1)]
    fire_due_timers(workflow, START + timedelta(days=1, seconds=1))
    assert due_dates(workflow) == [START + timedelta(days=2)]
    reminders = workflow.get_tasks(spec_name="reminded")
    assert [task.state for task in reminders] == [TaskState.COMPLETED]


def test_outside_engine_time_timers_read_the_real_utc_clock():
    assert abs(engine_now() - datetime.now(UTC)) < timedelta(seconds=5)
    with engine_time(START):
        assert engine_now() == START
    assert abs(engine_now() - datetime.now(UTC)) < timedelta(seconds=5)


def _timers_in(spec_text: str) -> dict[str, type]:
    spec, _ = serializer.load_spec(spec_text)
    return {
        name: type(task_spec.event_definition)
        for name, task_spec in spec.task_specs.items()
        if name in ("wait", "remind")
    }


def _typenames(spec_text: str) -> list[str]:
    task_specs = json.loads(spec_text)["spec"]["task_specs"]
    return [
        task_specs[name]["event_definition"]["typename"]
        for name in ("wait", "remind")
        if name in task_specs
    ]


@pytest.mark.parametrize(
    ("content", "stock", "engine_clock"),
    [
        (
            waiting_for("timeDate", '"2020-06-30T17:00:00+00:00"'),
            "TimeDateEventDefinition",
            EngineClockTimeDate,
        ),
        (
            waiting_for("timeDuration", '"P14D"'),
            "DurationTimerEventDefinition",
            EngineClockDuration,
        ),
        (reminding('"R2/P1D"'), "CycleTimerEventDefinition", EngineClockCycle),
    ],
    ids=["timeDate", "timeDuration", "timeCycle"],
)
def test_specs_keep_the_stock_timer_names_and_come_back_on_the_engine_clock(
    content, stock, engine_clock
):
    deployed = deployed_spec(content)
    assert _typenames(deployed) == [stock]
    assert list(_timers_in(deployed).values()) == [engine_clock]
    # Written again after a restore, and as stock SpiffWorkflow wrote specs stored before.
    spec, subprocess_specs = serializer.load_spec(deployed)
    assert _typenames(serializer.dump_spec(spec, subprocess_specs)) == [stock]
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(content)
    stock_dict = BpmnWorkflowSerializer.configure(SPIFF_CONFIG).convert(parser.get_spec("timed"))
    stored_before = json.dumps({"spec": stock_dict, "subprocess_specs": {}})
    assert _typenames(stored_before) == [stock]
    assert list(_timers_in(stored_before).values()) == [engine_clock]
