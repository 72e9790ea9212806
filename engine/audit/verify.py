"""Verifying the audit trail: recompute every hash chain and compare it with the recorded
chain heads. An edited event, a deleted one or a whole deleted chain is a break, as is a
cycle without a chain. With the audit key, each head must carry its seal (heads.py), so a
chain rewritten and rehashed by someone without the key is a break too.

Recomputing is CPU-bound Python (canonical JSON and SHA-256, event by event), so a large
trail is split into ranges of whole chains, which worker processes walk over connections of
their own; every process sees the trail as the transaction that read the heads saw it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    String,
    Text,
    cast,
    func,
    select,
    text,
    type_coerce,
)
from sqlalchemy.orm import Session

from ..db.database import open_database
from ..db.models import AuditEvent
from ..read_models import EvidenceDamage
from .chain import GENESIS, GLOBAL_CHAIN, HASH_VERSION, seal_facts
from .heads import RecordedHead, sealed_by

EVENTS = AuditEvent.__table__
FETCH_BATCH = 2000
# Workers cost about 0.2 s to start, and 1.5 s more when the first verification of a
# process starts their fork server; with fewer events each, one process is as fast.
EVENTS_PER_WORKER = 100_000
# Each worker takes the next range as it finishes one, so all stay busy to the end even
# when one of them is slower (its CPU shared with something else).
RANGES_PER_WORKER = 4


@dataclass(frozen=True)
class Break:
    """Where the record stops being trustworthy."""

    chain: str
    seq: int | None
    reason: str


@dataclass(frozen=True)
class Verification:
    events_checked: int
    chains_checked: int
    breaks: list[Break]
    # Whether the heads' seals were checked: False when no audit key is configured, and
    # then a chain rewritten with every hash recomputed cannot be told from the original.
    heads_key_sealed: bool = False
    # Chains whose head carries no seal although a key is configured: written before the
    # key was set (``audit seal --adopt-unsealed`` seals them), or their seal was removed.
    unsealed_heads: list[str] = field(default_factory=list)
    # Evidence files the trail recorded that are missing or changed in the store.
    damaged_evidence: list[EvidenceDamage] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.breaks and not self.unsealed_heads and not self.damaged_evidence

    @property
    def first_break(self) -> Break | None:
        """The earliest broken event by sequence number (deletions, which have no event to
        name, come after)."""
        return min(self.breaks, key=lambda b: (b.seq is None, b.seq or 0), default=None)


class ChainWalk(NamedTuple):
    """A chain recomputed from its first event: how many events were checked, the hash it
    ended on, and the break that stopped it, if any."""

    chain: str
    length: int
    head_hash: str
    broken: Break | None


def verify_chains(
    walks: Iterable[ChainWalk], heads: dict[str, RecordedHead], key: bytes | None = None
) -> Verification:
    """Compare the walked chains, in the order they were read, with the recorded heads;
    with ``key``, check each head's seal too."""
    breaks: list[Break] = []
    unsealed: list[str] = []
    checked = 0
    seen_chains: set[str] = set()
    for chain, length, head_hash, broken in walks:
        seen_chains.add(chain)
        checked += length
        if broken:
            breaks.append(broken)
            continue
        recorded = heads.get(chain)
        if recorded is None:
            breaks.append(Break(chain, None, f"chain {chain} has no recorded head"))
        elif recorded[:2] != (length, head_hash):
            breaks.append(
                Break(
                    chain,
                    None,
                    f"chain {chain} should hold {recorded.length} events, "
                    f"found {length}: events were deleted",
                )
            )
        elif key is not None and recorded.seal is None:
            unsealed.append(chain)
        elif key is not None and not sealed_by(key, chain, recorded):
            reason = (
                f"the head of chain {chain} does not carry the audit key's seal: the chain "
                "was rewritten and its hashes recomputed, or its head set by hand"
            )
            breaks.append(Break(chain, None, reason))
    for chain in sorted(set(heads) - seen_chains):
        length = heads[chain].length
        if length:
            breaks.append(Break(chain, None, f"all {length} events of chain {chain} were deleted"))
        elif chain != GLOBAL_CHAIN:  # a cycle records its start in the transaction that adds it
            reason = f"chain {chain} records no events: its cycle's events were deleted"
            breaks.append(Break(chain, None, reason))
    if GLOBAL_CHAIN not in heads:
        reason = "the global chain has no recorded head: audit_chains was emptied"
        breaks.append(Break(GLOBAL_CHAIN, None, reason))
    return Verification(
        checked, len(seen_chains | set(heads)), breaks, key is not None, sorted(unsealed)
    )


def walk_chains(
    rows: Iterable[tuple], iso_time: Callable[[str], str] | None
) -> Iterator[ChainWalk]:
    """Recompute the chains of ``rows`` (seq, chain, position, time, actor, type, cycle_id,
    task_id, element_id, data as JSON text, prev_hash, hash, hash_version), ordered by chain
    and position.
    ``iso_time`` turns the time into canonical's text (None: it is that already). A chain's
    walk stops at its first break: the events after it are not checked."""
    chain = None
    length, previous, broken = 0, GENESIS, None
    for (
        seq,
        event_chain,
        position,
        at,
        actor,
        event_type,
        cycle_id,
        task_id,
        element_id,
        data,
        prev_hash,
        stored_hash,
        version,
    ) in rows:
        if event_chain != chain:
            if chain is not None:
                yield ChainWalk(chain, length, previous, broken)
            chain, length, previous, broken = event_chain, 0, GENESIS, None
        elif broken:
            continue
        length += 1
        if position != length:
            reason = (
                f"event {seq} is at position {position} of {chain}, expected {length}: "
                "events were deleted"
            )
            broken = Break(chain, seq, reason)
            continue
        if iso_time is not None:
            at = iso_time(at)
        if version in (1, HASH_VERSION):
            expected = seal_facts(
                previous,
                chain,
                position,
                at,
                actor,
                event_type,
                cycle_id,
                task_id,
                element_id,
                _parse_json(data),
                seq=seq if version == HASH_VERSION else None,
            )
        else:
            expected = None  # no such form: the version itself was altered
        if prev_hash != previous or stored_hash != expected:
            reason = f"event {seq} ({event_type}) was altered after it was recorded"
            broken = Break(chain, seq, reason)
            continue
        previous = stored_hash
    if chain is not None:
        yield ChainWalk(chain, length, previous, broken)


_decode_json = json.JSONDecoder().raw_decode


def _parse_json(text: str) -> Any:
    """``json.loads(text)``, minus its checks for white space, which stored JSON lacks."""
    try:
        value, end = _decode_json(text)
        if end == len(text):
            return value
    except json.JSONDecodeError:
        pass
    return json.loads(text)  # white space around the value, or not JSON: as json.loads does


# --- reading the trail, in this process or in worker processes ---------------------------------


@dataclass(frozen=True)
class TrailView:
    """What a worker process needs to see the trail exactly as the verifying transaction
    does. PostgreSQL transactions can share a snapshot. SQLite's cannot, but its one writer
    at a time appends events in ``seq`` order: the events up to the last one the transaction
    saw are the ones it sees."""

    url: str
    postgres_snapshot: str | None
    sqlite_last_seq: int | None


class AuditTrail:
    """The audit trail as one read transaction sees it; ``session`` reads in that
    transaction what the events are checked against (the chain heads)."""

    def __init__(self, connection: Connection, view: TrailView):
        self.connection = connection
        self.session = Session(connection)
        self.view = view

    def verify(
        self,
        heads: dict[str, RecordedHead],
        workers: int | None = None,
        key: bytes | None = None,
    ) -> Verification:
        """Walk every chain, in ``workers`` processes (see ``worker_count``), and compare
        the walks with the recorded ``heads`` (and, with ``key``, their seals)."""
        events = sum(head.length for head in heads.values())
        count = worker_count(events, workers)
        if count == 1:
            walks = _walk(self.connection, None, None, self.view.sqlite_last_seq)
        else:
            ranges = chain_ranges(self.connection, events, count * RANGES_PER_WORKER)
            walks = self._walk_in_workers(count, ranges)
        return verify_chains(walks, heads, key)

    def _walk_in_workers(
        self, count: int, ranges: list[tuple[str | None, str | None]]
    ) -> list[ChainWalk]:
        # Not forked from this process, which may run threads (a web server): from a fork
        # server, which imports this module once, so workers start in milliseconds after
        # the first verification instead of each importing picycle anew.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["__main__", __name__])
        with ProcessPoolExecutor(min(count, len(ranges)), mp_context=context) as pool:
            parts = pool.map(_walk_in_worker, repeat(self.view), *zip(*ranges, strict=True))
            return [walk for part in parts for walk in part]


@contextmanager
def pinned_trail(database: Engine, url: str) -> Iterator[AuditTrail]:
    """The trail as a read transaction begun now sees it, for this process and for workers,
    which open their own connections to ``url`` (the one ``database`` was opened with)."""
    with database.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
            view = TrailView(url, snapshot, None)
        else:
            view = TrailView(url, None, connection.scalar(select(func.max(EVENTS.c.seq))))
        trail = AuditTrail(connection, view)
        try:
            yield trail
        finally:
            trail.session.close()


def worker_count(events: int, workers: int | None = None) -> int:
    """``workers`` if given; else one per CPU, each with EVENTS_PER_WORKER events or more."""
    if workers is not None:
        return max(workers, 1)
    return max(1, min(os.cpu_count() or 1, events // EVENTS_PER_WORKER))


def chain_ranges(
    connection: Connection, events: int, parts: int
) -> list[tuple[str | None, str | None]]:
    """Up to ``parts`` ranges of chain names, each from its low name (inclusive) to the
    next range's (exclusive; None: open), covering every chain. A range ends about
    ``events / parts`` events past its first chain, counted in the database's own (chain,
    position) order: the order it compares the names in, too."""
    step = events // parts
    query = select(EVENTS.c.chain).order_by(EVENTS.c.chain, EVENTS.c.position)
    bounds: list[str | None] = [None]
    while len(bounds) < parts:
        rest = query if bounds[-1] is None else query.where(EVENTS.c.chain > bounds[-1])
        start = connection.scalar(rest.offset(step).limit(1))
        if start is None:
            break
        bounds.append(start)
    return list(zip(bounds, [*bounds[1:], None], strict=True))


def _walk_in_worker(view: TrailView, low: str | None, high: str | None) -> list[ChainWalk]:
    """In a worker process: the walks of the chains from ``low`` to ``high``."""
    database = open_database(view.url)
    try:
        with database.connect() as connection:
            if view.postgres_snapshot is not None:
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
                connection.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{view.postgres_snapshot}'")
            return _walk(connection, low, high, view.sqlite_last_seq)
    finally:
        database.dispose()


def _walk(
    connection: Connection, low: str | None, high: str | None, last_seq: int | None
) -> list[ChainWalk]:
    """The walks of the chains from ``low`` to ``high``, read as plain text and numbers."""
    at, data, iso_time = _time_and_data(connection)
    columns = EVENTS.c
    query = select(
        columns.seq,
        columns.chain,
        columns.position,
        at,
        columns.actor,
        columns.type,
        columns.cycle_id,
        columns.task_id,
        columns.element_id,
        data,
        columns.prev_hash,
        columns.hash,
        columns.hash_version,
    ).order_by(columns.chain, columns.position)
    if low is not None:
        query = query.where(columns.chain >= low)
    if high is not None:
        query = query.where(columns.chain < high)
    if last_seq is not None:
        query = query.where(columns.seq <= last_seq)
    streamed = connection.execution_options(stream_results=True, yield_per=FETCH_BATCH)
    return list(walk_chains(streamed.execute(query), iso_time))


# PostgreSQL writes the time as canonical does, so the client need not convert it at all.
_POSTGRES_ISO_TIME = 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'
# SQLAlchemy stores a time in SQLite as UTC text, e.g. "2026-03-02 09:00:00.000000": the ISO
# text but for the "T" and the offset. Rewriting it spares the two datetime conversions that
# reading and isoformat() cost, the dearest part of an event's check after the JSON.
_SQLITE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}")


def _time_and_data(
    connection: Connection,
) -> tuple[ColumnElement[str], ColumnElement[str], Callable[[str], str] | None]:
    """The time and data columns to select (without SQLAlchemy's conversions), and how to
    make the time canonical's text (None: it is already)."""
    if connection.dialect.name == "postgresql":
        at = func.to_char(func.timezone("UTC", EVENTS.c.at), _POSTGRES_ISO_TIME)
        return at, cast(EVENTS.c.data, Text), None
    dialect = connection.dialect
    read_time = EVENTS.c.at.type.dialect_impl(dialect).result_processor(dialect, None)

    def iso_time(stored: str) -> str:
        if _SQLITE_TIME.fullmatch(stored):
            datetime.fromisoformat(stored)  # a date that does not exist fails as reading it does
            return f"{stored[:10]}T{stored[11:]}+00:00"
        return read_time(stored).isoformat(timespec="microseconds")

    return type_coerce(EVENTS.c.at, String), type_coerce(EVENTS.c.data, Text), iso_time
