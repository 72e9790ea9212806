"""CPU time full garbage collections took in each thread, which budgets leave out.

A full collection runs in whichever thread allocates when one is due and walks every object
of the process: in a large server it can take longer than a model's whole budget, through
no fault of the step it lands in. A callback (installed once, process-wide) adds each full
collection's CPU time to its thread's total. The young generations' collections are
counted against the step: they walk only recent objects, and model code that makes garbage
on purpose would otherwise run on for as long as collecting it takes.
"""

from __future__ import annotations

import gc
import threading
from time import thread_time

_spent: dict[int, float] = {}  # seconds collecting, by thread ident
_started: dict[int, float] = {}


# The oldest of CPython's three generations: collecting it walks every tracked object.
_FULL = 2


def _timed(phase: str, info: dict) -> None:
    if info["generation"] != _FULL:
        return
    thread = threading.get_ident()
    if phase == "start":
        _started[thread] = thread_time()
        return
    began = _started.pop(thread, None)
    if began is not None:
        _spent[thread] = _spent.get(thread, 0.0) + thread_time() - began


def collecting_seconds(thread: int) -> float:
    """CPU seconds the thread has spent in full collections so far."""
    return _spent.get(thread, 0.0)


gc.callbacks.append(_timed)
