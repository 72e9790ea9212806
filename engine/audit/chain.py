"""Hash chains over audit events: one chain per cycle, one for everything else.

Each event's hash is SHA-256 over the previous hash of its chain and the canonical JSON of
the event. The event's ``hash_version`` says which facts that JSON holds: version 1 (the
trail's first events) every fact but the sequence number; version 2, with which every new
event is sealed, every column of the row (``seq`` and ``hash_version`` too). A chain per
cycle means appending only moves that cycle's chain head, which is kept on the cycle's own
row, locked by every change of the cycle anyway: unrelated cycles never wait on each
other. Each head records its chain's length and last hash (the global chain's in
``audit_chains``), so deleting events (the tail of a chain, or a whole cycle's chain) is
detected too; heads.py seals the heads with a key. These functions are the trail's stored
contract: every chain ever written must still verify, so the bytes hashed never change.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..db.models import AuditEvent

GENESIS = "0" * 64  # the hash every chain starts from
GLOBAL_CHAIN = "global"
HASH_VERSION = 2  # the form new events are sealed with


def chain_of(cycle_id: int | None) -> str:
    return GLOBAL_CHAIN if cycle_id is None else f"cycle:{cycle_id}"


def cycle_of(chain: str) -> int | None:
    """The cycle whose chain this is; None for the global chain."""
    return None if chain == GLOBAL_CHAIN else int(chain.removeprefix("cycle:"))


def seal(previous_hash: str, event: AuditEvent) -> str:
    """Version 1: SHA-256 over the previous hash and the event's facts in their canonical
    form: the JSON that ``json.dumps(facts, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`` writes of the dict of chain, position, at
    (``isoformat(timespec="microseconds")``), actor, type, cycle_id, task_id, element_id and
    data."""
    return seal_facts(previous_hash, *_facts(event))


def seal_v2(previous_hash: str, event: AuditEvent) -> str:
    """Version 2: as ``seal``, with ``seq`` and ``hash_version`` (2) in the dict."""
    return seal_facts(previous_hash, *_facts(event), seq=event.seq)


def _facts(event: AuditEvent) -> tuple:
    """The facts in ``canonical_facts``' order."""
    return (
        event.chain,
        event.position,
        event.at.isoformat(timespec="microseconds"),
        event.actor,
        event.type,
        event.cycle_id,
        event.task_id,
        event.element_id,
        event.data,
    )


# The canonical form written from the facts' values, fast enough to verify millions of
# events (json.dumps sets up an encoder and sorts the keys for every call, which costs more
# than the hash). The template is the facts' dict with its keys in sorted order; each value
# is written the way json.dumps writes it with the options ``canonical`` names.
_FACTS = (
    '{"actor":%s,"at":%s,"chain":%s,"cycle_id":%s,"data":%s,'
    '"element_id":%s,"position":%s,"task_id":%s,"type":%s}'
)
# Version 2 adds "hash_version" and "seq"; the latter follows "position", so it is written
# into position's place (see ``canonical_facts``).
_FACTS_V2 = (
    '{"actor":%s,"at":%s,"chain":%s,"cycle_id":%s,"data":%s,'
    '"element_id":%s,"hash_version":2,"position":%s,"task_id":%s,"type":%s}'
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
    seq: int | None = None,
) -> str:
    """The canonical form (see ``seal``) of an event with these facts, as text; ``at`` is the
    time as ``isoformat(timespec="microseconds")`` writes it. With a ``seq``, version 2's
    form (see ``seal_v2``)."""
    try:
        # Each fact's JSON, in the order of the template's keys; a ``seq`` follows position.
        place = _integer(position)
        if seq is not None:
            place = f'{place},"seq":{_integer(seq)}'
        values = (
            _STRING(actor),
            _STRING(at),
            _STRING(chain),
            "null" if cycle_id is None else _integer(cycle_id),
            _json(data),
            "null" if element_id is None else _STRING(element_id),
            place,
            "null" if task_id is None else _STRING(task_id),
            _STRING(type),
        )
    except TypeError:  # a value not of its column's type (SQLite keeps whatever it is given)
        place = _json(position) if seq is None else f'{_json(position)},"seq":{_json(seq)}'
        facts = (actor, at, chain, cycle_id, data, element_id, task_id, type)
        actor, at, chain, cycle_id, data, element_id, task_id, type = map(_json, facts)
        values = (actor, at, chain, cycle_id, data, element_id, place, task_id, type)
    return (_FACTS if seq is None else _FACTS_V2) % values


def seal_facts(previous_hash: str, *facts: Any, seq: int | None = None) -> str:
    """``seal`` of an event with these facts (as ``canonical_facts`` takes them); with a
    ``seq``, ``seal_v2``."""
    canonical = canonical_facts(*facts, seq=seq)
    return hashlib.sha256((previous_hash + canonical).encode()).hexdigest()


def _integer(number: int) -> str:
    # An int's JSON is its repr; anything else (a bool, say) takes the encoder's way.
    return int.__repr__(number) if number.__class__ is int else _json(number)
