"""CPU time the garbage collector took in each thread, which budgets leave out.

A collection runs in whichever thread allocates when one is due, and a full one walks every
object of the process: in a large server it can take longer than a model's whole budget,
through no fault of the step it lands in. A callback (installed once, process-wide) adds
each collection's CPU time to its thread's total.

What a run leaves out is capped: model code that makes garbage on purpose would otherwise
run for as long as its collections take, on top of its budget.
"""

from __future__ import annotations

import gc
import threading
from time import thread_time

_spent: dict[int, float] = {}  # seconds collecting, by thread ident
_started: dict[int, float] = {}


def _timed(phase: str, info: dict) -> None:
    thread = threading.get_ident()
    if phase == "start":
        _started[thread] = thread_time()
        return
    began = _started.pop(thread, None)
    if began is not None:
        _spent[thread] = _spent.get(thread, 0.0) + thread_time() - began


# Seconds of collecting a run may leave out, at least: a full collection of a large process.
ALLOWANCE_FLOOR = 1.0


class LeftOut:
    """The CPU time one thread has spent collecting garbage since a run began, up to the
    run's CPU budget or ``ALLOWANCE_FLOOR``, whichever is more: a run then stops at its
    budget plus that much at the latest."""

    __slots__ = ("_thread", "_start", "_cap")

    def __init__(self, thread: int, cpu_seconds: float):
        self._thread = thread
        self._start = _spent.get(thread, 0.0)
        self._cap = max(cpu_seconds, ALLOWANCE_FLOOR)

    def seconds(self) -> float:
        return min(_spent.get(self._thread, 0.0) - self._start, self._cap)


gc.callbacks.append(_timed)
