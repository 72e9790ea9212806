"""Refused changes in the audit trail: who tried what, and why it was refused."""

from __future__ import annotations

from ..actors import Actor
from ..uow import Engine
from ..vocabulary import EventType


def record_access_denied(engine: Engine, actor: Actor, action: str, reason: str) -> None:
    """Record that ``actor`` was refused ``action`` (``POST /api/v1/cycles``, or the name
    of the action). In a unit of work of its own: the refused request's own transaction
    has rolled back, and the refusal must stay on record all the same. It goes on the
    global chain, not on a cycle's."""
    with engine.unit_of_work() as uow:
        uow.record(
            actor.name, EventType.ACCESS_DENIED, action=action, reason=reason, role=actor.role
        )
        uow.commit()
