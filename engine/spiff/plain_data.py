"""Task data as plain JSON: what a step leaves behind is checked before it is kept.

Task data is stored as JSON and must read back as it was written, in every process. Model
scripts can leave anything Python has: dates (kept, as ISO text), tuples (lists), sets,
NaN, numbers of 5,000 digits, lists nested a thousand deep. What JSON cannot hold fails the
step with the variable's name, before anything is written: stored, it would break the
cycle for good.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from typing import Any

from ..errors import ModelError
from .limits import variable_name

MAX_DEPTH = 100
# SpiffWorkflow reads any mapping holding this key back as one of its stored objects (a
# date, a task): data holding one would make its cycle fail to load, for good.
RESERVED_KEY = "typename"


def _iso(value: Any) -> str:
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def plain(value: Any, where: str, max_bytes: int) -> Any:
    """``value`` as it comes back from JSON, dates as ISO text; ModelError naming the
    variable when it is not JSON, nests deeper than MAX_DEPTH or is over ``max_bytes``."""
    return plain_sized(value, where, max_bytes)[0]


def plain_sized(value: Any, where: str, max_bytes: int | None) -> tuple[Any, int]:
    """``plain``, and the length of the value as JSON (None: any length)."""
    try:
        encoded = json.dumps(value, allow_nan=False, default=_iso, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        problem = _first_problem(value) or "it cannot be written as JSON"
        raise ModelError(f"{where}: {problem}") from None
    if max_bytes is not None and len(encoded) > max_bytes:
        raise ModelError(
            f"{where} is {len(encoded):,} characters as JSON, over the limit of "
            f"{max_bytes:,}: keep documents out of task data",
            limit=variable_name("task_data_bytes"),
        )
    result = json.loads(encoded)
    # Counting brackets (in text too) bounds the depth from above, in C: most data has
    # too few to nest too deep, and is not walked.
    brackets = encoded.count("[") + encoded.count("{")
    deep = _too_deep(result) if brackets > MAX_DEPTH else None
    if deep is not None:
        raise ModelError(f"{where}: {_named(deep)} nests more than {MAX_DEPTH} levels deep")
    reserved = reserved_key_path(result) if f'"{RESERVED_KEY}"' in encoded else None
    if reserved is not None:
        holder = f"{_named(reserved)} has a key" if reserved else "there is a variable"
        raise ModelError(
            f"{where}: {holder} named '{RESERVED_KEY}', which task data cannot hold "
            "(SpiffWorkflow keeps that name for its stored objects): use another name"
        )
    return result, len(encoded)


def reserved_key_path(value: Any) -> list | None:
    """The path to a mapping in ``value`` (``[]``: ``value`` itself) with the key
    ``RESERVED_KEY``, or None."""
    pending = [(value, [])]
    while pending:
        item, path = pending.pop()
        if isinstance(item, dict) and RESERVED_KEY in item:
            return path
        children = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in children:
            if isinstance(child, (dict, list)):
                pending.append((child, [*path, key]))
    return None


def _named(path: list) -> str:
    if not path:
        return "the data"
    return f"'{path[0]}'" + "".join(f"[{key!r}]" for key in path[1:])


def _too_deep(value: Any) -> list | None:
    """The path to a container nested deeper than MAX_DEPTH, or None (containers only are
    visited: text and numbers cost nothing)."""
    pending = [(value, [])]
    while pending:
        item, path = pending.pop()
        if len(path) > MAX_DEPTH:
            return path[:1]
        children = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in children:
            if isinstance(child, (dict, list)):
                pending.append((child, [*path, key]))
    return None


def _first_problem(value: Any, path: list | None = None) -> str:
    """What the first value JSON cannot hold is, and where (the slow path, run only once
    the fast one has failed)."""
    path = path or []
    if len(path) > MAX_DEPTH:
        return f"{_named(path[:1])} nests more than {MAX_DEPTH} levels deep"
    if isinstance(value, dict):
        for key, child in value.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                return (
                    f"{_named(path)} has a key that is a {type(key).__name__} ({key!r:.40}): "
                    "keys must be text"
                )
            problem = _first_problem(child, [*path, key])
            if problem:
                return problem
        return ""
    if isinstance(value, (list, tuple)):
        for index, child in enumerate(value):
            problem = _first_problem(child, [*path, index])
            if problem:
                return problem
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{_named(path)} is {value}, which JSON cannot hold: use null or a number"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 14_000:
        return f"{_named(path)} is a number of more than 4,000 digits"
    if value is None or isinstance(value, (str, int, float, bool, date, datetime, time)):
        return ""
    return (
        f"{_named(path)} is a {type(value).__name__}, which task data cannot hold: "
        "task data may hold only objects, lists, text, numbers, true/false and null"
    )
