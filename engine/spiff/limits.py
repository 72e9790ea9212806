"""How much a process model may ask of the engine: size, parallelism and timers.

A model over these limits is refused when it is deployed; a timer whose value is computed
while a cycle runs is held to the same limits then. The defaults are far beyond what a real
model needs and well below what would hold a request, the database lock or the worker for
long. Each limit can be changed with the environment variable named beside it.
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

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> ModelLimits:
        """The defaults, each replaced by its PICYCLE_MODEL_<NAME> variable when set."""
        values = {}
        for field in fields(cls):
            name = variable_name(field.name)
            if (text := environ.get(name)) is not None:
                values[field.name] = _whole_number_above_zero(name, text)
        return cls(**values)


DEFAULT_LIMITS = ModelLimits()


def _whole_number_above_zero(name: str, text: str) -> int:
    value = int(text) if text.strip().isdecimal() else 0
    if value < 1:
        raise ValueError(f"{name} must be a whole number above 0, not '{text}'")
    return value


def variable_name(limit: str) -> str:
    """The environment variable that sets a limit: PICYCLE_MODEL_MAX_ELEMENTS."""
    return _ENVIRONMENT_PREFIX + limit.upper()
