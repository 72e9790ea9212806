"""Routes SpiffWorkflow's timer clock through picycle's clock.

SpiffWorkflow's timer event definitions read ``datetime.now(timezone.utc)`` directly. The
runner sets the time it works at in a context variable, so timers fire by the engine's
(injectable) clock: the worker passes the current time and tests can move it forward.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, tzinfo

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer

_now: ContextVar[datetime | None] = ContextVar("picycle_now", default=None)


class _EngineClockDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:
        fixed = _now.get()
        if fixed is None:
            return datetime.now(tz)
        return fixed.astimezone(tz) if tz else fixed


spiff_timer.datetime = _EngineClockDatetime


@contextmanager
def engine_time(now: datetime) -> Iterator[None]:
    token = _now.set(now)
    try:
        yield
    finally:
        _now.reset(token)
