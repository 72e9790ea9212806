"""What a timer's value may be: ISO 8601 text SpiffWorkflow can read, within the limits.

The validator checks literal values ("P14D") when a model is deployed; the engine's timers
check computed ones when they start. Durations are bounded before SpiffWorkflow turns them
into dates: it counts a duration's months one by one, so "P999999999Y" would never finish.
"""

from __future__ import annotations

from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition as Timer

from .limits import ModelLimits, variable_name

EXAMPLES = {
    "timeDate": 'an ISO 8601 date and time, e.g. "2026-06-30T17:00:00+00:00"',
    "timeDuration": 'an ISO 8601 duration, e.g. "P14D" or "PT4H"',
    "timeCycle": 'an ISO 8601 repeating interval, e.g. "R3/P1D"',
}
_SHOWN_CHARS = 60  # of a value quoted in a message
_SECONDS = {"weeks": 7 * 86400, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}


def timer_value_problem(kind: str, value: object, limits: ModelLimits) -> str | None:
    """What is wrong with the value a timer's expression gives; None when it is fine."""
    if not isinstance(value, str):
        return f"must give text: {EXAMPLES[kind]}, not {type(value).__name__} {_shown(value)}"
    try:
        problem = _CHECKS[kind](value, limits)
    except Exception:
        return f"{_shown(value)} is not {EXAMPLES[kind]}"
    return f"{_shown(value)} {problem}" if problem else None


def _shown(value: object) -> str:
    if not isinstance(value, str):
        text = repr(value)
        return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."
    return f'"{value}"' if len(value) <= _SHOWN_CHARS else f'"{value[:_SHOWN_CHARS]}..."'


def _date(value: str, limits: ModelLimits) -> str | None:
    if not isinstance(Timer.parse_time_or_duration(value), datetime):
        raise ValueError("a duration, not a date")
    return None  # a fixed date is never too long: far away, it just does not come


def _duration(value: str, limits: ModelLimits) -> str | None:
    duration = Timer.parse_iso_duration(value)
    if _seconds(duration, shortest=True) <= 0:
        return "waits no time at all: give a duration above zero, or remove the timer"
    return _beyond_horizon(duration, 1, limits)


def _cycle(value: str, limits: ModelLimits) -> str | None:
    # SpiffWorkflow's parse_iso_recurring_interval, without computing the dates: a repeat
    # count, then one duration with at most one date before or after it.
    parts = value.upper().replace("--", "/").strip("R").split("/")
    repetitions = int(parts[0]) if parts[0] else None
    if len(parts) not in (2, 3):
        raise ValueError("not a repeating interval")
    parsed = [Timer.parse_time_or_duration(part) for part in parts[1:]]
    durations = [part for part in parsed if isinstance(part, dict)]
    if len(durations) != 1:
        raise ValueError("needs exactly one duration")
    most = limits.timer_max_repetitions
    if repetitions is None:
        return f'repeats without end: give a repetition count of at most {most:,}, e.g. "R10/P1D"'
    if repetitions > most:
        variable = variable_name("timer_max_repetitions")
        return f"repeats {repetitions:,} times; a timer may repeat at most {most:,} ({variable})"
    shortest = limits.timer_min_interval_seconds
    if _seconds(durations[0], shortest=True) < shortest:
        variable = variable_name("timer_min_interval_seconds")
        return (
            f"repeats more often than every {shortest:,} seconds, the shortest interval "
            f"allowed ({variable})"
        )
    return _beyond_horizon(durations[0], max(repetitions, 1), limits)


def _beyond_horizon(duration: dict, times: int, limits: ModelLimits) -> str | None:
    horizon = limits.timer_horizon_days
    if _seconds(duration, shortest=False) * times <= horizon * 86400:
        return None
    variable = variable_name("timer_horizon_days")
    return (
        f"runs further ahead than {horizon:,} days, the horizon a timer may reach ({variable}): "
        "set a shorter time"
    )


def _seconds(duration: dict, *, shortest: bool) -> float:
    """A duration's length in seconds, counting years and months at their shortest (365 and
    28 days) or on average; SpiffWorkflow's own count depends on the start date."""
    year, month = (365, 28) if shortest else (365.25, 365.25 / 12)
    days = duration.get("years", 0) * year + duration.get("months", 0) * month
    rest = sum(duration.get(unit, 0) * seconds for unit, seconds in _SECONDS.items())
    return days * 86400 + rest


_CHECKS = {"timeDate": _date, "timeDuration": _duration, "timeCycle": _cycle}
