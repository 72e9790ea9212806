"""Timer values written as literals ("P14D") are checked the way SpiffWorkflow will read them.

A timer expression is Python that must produce ISO 8601 text; computed ones (due + 'T17:00')
can only be checked when they run, but a literal can be checked now.
"""

from __future__ import annotations

import ast
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition as Timer

_EXAMPLES = {
    "timeDate": 'an ISO 8601 date and time, e.g. "2026-06-30T17:00:00+00:00"',
    "timeDuration": 'an ISO 8601 duration, e.g. "P14D" or "PT4H"',
    "timeCycle": 'an ISO 8601 repeating interval, e.g. "R3/P1D"',
}


def timer_value_problem(kind: str, source: str) -> str | None:
    """What is wrong with a literal timer value; None when it is fine or computed."""
    try:
        value = ast.literal_eval(source.strip())
    except Exception:  # not a literal: it is computed from task data when the timer starts
        return None
    if not isinstance(value, str):
        return f"must give text: {_EXAMPLES[kind]}, not {type(value).__name__} {value!r}"
    try:
        _READERS[kind](value)
    except Exception:
        return f'"{value}" is not {_EXAMPLES[kind]}'
    return None


def _date(value: str) -> None:
    if not isinstance(Timer.parse_time_or_duration(value), datetime):
        raise ValueError("a duration, not a date")


def _cycle(value: str) -> None:
    # SpiffWorkflow's parse_iso_recurring_interval, without computing the dates: a repeat
    # count, then one duration with at most one date before or after it.
    parts = value.upper().replace("--", "/").strip("R").split("/")
    if parts[0]:
        int(parts[0])
    if len(parts) not in (2, 3):
        raise ValueError("not a repeating interval")
    durations = [isinstance(Timer.parse_time_or_duration(part), dict) for part in parts[1:]]
    if durations.count(True) != 1:
        raise ValueError("needs exactly one duration")


_READERS = {"timeDate": _date, "timeDuration": Timer.parse_iso_duration, "timeCycle": _cycle}
