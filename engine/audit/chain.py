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

from ..db.models import GENESIS, AuditChain, AuditEvent

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


# ``canonical`` written from the facts' values, for verifying millions of events: json.dumps
# sets up an encoder and sorts the keys for every call, which costs more than the hash. The
# template is the facts' dict with its keys in sorted order; each value is written the way
# json.dumps writes it with canonical's options.
_FACTS = (
    '{"actor":%s,"at":%s,"chain":%s,"cycle_id":%s,"data":%s,'
    '"element_id":%s,"position":%s,"task_id":%s,"type":%s}'
)
_STRING = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes a str with
# json.dumps makes a C encoder for each call; this one is made once, with canonical's options
# but without the check for circular references, whose state would carry over from call to
# call (a circular value still fails, at the recursion limit).
_ENCODE = json.encoder.c_make_encoder(
    None,  # markers: no check for circular references
    json.JSONEncoder().default,  # for a value JSON cannot hold: TypeError
    _STRING,
    None,  # indent
    ":",
    ",",
    True,  # sort_keys
    False,  # skipkeys
    True,  # allow_nan
)


def _json(value: Any) -> str:
    return "".join(_ENCODE(value, 0))


def canonical_facts(
    chain: str,
    position: int,
    at: str,
    actor: str,
    type: str,
    cycle_id: int | None,
    task_id: str | None,
    element_id: str | None,
    data: Any,
) -> str:
    """``canonical`` of an event with these facts, as text; ``at`` is the time as canonical
    writes it, ``isoformat(timespec="microseconds")``."""
    try:
        values = (
            _STRING(actor),
            _STRING(at),
            _STRING(chain),
            "null" if cycle_id is None else _integer(cycle_id),
            _json(data),
            "null" if element_id is None else _STRING(element_id),
            _integer(position),
            "null" if task_id is None else _STRING(task_id),
            _STRING(type),
        )
    except TypeError:  # a value not of its column's type (SQLite keeps whatever it is given)
        facts = (actor, at, chain, cycle_id, data, element_id, position, task_id, type)
        values = tuple(map(_json, facts))
    return _FACTS % values


def seal_facts(
    previous_hash: str,
    chain: str,
    position: int,
    at: str,
    actor: str,
    type: str,
    cycle_id: int | None,
    task_id: str | None,
    element_id: str | None,
    data: Any,
) -> str:
    """``seal`` of an event with these facts (as ``canonical_facts`` takes them)."""
    facts = canonical_facts(chain, position, at, actor, type, cycle_id, task_id, element_id, data)
    return hashlib.sha256((previous_hash + facts).encode()).hexdigest()


def _integer(number: int) -> str:
    # An int's JSON is its repr; anything else (a bool, say) takes the encoder's way.
    return int.__repr__(number) if number.__class__ is int else _json(number)


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
