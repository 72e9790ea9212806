"""Chaining a transaction's new events onto their chains, all at once at commit.

The unit of work hands over each chain's head (a cycle's from its locked row, the global
one from ``audit_chains``) with the events in the order they were recorded; the linked rows
go into the database in one INSERT.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .chain import seal


@dataclass(frozen=True)
class ChainHead:
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
    position: int = 0
    prev_hash: str = ""
    hash: str = ""


def link(head: ChainHead, events: Iterable[EventRow]) -> ChainHead:
    """Give each event its position and hashes after ``head``; returns the new head."""
    length, previous = head.length, head.hash
    for event in events:
        length += 1
        event.position = length
        event.prev_hash = previous
        event.hash = previous = seal(previous, event)
    return ChainHead(length, previous)
