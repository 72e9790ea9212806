"""The last line of the budget: a run that goes far past it where no tick reaches.

Model code ticks (``budget.py``), but a model can also make SpiffWorkflow itself work for
long without running any: a multi-instance task over a collection of half a million items
creates half a million tasks in SpiffWorkflow's own loops. A watchdog thread reads each
run's CPU time (less the garbage collector's) and the process's memory every tenth of a
second; a run at twice its budget gets an exception raised in its thread
(``PyThreadState_SetAsyncExc``, delivered between two bytecodes), which fails the step like
any budget does. Python ignores an exception raised inside a garbage collector's callback,
so it is raised again while the run goes on: while the frame that started the run is still
on the thread's stack. One not yet delivered when the run ends is taken back, so it never
lands in code after the run.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from .budget import BudgetExceeded, Meter, resident_bytes
from .gc_time import collecting_seconds
from .limits import variable_name

_PERIOD = 0.1  # seconds between readings
_GRACE = 2  # the ticks stop a run at its budget; the watchdog at twice it
_AGAIN = 5  # readings before an exception not acted on is raised again


class RunInterrupted(BudgetExceeded):
    """Raised in a run's thread from outside, so it takes no arguments."""

    def __init__(self) -> None:
        super().__init__(
            "the step used more than twice its CPU-time or memory budget inside the engine, "
            "outside model code (a multi-instance task over very many items?)",
            variable_name("cpu_seconds"),
        )


def _raise_in(thread_id: int, exception: type[BaseException] | None) -> None:
    """Raise ``exception`` in the thread at its next bytecode; None takes back one that
    was not raised yet."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exception) if exception else None
    )


@dataclass
class _Run:
    clock: int
    deadline: float
    memory_ceiling: int
    meter: Meter
    caller: FrameType  # the frame that runs the step: on the stack for as long as it runs
    readings_since_raised: int | None = None  # None: not interrupted


class Watchdog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[int, _Run] = {}
        self._thread: threading.Thread | None = None

    @contextmanager
    def watching(self, meter: Meter, caller: FrameType) -> Iterator[None]:
        """Watch the run on this thread, counting against ``meter``'s budget; ``caller`` is
        the frame running the step, which stays on the stack until the run ends."""
        thread_id = threading.get_ident()
        clock = time.pthread_getcpuclockid(thread_id)
        limits = meter.limits
        deadline = _cpu_used(clock, thread_id) + _GRACE * limits.cpu_seconds
        ceiling = resident_bytes() + _GRACE * limits.memory_mb * 1024 * 1024
        with self._lock:
            self._runs[thread_id] = _Run(clock, deadline, ceiling, meter, caller)
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="picycle-watchdog")
                self._thread.daemon = True
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                run = self._runs.pop(thread_id, None)
                if run is not None and run.readings_since_raised is not None:
                    _raise_in(thread_id, None)

    def _watch(self) -> None:
        while True:
            time.sleep(_PERIOD)
            with self._lock:
                if not self._runs:
                    continue
                memory = resident_bytes()
                for thread_id, run in list(self._runs.items()):
                    if run.readings_since_raised is not None:
                        run.readings_since_raised += 1
                        if run.readings_since_raised < _AGAIN:
                            continue
                    elif _cpu_used(run.clock, thread_id) < run.deadline and (
                        memory < run.memory_ceiling
                    ):
                        continue
                    if not _on_stack(thread_id, run.caller):
                        # The run ended on an exception raised before it could let go.
                        del self._runs[thread_id]
                        continue
                    run.readings_since_raised = 0
                    run.meter.interrupt()  # every later check of the run fails too
                    _raise_in(thread_id, RunInterrupted)


def _cpu_used(clock: int, thread_id: int) -> float:
    """The thread's CPU time, less what collecting garbage took of it."""
    return time.clock_gettime(clock) - collecting_seconds(thread_id)


def _on_stack(thread_id: int, frame: FrameType) -> bool:
    current = sys._current_frames().get(thread_id)
    while current is not None:
        if current is frame:
            return True
        current = current.f_back
    return False


WATCHDOG = Watchdog()
