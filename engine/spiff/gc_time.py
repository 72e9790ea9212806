"""CPU time the garbage collector took in each thread, which budgets leave out.

A collection runs in whichever thread allocates when one is due, and a full one walks every
object of the process: in a large server it can take longer than a model's whole budget,
through no fault of the step it lands in. A callback (installed once, process-wide) adds
each collection's CPU time to its thread's total.
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


def collecting_seconds(thread: int) -> float:
    """CPU seconds the thread has spent collecting garbage so far."""
    return _spent.get(thread, 0.0)


gc.callbacks.append(_timed)
