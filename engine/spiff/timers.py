"""Timers that fire by the engine's clock.

SpiffWorkflow's timer event definitions read the wall clock. The runner works at a given
time (the worker passes the current time, tests move it forward), set here per call with
``engine_time``. These subclasses take "now" from it and leave SpiffWorkflow itself as it
is: a host application using SpiffWorkflow keeps its own timers. Only the methods that
read the clock are overridden; outside ``engine_time`` they read the real UTC clock.

A value computed when a timer starts is held to the limits the validator holds literal
values to: one that is not ISO 8601, waits no time, repeats too often or reaches too far
fails the step, naming the timer and the limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

from .limits import DEFAULT_LIMITS, ModelLimits
from .timer_values import timer_value_problem

_engine_now: ContextVar[datetime | None] = ContextVar("picycle_engine_now", default=None)


@contextmanager
def engine_time(now: datetime) -> Iterator[None]:
    """Timers evaluated inside this block take ``now`` as the current time."""
    token = _engine_now.set(now.astimezone(UTC))
    try:
        yield
    finally:
        _engine_now.reset(token)


def engine_now() -> datetime:
    return _engine_now.get() or datetime.now(UTC)


class EngineClockTimeDate(TimeDateEventDefinition):
    """A timer at a date and time: fires once the engine's time has passed it."""

    def has_fired(self, my_task):
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            event_value = _evaluated(my_task, self.expression, "timeDate")
            my_task._set_internal_data(event_value=event_value)
        if self.parse_time_or_duration(event_value) < engine_now():
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class EngineClockDuration(DurationTimerEventDefinition):
    """A timer after a duration: due that long after the engine's time when it starts."""

    def has_fired(self, my_task):
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            start = engine_now()
            expression = _evaluated(my_task, self.expression, "timeDuration")
            duration = self.get_timedelta_from_start(self.parse_iso_duration(expression), start)
            event_value = (start + duration).isoformat()
            my_task._set_internal_data(event_value=event_value)
        if self.get_datetime(event_value) < engine_now():
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class EngineClockCycle(CycleTimerEventDefinition):
    """A repeating timer ("R3/P1D"): each repetition fires once the engine's time passes it."""

    def cycle_complete(self, my_task):
        now = engine_now()
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            expression = _evaluated(my_task, self.expression, "timeCycle")
            cycles, start, duration = _recurring_interval(expression, now)
            event_value = {
                "cycles": cycles,
                "next": start.isoformat(),
                "duration": duration.total_seconds(),
            }
        # True lets the boundary event start one more repetition; event_fired ends the timer.
        ready = False
        if event_value["cycles"] != 0:
            next_event = datetime.fromisoformat(event_value["next"])
            if next_event < now:
                next_event += timedelta(seconds=event_value["duration"])
                event_value["next"] = next_event.isoformat()
                event_value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=event_value)
        return ready


def _evaluated(my_task, expression: str, kind: str) -> str:
    """The timer's value, computed now; the step fails when it is not one picycle runs."""
    value = my_task.workflow.script_engine.evaluate(my_task, expression)
    problem = timer_value_problem(kind, value, _limits_of(my_task))
    if problem is not None:
        element = my_task.task_spec.bpmn_id
        raise WorkflowTaskException(f"the {kind} of '{element}': {problem}", task=my_task)
    return value


def _limits_of(my_task) -> ModelLimits:
    """The limits of the engine running the task: its script environment holds them."""
    return getattr(my_task.workflow.script_engine.environment, "limits", DEFAULT_LIMITS)


def _recurring_interval(expression: str, now: datetime) -> tuple[int, datetime, timedelta]:
    """SpiffWorkflow's reading of a repeating interval, except that one with neither a start
    nor an end date ("R3/P1D") starts from ``now`` instead of the wall clock."""
    parts = expression.upper().replace("--", "/").strip("R").split("/")
    if len(parts) != 2 or not parts[1].startswith("P"):
        return TimerEventDefinition.parse_iso_recurring_interval(expression)
    cycles = int(parts[0]) if parts[0] else -1
    parsed = TimerEventDefinition.parse_iso_duration(parts[1])
    duration = TimerEventDefinition.get_timedelta_from_start(parsed, now)
    return cycles, now + duration, duration


# The stock class each engine-clock timer stands in for (specs are stored under its name).
STANDS_IN_FOR: dict[type[TimerEventDefinition], type[TimerEventDefinition]] = {
    EngineClockTimeDate: TimeDateEventDefinition,
    EngineClockDuration: DurationTimerEventDefinition,
    EngineClockCycle: CycleTimerEventDefinition,
}
