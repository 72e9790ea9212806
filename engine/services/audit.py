"""Reading, verifying and exporting the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, exists, func, or_, select

from ..actors import Actor
from ..audit.verify import Verification, verify_chains
from ..db.models import AuditChain, AuditEvent, Cycle, Task
from ..errors import PermissionDenied
from ..uow import Engine, UnitOfWork
from .cycles import get_cycle

STREAM_BATCH = 1000


@dataclass(frozen=True)
class EventFilter:
    cycle_id: int | None = None
    unit: str | None = None
    actor: str | None = None
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def may_read_cycle(uow: UnitOfWork, actor: Actor, cycle_id: int) -> bool:
    """Auditors and admins read every cycle; a member, the cycles they take part in."""
    if actor.reads_everything:
        return True
    acted = exists().where(AuditEvent.cycle_id == cycle_id, AuditEvent.actor == actor.name)
    holds = exists().where(
        Task.cycle_id == cycle_id,
        or_(Task.assignee == actor.name, Task.claimed_by == actor.name),
    )
    return bool(uow.session.scalar(select(or_(acted, holds))))


def cycle_history(
    uow: UnitOfWork, actor: Actor, cycle_id: int, limit: int = 100, offset: int = 0
) -> tuple[list[AuditEvent], int]:
    get_cycle(uow, cycle_id)
    if not may_read_cycle(uow, actor, cycle_id):
        raise PermissionDenied(f"{actor.name} takes no part in cycle #{cycle_id}")
    query = select(AuditEvent).where(AuditEvent.cycle_id == cycle_id)
    return _page(uow, query, limit, offset)


def _require_auditor(actor: Actor) -> None:
    if not actor.reads_everything:
        raise PermissionDenied("only auditors and admins read the whole audit trail")


def _filtered(filters: EventFilter) -> Select:
    query = select(AuditEvent)
    if filters.cycle_id is not None:
        query = query.where(AuditEvent.cycle_id == filters.cycle_id)
    if filters.unit:
        query = query.where(
            AuditEvent.cycle_id.in_(select(Cycle.id).where(Cycle.unit == filters.unit))
        )
    if filters.actor:
        query = query.where(AuditEvent.actor == filters.actor)
    if filters.type:
        query = query.where(AuditEvent.type == filters.type)
    if filters.since:
        query = query.where(AuditEvent.at >= filters.since)
    if filters.until:
        query = query.where(AuditEvent.at < filters.until)
    return query


def list_events(
    uow: UnitOfWork, actor: Actor, filters: EventFilter, limit: int = 100, offset: int = 0
) -> tuple[list[AuditEvent], int]:
    _require_auditor(actor)
    return _page(uow, _filtered(filters), limit, offset)


def _page(uow: UnitOfWork, query: Select, limit: int, offset: int):
    total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = uow.session.scalars(query.order_by(AuditEvent.seq).limit(limit).offset(offset))
    return list(rows), total


def stream_events(
    uow: UnitOfWork, actor: Actor, filters: EventFilter, by_cycle: bool = False
) -> Iterator[AuditEvent]:
    """Every matching event, fetched in batches on a server-side cursor."""
    _require_auditor(actor)
    order = (AuditEvent.cycle_id, AuditEvent.seq) if by_cycle else (AuditEvent.seq,)
    query = (
        _filtered(filters)
        .order_by(*order)
        .execution_options(stream_results=True, yield_per=STREAM_BATCH)
    )
    result = uow.session.scalars(query)
    try:
        yield from result
    finally:
        # A client that hangs up mid-export leaves the server-side cursor to close here.
        result.close()


def verify(engine: Engine, actor: Actor) -> Verification:
    """Recompute every chain; ``first_break`` names the first event that is not intact."""
    _require_auditor(actor)
    with engine.unit_of_work(write=False) as uow:
        heads = {c.chain: (c.length, c.head_hash) for c in uow.session.scalars(select(AuditChain))}
        # Plain rows, not ORM objects: verification reads every event ever recorded.
        rows = uow.session.execute(
            select(AuditEvent.__table__)
            .order_by(AuditEvent.chain, AuditEvent.position)
            .execution_options(stream_results=True, yield_per=STREAM_BATCH)
        )
        return verify_chains(rows, heads)
