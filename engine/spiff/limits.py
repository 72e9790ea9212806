"""How much a process model may ask of the engine: size, parallelism, timers, and the
budget its code runs under.

A model over the size limits is refused when it is deployed; a timer whose value is
computed while a cycle runs is held to the same limits then; model code that goes over its
budget fails its step (``budget.py``). The defaults are far beyond what a real model needs
and well below what would hold a request, the database lock or the worker for long. Each
limit can be changed with the environment variable PICYCLE_MODEL_<NAME>, read once when
the engine starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

_ENVIRONMENT_PREFIX = "PICYCLE_MODEL_"


@dataclass(frozen=True)
class ModelLimits:
    max_file_bytes: int = 5 * 1024 * 1024  # one .bpmn, .dmn or form file
    max_bundle_bytes: int = 20 * 1024 * 1024  # all files of one deployment
    max_elements: int = 500  # flow nodes of one process, its subprocesses included
    # Outgoing flows of one parallel or inclusive gateway: a cycle starts every branch at once
    # (and joining them costs time that grows with the square of their number).
    max_parallel_branches: int = 50
    max_loop_count: int = 100  # a literal multi-instance cardinality or loopMaximum
    timer_horizon_days: int = 3660  # the longest a timer may wait or repeat: ten years
    timer_min_interval_seconds: int = 60  # the shortest interval of a repeating timer
    timer_max_repetitions: int = 1000  # how often a repeating timer may fire
    # The budget of one step (a completion, a timer firing, a start) and the model code
    # it runs: its scripts run in microseconds.
    cpu_seconds: float = 2.0  # CPU time
    memory_mb: int = 256  # growth of the process's memory
    max_items: int = 1_000_000  # items (or characters) one operation may build
    max_int_bits: int = 100_000  # the size of one number
    task_data_bytes: int = 4_000_000  # a task's data as JSON, once the step is done

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> ModelLimits:
        """The defaults, each replaced by its PICYCLE_MODEL_<NAME> variable when set."""
        values = {}
        for field in fields(cls):
            name = variable_name(field.name)
            if (text := environ.get(name)) is not None:
                read = _seconds_above_zero if field.type == "float" else _whole_number_above_zero
                values[field.name] = read(name, text)
        return cls(**values)


DEFAULT_LIMITS = ModelLimits()


def _whole_number_above_zero(name: str, text: str) -> int:
    value = int(text) if text.strip().isdecimal() else 0
    if value < 1:
        raise ValueError(f"{name} must be a whole number above 0, not '{text}'")
    return value


def _seconds_above_zero(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise ValueError(f"{name} must be a number of seconds above 0, not '{text}'")
    return value


def variable_name(limit: str) -> str:
    """The environment variable that sets a limit: PICYCLE_MODEL_MAX_ELEMENTS."""
    return _ENVIRONMENT_PREFIX + limit.upper()
