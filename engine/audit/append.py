"""Chaining a transaction's new events onto their chains, all at once at commit.

The unit of work numbers the events (``seq`` is sealed with them, so it is known before
they are inserted) and hands over each chain's head (a cycle's from its locked row, the
global one from ``audit_chains``) with the events in the order they were recorded; the
linked rows go into the database in one INSERT, before the heads move onto them (the
database lets a head move only onto its chain's last event).

The numbers come with the statements that lock a chain's head anyway (``next_seq``), so
numbering costs no round trip of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from .chain import HASH_VERSION, seal_v2


class ChainHead(NamedTuple):
    length: int
    hash: str


@dataclass
class EventRow:
    """An audit event as stored: its facts, its place in the chain and the hashes."""

    chain: str
    at: datetime
    actor: str
    type: str
    cycle_id: int | None
    task_id: str | None
    element_id: str | None
    data: dict[str, Any]
    seq: int = 0
    position: int = 0
    prev_hash: str = ""
    hash: str = ""
    hash_version: int = HASH_VERSION


def link(head: ChainHead, events: Iterable[EventRow]) -> ChainHead:
    """Give each event its position and hashes after ``head``; returns the new head."""
    length, previous = head.length, head.hash
    for event in events:
        length += 1
        event.position = length
        event.prev_hash = previous
        event.hash = previous = seal_v2(previous, event)
    return ChainHead(length, previous)


# PostgreSQL's sequence for ``seq`` counts in steps of this (migration 0010): each number
# drawn from it is the first of a block of numbers this transaction alone uses.
SEQ_BLOCK = 8


class next_seq(FunctionElement):
    """In a statement: the first sequence number this transaction may give its events.
    PostgreSQL: a block of SEQ_BLOCK drawn from ``seq``'s sequence (a drawn number that
    goes unused is a gap, as a rolled-back insert leaves one); SQLite: the one after the
    last, the first of as many as needed, since its one writer at a time appends."""

    type = Integer()
    inherit_cache = True


@compiles(next_seq, "postgresql")
def _next_seq_postgresql(element, compiler, **kw) -> str:
    return "nextval(pg_get_serial_sequence('audit_events', 'seq'))"


@compiles(next_seq, "sqlite")
def _next_seq_sqlite(element, compiler, **kw) -> str:
    return "(SELECT coalesce(max(seq), 0) + 1 FROM audit_events)"


_DRAW = select(next_seq())
_DRAW_BLOCKS = _DRAW.select_from(func.generate_series(1, bindparam("blocks")))  # PostgreSQL


def number(session: Session, events: list[EventRow], drawn: list[int]) -> None:
    """Give each event, in the given order, a sequence number from the ``drawn`` starts
    (what ``next_seq`` gave this transaction's statements), drawing more when needed."""
    if session.get_bind().dialect.name == "sqlite":
        start = max(drawn) if drawn else session.scalar(_DRAW)
        seqs: list[int] | range = range(start, start + len(events))
    else:
        starts = sorted(drawn)
        missing = -(-len(events) // SEQ_BLOCK) - len(starts)
        if missing > 0:
            starts += session.scalars(_DRAW_BLOCKS, {"blocks": missing})
        seqs = [seq for start in sorted(starts) for seq in range(start, start + SEQ_BLOCK)]
    for event, seq in zip(events, seqs, strict=False):
        event.seq = seq
