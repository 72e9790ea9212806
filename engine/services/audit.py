"""Reading, verifying and exporting the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from datetime import datetime
from itertools import chain

from sqlalchemy import Select, exists, func, literal, or_, select, tuple_, update
from sqlalchemy.orm import Session

from ..actors import Actor, may_work, require_admin
from ..audit import export
from ..audit.chain import chain_of, cycle_of
from ..audit.heads import RecordedHead, head_seal
from ..audit.seals import TrailSeal, check_against, from_json, seal_heads, to_json
from ..audit.verify import Verification, pinned_trail
from ..config import AUDIT_KEY
from ..db.models import HELD_TASK_COLUMNS, AuditChain, AuditEvent, Cycle, Task
from ..errors import Conflict, Message, NotFound, PermissionDenied, ValidationFailed
from ..read_models import AuditEventView, EventSlice, Page
from ..uow import Engine, UnitOfWork
from ..user_names import normalised
from ..vocabulary import EventType, TaskState
from .cycles import visible
from .evidence import damaged_evidence
from .units import units_at_or_below

STREAM_BATCH = 1000
KEY_SETTING = AUDIT_KEY  # where the key that seals the chains' heads is set
_EVENT_COLUMNS = [getattr(AuditEvent, f.name) for f in fields(AuditEventView)]


def _view(row) -> AuditEventView:
    return AuditEventView(*row)


@dataclass(frozen=True)
class EventFilter:
    cycle_id: int | None = None
    unit: str | None = None
    actor: str | None = None
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def may_read_cycle(uow: UnitOfWork, actor: Actor, cycle_id: int) -> bool:
    """Auditors and admins read every cycle's history; a member, the history of the cycles
    they may see (``visible``) and take part in: they acted in it, hold or were assigned
    one of its tasks, or may take one of its open tasks now (the facilitator of a cycle the
    worker started, before they act). NotFound for a cycle they may not see."""
    if not uow.session.scalar(select(exists().where(Cycle.id == cycle_id, visible(actor)))):
        raise NotFound(f"there is no cycle #{cycle_id}")
    if actor.reads_everything:
        return True
    acted = exists().where(AuditEvent.cycle_id == cycle_id, AuditEvent.actor == actor.name)
    holds = exists().where(
        Task.cycle_id == cycle_id,
        or_(Task.assignee == actor.name, Task.claimed_by == actor.name),
    )
    if uow.session.scalar(select(or_(acted, holds))):
        return True
    open_tasks = uow.session.execute(
        select(*HELD_TASK_COLUMNS).where(Task.cycle_id == cycle_id, Task.state == TaskState.OPEN)
    )
    return any(may_work(actor, task) for task in open_tasks)


def require_part(uow: UnitOfWork, actor: Actor, cycle_id: int) -> None:
    """PermissionDenied unless ``actor`` may read the cycle's history (``may_read_cycle``);
    NotFound for a cycle they may not see."""
    if not may_read_cycle(uow, actor, cycle_id):
        text = f"{actor.name} takes no part in cycle #{cycle_id}"
        raise PermissionDenied(Message(text, "no_part", cycle=cycle_id))


def cycle_history(
    uow: UnitOfWork, actor: Actor, cycle_id: int, limit: int = 100, offset: int = 0
) -> Page[AuditEventView]:
    require_part(uow, actor, cycle_id)
    query = select(*_EVENT_COLUMNS).where(AuditEvent.cycle_id == cycle_id)
    return _page(uow, query, limit, offset)


def require_auditor(actor: Actor) -> None:
    if not actor.reads_everything:
        raise PermissionDenied(
            Message("only auditors and admins read the whole audit trail", "auditors_only")
        )


def _filtered(uow: UnitOfWork, filters: EventFilter) -> Select:
    query = select(*_EVENT_COLUMNS)
    if filters.cycle_id is not None:
        query = query.where(AuditEvent.cycle_id == filters.cycle_id)
    if filters.unit:
        units = units_at_or_below(uow, filters.unit)
        query = query.where(
            AuditEvent.cycle_id.in_(select(Cycle.id).where(Cycle.unit_id.in_(units)))
        )
    if filters.actor:
        # Written as user names are kept: 'Pia' finds pia's events.
        query = query.where(AuditEvent.actor == normalised(filters.actor))
    if filters.type:
        query = query.where(AuditEvent.type == filters.type)
    if filters.since:
        query = query.where(AuditEvent.at >= filters.since)
    if filters.until:
        query = query.where(AuditEvent.at < filters.until)
    return query


def list_events(
    uow: UnitOfWork, actor: Actor, filters: EventFilter, limit: int = 100, offset: int = 0
) -> Page[AuditEventView]:
    require_auditor(actor)
    return _page(uow, _filtered(uow, filters), limit, offset)


def browse_events(
    uow: UnitOfWork,
    actor: Actor,
    filters: EventFilter,
    limit: int = 50,
    before: int | None = None,
    after: int | None = None,
    start: int | None = None,
) -> EventSlice:
    """A page of the matching events, newest first (by the time recorded, then by ``seq``):
    those older than the event ``before``, or from the event ``start`` on, or newer than
    ``after`` (the page before), or else the newest. Read by keyset, one row more than the
    page saying whether there is a page beyond; a page reached from a cursor has one back
    towards it. No total: counting a million matches would cost more than the page.
    NotFound for a cursor that names no event."""
    require_auditor(actor)
    query = _filtered(uow, filters)
    key = tuple_(AuditEvent.at, AuditEvent.seq)
    if after is not None:
        rows = uow.session.execute(
            query.where(key > _cursor(uow, after))
            .order_by(AuditEvent.at, AuditEvent.seq)
            .limit(limit + 1)
        ).all()
        items = [_view(row) for row in reversed(rows[:limit])]
        newer = items[0].seq if len(rows) > limit else None
        return EventSlice(items, items[-1].seq if items else None, newer)
    if before is not None:
        query = query.where(key < _cursor(uow, before))
    elif start is not None:
        query = query.where(key <= _cursor(uow, start))
    newest_first = query.order_by(AuditEvent.at.desc(), AuditEvent.seq.desc())
    rows = uow.session.execute(newest_first.limit(limit + 1)).all()
    items = [_view(row) for row in rows[:limit]]
    older = items[-1].seq if len(rows) > limit else None
    newer = items[0].seq if items and (before or start) is not None else None
    return EventSlice(items, older, newer)


def _cursor(uow: UnitOfWork, seq: int):
    """The (time, seq) key of the event ``seq``, where a page begins or ends."""
    at = uow.session.scalar(select(AuditEvent.at).where(AuditEvent.seq == seq))
    if at is None:
        raise NotFound(f"there is no event {seq}")
    return tuple_(literal(at, AuditEvent.at.type), literal(seq, AuditEvent.seq.type))


@dataclass(frozen=True)
class TrailSize:
    """What verifying the whole trail recomputes, by the recorded chain heads."""

    events: int
    chains: int


def trail_size(uow: UnitOfWork, actor: Actor) -> TrailSize:
    require_auditor(actor)
    lengths = [
        select(func.coalesce(func.sum(Cycle.audit_length), 0), func.count()),
        select(func.coalesce(func.sum(AuditChain.length), 0), func.count()),
    ]
    counted = [uow.session.execute(query).one() for query in lengths]
    return TrailSize(sum(events for events, _ in counted), sum(chains for _, chains in counted))


def _page(uow: UnitOfWork, query: Select, limit: int, offset: int) -> Page[AuditEventView]:
    total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = uow.session.execute(query.order_by(AuditEvent.seq).limit(limit).offset(offset))
    return Page([_view(row) for row in rows], total)


def stream_events(
    uow: UnitOfWork, actor: Actor, filters: EventFilter, by_cycle: bool = False
) -> Iterator[AuditEventView]:
    """Every matching event, fetched in batches on a server-side cursor."""
    require_auditor(actor)
    order = (AuditEvent.cycle_id, AuditEvent.seq) if by_cycle else (AuditEvent.seq,)
    query = (
        _filtered(uow, filters)
        .order_by(*order)
        .execution_options(stream_results=True, yield_per=STREAM_BATCH)
    )
    result = uow.session.execute(query)
    try:
        for row in result:
            yield _view(row)
    finally:
        # A client that hangs up mid-export leaves the server-side cursor to close here.
        result.close()


@dataclass(frozen=True)
class Export:
    """A file of events: its media type, file name extension, and its text in chunks."""

    media_type: str
    extension: str
    chunks: Iterator[str]


# format -> (renderer, media type, file extension)
EXPORT_FORMATS = {
    "csv": (export.to_csv, "text/csv", "csv"),
    "jsonl": (export.to_jsonl, "application/x-ndjson", "jsonl"),
    "xes": (export.to_xes, "application/xml", "xes"),
}


def export_events(uow: UnitOfWork, actor: Actor, filters: EventFilter, format: str) -> Export:
    """Every matching event as CSV, JSON Lines or XES (one trace per cycle), streamed in
    constant memory. The query runs (and permission is checked) before this returns."""
    render, media_type, extension = EXPORT_FORMATS[format]
    events = stream_events(uow, actor, filters, by_cycle=format == "xes")
    first = next(events, None)
    selection = iter(()) if first is None else chain([first], events)

    def chunks() -> Iterator[str]:
        try:
            yield from render(selection)
        finally:
            events.close()

    return Export(media_type, extension, chunks())


def recorded_heads(session: Session) -> dict[str, RecordedHead]:
    """Every chain's recorded head: the global chain's from ``audit_chains``, each cycle's
    from its own row (every cycle's, so a cycle whose chain is gone shows)."""
    heads = {
        chain: RecordedHead(length, head, seal)
        for chain, length, head, seal in session.execute(
            select(AuditChain.chain, AuditChain.length, AuditChain.head_hash, AuditChain.seal)
        )
    }
    cycles = select(Cycle.id, Cycle.audit_length, Cycle.audit_head, Cycle.audit_seal)
    for cycle_id, length, head, seal in session.execute(cycles):
        heads[chain_of(cycle_id)] = RecordedHead(length, head, seal)
    return heads


def verify(
    engine: Engine, actor: Actor, workers: int | None = None, against: TrailSeal | None = None
) -> Verification:
    """Recompute every chain; ``first_break`` names the first event that is not intact. A
    large trail is split across ``workers`` processes (default: one per CPU; one for a
    small trail). With the audit key, every head's seal is checked; ``against``, a seal
    document, shows what was deleted or rewritten since it was made."""
    with engine.unit_of_work(write=False) as uow:
        return verify_trail(uow, actor, workers, against)


def verify_trail(
    uow: UnitOfWork,
    actor: Actor,
    workers: int | None = None,
    against: TrailSeal | None = None,
) -> Verification:
    """``verify`` in a unit of work the caller has opened (the CLI's, where ``--as`` was
    looked up). Every evidence file the trail recorded is hashed again too."""
    require_auditor(actor)
    key = uow.engine.audit_key
    # The heads and the events are read in one transaction of the verifier's own, whose
    # view of the trail its worker processes share.
    with pinned_trail(uow.engine.database, uow.engine.url) as trail:
        heads = recorded_heads(trail.session)
        result = trail.verify(heads, workers, key)
        since = check_against(trail.session, against, heads, key) if against else []
    return replace(result, breaks=result.breaks + since, damaged_evidence=damaged_evidence(uow))


def seal_document(sealed: TrailSeal) -> str:
    """The seal as the JSON document auditors keep."""
    return to_json(sealed)


def read_seal_document(text: str) -> TrailSeal:
    """A seal document read back; ValidationFailed says what is wrong with it."""
    return from_json(text)


def seal_trail(
    engine: Engine, actor: Actor, adopt_unsealed: bool = False, workers: int | None = None
) -> TrailSeal:
    """The chains' heads, verified, as a seal document for auditors to keep. Refused when
    the trail is not intact. ``adopt_unsealed`` (admins, with the audit key) first seals
    the heads written before the key was set, once they verify."""
    require_auditor(actor)
    key = engine.audit_key
    if adopt_unsealed:
        require_admin(actor, "seal chain heads written before the audit key was set")
        if key is None:
            raise ValidationFailed(
                f"there is no audit key to seal heads with: set {AUDIT_KEY}",
                {"adopt_unsealed": [f"needs {AUDIT_KEY} (or {AUDIT_KEY}_FILE)"]},
            )
    with pinned_trail(engine.database, engine.url) as trail:
        heads = recorded_heads(trail.session)
        result = trail.verify(heads, workers, key)
    if result.breaks:
        raise Conflict(
            f"the audit trail is not intact, so it was not sealed: "
            f"{result.first_break.reason} ({len(result.breaks)} breaks; see `audit verify`)"
        )
    if result.unsealed_heads and not adopt_unsealed:
        raise Conflict(
            f"{len(result.unsealed_heads)} chain heads (the first: {result.unsealed_heads[0]}) "
            "carry no seal of the audit key, so the trail was not sealed; after setting the "
            "key, an admin seals them once with `picycle audit seal --adopt-unsealed`"
        )
    if result.unsealed_heads:
        _adopt(engine, actor, {chain: heads[chain] for chain in result.unsealed_heads})
    return seal_heads(heads, key, engine.clock())


def _adopt(engine: Engine, actor: Actor, unsealed: dict[str, RecordedHead]) -> None:
    """Seal the verified ``unsealed`` heads where they have not moved since."""
    key = engine.audit_key
    assert key is not None, "adopting heads needs the key"
    with engine.unit_of_work() as uow:
        for chain, head in unsealed.items():
            seal = head_seal(key, chain, head.length, head.hash)
            cycle_id = cycle_of(chain)
            if cycle_id is None:
                statement = update(AuditChain).where(
                    AuditChain.chain == chain,
                    AuditChain.length == head.length,
                    AuditChain.head_hash == head.hash,
                    AuditChain.seal.is_(None),
                )
                uow.session.execute(statement.values(seal=seal))
            else:
                statement = update(Cycle).where(
                    Cycle.id == cycle_id,
                    Cycle.audit_length == head.length,
                    Cycle.audit_head == head.hash,
                    Cycle.audit_seal.is_(None),
                )
                uow.session.execute(statement.values(audit_seal=seal))
        uow.record(actor.name, EventType.AUDIT_HEADS_ADOPTED, chains=sorted(unsealed))
        uow.commit()
