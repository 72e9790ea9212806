"""Hash chains over audit events: one chain per cycle, one for everything else.

Each event's hash is SHA-256 over the canonical JSON of the event and the previous hash of
its chain. A chain per cycle means appending only touches that cycle's chain head, which
its transaction has locked through the cycle row anyway: unrelated cycles never wait on
each other. The chain heads table records each chain's length and last hash, so deleting
events (the tail of a chain, or a whole cycle's chain) is detected too.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import AuditChain, AuditEvent

GENESIS = "0" * 64
GLOBAL_CHAIN = "global"


def chain_of(cycle_id: int | None) -> str:
    return GLOBAL_CHAIN if cycle_id is None else f"cycle:{cycle_id}"


def canonical(event: AuditEvent) -> bytes:
    """The event's recorded facts, in one byte-exact form (sorted keys, no spaces)."""
    facts: dict[str, Any] = {
        "chain": event.chain,
        "position": event.position,
        "at": event.at.isoformat(timespec="microseconds"),
        "actor": event.actor,
        "type": event.type,
        "cycle_id": event.cycle_id,
        "task_id": event.task_id,
        "element_id": event.element_id,
        "data": event.data,
    }
    return json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def seal(previous_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256(previous_hash.encode() + canonical(event)).hexdigest()


class ChainWriter:
    """Links the events one transaction appends to the heads of their chains."""

    def __init__(self, session: Session):
        self._session = session
        self._heads: dict[str, AuditChain] = {}

    def append(self, event: AuditEvent) -> None:
        head = self._head(event.chain)
        event.position = head.length + 1
        event.prev_hash = head.head_hash
        event.hash = seal(head.head_hash, event)
        head.length = event.position
        head.head_hash = event.hash
        self._session.add(event)

    def _head(self, chain: str) -> AuditChain:
        head = self._heads.get(chain)
        if head is None:
            head = self._session.scalar(
                select(AuditChain).where(AuditChain.chain == chain).with_for_update()
            )
            if head is None:
                head = AuditChain(chain=chain, length=0, head_hash=GENESIS)
                self._session.add(head)
            self._heads[chain] = head
        return head
