"""Budgets for model code: CPU time, memory and the size of what it builds.

Model code is hostile input. A run of an instance (a completion, a timer firing, a start)
gets one budget; every script, condition and expression it evaluates draws on it. Python
loops and calls tick a meter (the sandbox's compiler puts the ticks in), which checks the
thread's CPU time (less the garbage collector's, ``gc_time.py``) and the process's resident
memory now and then. Single operations that could run long or allocate much inside C
(``10**10**10``, ``'a' * 10**9``, ``sum(range(10**12))``, ``'x'.ljust(10**10)``) are
checked before they start.

Once a budget is exceeded every later tick fails again, so model code that catches the
error cannot go on regardless.
"""

from __future__ import annotations

import operator
import os
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from time import thread_time
from typing import Any

from .gc_time import collecting_seconds
from .limits import ModelLimits, variable_name

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
# Ticks between clock and memory readings (a reading costs a few microseconds): a loop
# allocating a megabyte a turn overshoots the memory budget by 64 MB at most.
_CHECK_EVERY = 64


class BudgetExceeded(Exception):
    """Model code went over a limit; ``limit`` is the setting that changes it."""

    def __init__(self, message: str, limit: str | None):
        super().__init__(message)
        self.limit = limit


def resident_bytes() -> int:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * _PAGE_SIZE


class Meter:
    """What one run has used; ``tick`` is called from model code."""

    __slots__ = ("limits", "_thread", "_cpu_deadline", "_memory_ceiling", "_ticks", "_exceeded")

    def __init__(self, limits: ModelLimits):
        self.limits = limits
        self._thread = threading.get_ident()
        self._cpu_deadline = self._cpu_used() + limits.cpu_seconds
        # Read at the first tick: code without loops or calls allocates little, and most
        # conditions never tick, so they never pay for reading the process's memory.
        self._memory_ceiling: int | None = None
        self._ticks = 0
        self._exceeded: tuple[str, str] | None = None

    def tick(self) -> None:
        if self._memory_ceiling is None:
            self._memory_ceiling = resident_bytes() + self.limits.memory_mb * 1024 * 1024
        self._ticks += 1
        if self._exceeded is not None or not self._ticks % _CHECK_EVERY:
            self.check(memory=True)

    def check(self, memory: bool = False) -> None:
        if self._exceeded is None:
            if self._cpu_used() > self._cpu_deadline:
                self._exceeded = (
                    f"model code used more than its CPU-time budget of "
                    f"{self.limits.cpu_seconds:g} s",
                    variable_name("cpu_seconds"),
                )
            elif memory and resident_bytes() > (self._memory_ceiling or 0):
                self._exceeded = (
                    f"model code used more than its memory budget of {self.limits.memory_mb} MB",
                    variable_name("memory_mb"),
                )
        if self._exceeded is not None:
            raise BudgetExceeded(*self._exceeded)

    def _cpu_used(self) -> float:
        """The thread's CPU time, less what collecting garbage took of it."""
        return thread_time() - collecting_seconds(self._thread)

    def interrupt(self) -> None:
        """Over budget, found from outside (the watchdog): every later check fails."""
        self._exceeded = (
            f"the step used more than twice its CPU-time budget of {self.limits.cpu_seconds:g} s "
            f"or its memory budget of {self.limits.memory_mb} MB",
            variable_name("cpu_seconds"),
        )

    def refuse_size(self, what: str, unit: str, size: int, limit: str) -> None:
        """Fail before doing ``what`` ("build a number") with more ``unit`` than the
        ``limit`` allows (the name of a ModelLimits field)."""
        allowed = getattr(self.limits, limit)
        if size > allowed:
            self._exceeded = (
                f"model code tried to {what} of {size:,} {unit}, over the limit of {allowed:,}",
                variable_name(limit),
            )
            raise BudgetExceeded(*self._exceeded)


_current = threading.local()


@contextmanager
def metered(limits: ModelLimits) -> Iterator[Meter]:
    """Count what model code on this thread uses against ``limits``; inside a metered
    run, the run's meter goes on counting (one budget for the whole run)."""
    running = getattr(_current, "meter", None)
    if running is not None:
        running.check()
        yield running
        return
    _current.meter = Meter(limits)
    try:
        yield _current.meter
    finally:
        _current.meter = None


# --- what model code calls in place of operators and builtins ---------------------------


def tick() -> None:
    _current.meter.tick()


def ticking(iterable: Iterable) -> Iterator:
    """``iter`` for model loops and comprehensions: a tick per item."""
    count = _current.meter.tick
    for item in iterable:
        count()
        yield item


def _length(value: Any) -> int | None:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else None


def _weight(sequence: Any) -> int:
    """Items in a sequence, counting those of nested containers: ``[a] * n`` copies
    references, which ``str()`` or a comparison would then walk in full."""
    if isinstance(sequence, (str, bytes)):
        return len(sequence)
    return sum(
        len(item) if isinstance(item, (list, tuple, dict, set, str)) else 1 for item in sequence
    )


def multiply(left: Any, right: Any) -> Any:
    meter = _current.meter
    if isinstance(left, int) and isinstance(right, int):
        meter.refuse_size(
            "build a number", "bits", left.bit_length() + right.bit_length(), "max_int_bits"
        )
    else:
        times, sequence = (right, left) if isinstance(right, int) else (left, right)
        if isinstance(times, int) and _length(sequence) is not None:
            meter.refuse_size(
                "build a sequence", "items", _weight(sequence) * max(times, 0), "max_items"
            )
    return left * right


def add(left: Any, right: Any) -> Any:
    """``+`` for model code: joining text or lists is checked first, as doubling
    ``s = s + s`` reaches gigabytes in thirty turns of a loop."""
    _refuse_joined(left, right)
    return left + right


def add_in_place(left: Any, right: Any) -> Any:
    """``+=`` for model code: as ``+``, and a list still grows in place."""
    _refuse_joined(left, right)
    return operator.iadd(left, right)


def _refuse_joined(left: Any, right: Any) -> None:
    left_length, right_length = _length(left), _length(right)
    if left_length is not None and right_length is not None:
        _current.meter.refuse_size(
            "build a sequence", "items", left_length + right_length, "max_items"
        )


_COMPARING_METHODS = frozenset({"count", "index", "remove", "sort"})


def container_method(container: Any, name: str, method: Any) -> Any:
    """``container.<name>`` for a list, dict or set in model code: what a method is given
    is bounded (it may be hashed or compared, all it holds); a list's ``extend`` is
    checked like ``+``, and the methods that compare what a list holds, like a comparison."""
    if name == "extend" and isinstance(container, list):
        return _extending(container, method)
    if name in _COMPARING_METHODS and isinstance(container, list):
        bounded(container)

    def checked(*arguments: Any, **keywords: Any) -> Any:
        for argument in arguments:
            bounded(argument)
        return method(*arguments, **keywords)

    return checked


def _extending(items: list, method: Any) -> Any:
    def extend(more: Iterable) -> None:
        more = more if isinstance(more, (list, tuple, str)) else list(ticking(more))
        _current.meter.refuse_size("build a sequence", "items", len(items) + len(more), "max_items")
        method(more)

    return extend


def power(base: Any, exponent: Any, modulo: Any = None) -> Any:
    meter = _current.meter
    if modulo is None and isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        meter.refuse_size("build a number", "bits", base.bit_length() * exponent, "max_int_bits")
    return pow(base, exponent) if modulo is None else pow(base, exponent, modulo)


def shift_left(value: Any, places: Any) -> Any:
    meter = _current.meter
    if isinstance(value, int) and isinstance(places, int):
        meter.refuse_size("build a number", "bits", value.bit_length() + places, "max_int_bits")
    return value << places


def bounded_range(*arguments: int) -> range:
    numbers = range(*arguments)
    _current.meter.refuse_size("build a range", "numbers", len(numbers), "max_items")
    return numbers


def numeric_sum(values: Iterable, start: Any = 0) -> Any:
    """``sum`` of numbers only: summing lists or text copies them over and over in C."""
    if not isinstance(start, (int, float, complex)):
        raise TypeError("sum() adds numbers only in model scripts: join lists with a loop")
    return sum(ticking(values), start)


def bounded(value: Any) -> Any:
    """``value`` unchanged, after checking that going through it (turning it into text,
    comparing, sorting, hashing it) stays in budget. A list can hold the same big list a
    million times over in a few megabytes: what it holds is counted, not its length."""
    if isinstance(value, (list, tuple, dict, set)):
        meter = _current.meter
        size = _deep_count(value, meter)
        meter.refuse_size("go through a structure", "items", size, "max_items")
    return value


def _deep_count(value: Any, meter: Meter) -> int:
    """Items in ``value`` and everything it holds, counted until the limit is passed. A
    container counts its items each time it is reached (going through it again costs as
    much), but what it holds is looked into once."""
    stop = meter.limits.max_items
    count, pending, seen = 1, [value], set()
    while pending and count <= stop:
        item = pending.pop()
        if isinstance(item, str):
            count += len(item) // 64
        elif isinstance(item, (dict, list, tuple, set)):
            count += len(item)
            if id(item) not in seen:
                seen.add(id(item))
                pending.extend(item.values() if isinstance(item, dict) else item)
                if len(seen) % 4096 == 0:
                    meter.check()
    return count


# Widths and precisions build that much text: '%0999999999d', f"{x:>999999999}".
_PERCENT_WIDTHS = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_SPEC_WIDTHS = re.compile(r"^(?:.?[<>=^])?[-+ ]?z?#?0?(\*|\d+)?[,_]?(?:\.(\*|\d+))?")
MAX_WIDTH = 10_000


def _too_wide(found: re.Match | None) -> str | None:
    for number in found.groups() if found else ():
        if number == "*":
            return "'*' widths are not allowed in model scripts: write the width itself"
        if number and int(number) > MAX_WIDTH:
            return f"a width of {number} is over the limit of {MAX_WIDTH:,}"
    return None


def wide_spec(spec: str) -> str | None:
    """Why an f-string's format spec (``>10``, ``.2f``) builds too much text, or None."""
    return _too_wide(_SPEC_WIDTHS.match(spec))


def _wide_percent_format(template: str) -> str | None:
    for found in _PERCENT_WIDTHS.finditer(template):
        problem = _too_wide(found)
        if problem:
            return problem
    return None


def remainder(left: Any, right: Any) -> Any:
    """``%`` for model code: numbers as they are; %-formatting with bounded widths."""
    if isinstance(left, str):
        problem = _wide_percent_format(left)
        if problem:
            raise BudgetExceeded(problem, None)
        bounded(right)
    return left % right


def items(iterable: Any) -> Any:
    """What a builtin that compares or hashes everything it is given (``set``, ``sorted``,
    ``max``...) goes through: a structure, bounded as a whole; anything else (a generator),
    item by item."""
    if isinstance(iterable, (list, tuple, dict, set, str)):
        return bounded(iterable)
    if not hasattr(iterable, "__iter__"):
        return iterable  # max(3, 4): one of several values, not an iterable
    return (bounded(item) for item in ticking(iterable))


def hashed(value: Any) -> int:
    return hash(bounded(value))


def item(container: Any, key: Any) -> Any:
    """``container[key]`` for model code: a tuple key is hashed, all it holds."""
    if isinstance(key, tuple):
        bounded(key)
    return container[key]


def text(value: Any = "") -> str:
    return str(bounded(value))


def representation(value: Any) -> str:
    return repr(bounded(value))


# str methods whose result can be far bigger than their inputs, and the size they would build.
def _padded(text: str, width: Any = 0, *rest: Any) -> int:
    return width if isinstance(width, int) else 0


def _replaced(text: str, old: Any = "", new: Any = "", count: Any = -1) -> int:
    if not isinstance(old, str) or not isinstance(new, str) or len(new) <= len(old):
        return len(text)
    occurrences = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        occurrences = min(occurrences, count)
    return len(text) + occurrences * (len(new) - len(old))


def _expanded(text: str, tabsize: Any = 8) -> int:
    return len(text) + text.count("\t") * (tabsize if isinstance(tabsize, int) else 8)


_GROWING_METHODS = {
    "ljust": _padded,
    "rjust": _padded,
    "center": _padded,
    "zfill": _padded,
    "replace": _replaced,
    "expandtabs": _expanded,
}


def text_method(text: str, name: str, method: Any) -> Any:
    """``text.<name>`` for model code, checked when it could grow without bound."""
    if name == "join":

        def joined(parts: Iterable) -> str:
            parts = list(ticking(parts))
            size = sum(len(part) if isinstance(part, str) else 0 for part in parts)
            size += len(text) * max(len(parts) - 1, 0)
            _current.meter.refuse_size("build text", "characters", size, "max_items")
            return method(parts)

        return joined
    estimate = _GROWING_METHODS.get(name)
    if estimate is None:
        return method

    def checked(*arguments: Any, **keywords: Any) -> str:
        size = estimate(text, *arguments, **keywords)
        _current.meter.refuse_size("build text", "characters", size, "max_items")
        return method(*arguments, **keywords)

    return checked
