"""Seal documents: the chains' heads at a moment, for auditors to keep outside the database.

A trail that verifies against a seal still holds every event it held then, unchanged: each
sealed chain reaches at least its sealed length and its event there has the sealed hash
(the chain's hashes link every earlier event to it). A trail emptied, cut back or rewritten
since, even with every hash and head recomputed and the database's guards dropped, fails.
With the audit key, each entry carries its head's seal, so the document's own entries
cannot be altered unnoticed either.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from ..db.models import AuditEvent
from ..errors import ValidationFailed
from .heads import RecordedHead, seal_of, sealed_by
from .verify import Break

FORMAT = "picycle-audit-seal/1"
LOOKUP_BATCH = 500


@dataclass(frozen=True)
class SealedHead:
    chain: str
    length: int
    head_hash: str
    seal: str | None  # HMAC with the audit key; None when sealed without one


@dataclass(frozen=True)
class TrailSeal:
    sealed_at: datetime
    key_sealed: bool  # whether the heads carry seals with the audit key
    heads: list[SealedHead]


def seal_heads(heads: dict[str, RecordedHead], key: bytes | None, now: datetime) -> TrailSeal:
    return TrailSeal(
        now,
        key is not None,
        [
            SealedHead(chain, head.length, head.hash, seal_of(key, chain, head.length, head.hash))
            for chain, head in sorted(heads.items())
        ],
    )


def to_json(trail_seal: TrailSeal) -> str:
    return json.dumps(
        {
            "format": FORMAT,
            "sealed_at": trail_seal.sealed_at.isoformat(),
            "key_sealed": trail_seal.key_sealed,
            "chains": [vars(head) for head in trail_seal.heads],
        },
        indent=1,
    )


def from_json(text: str) -> TrailSeal:
    """A seal document read back; ValidationFailed names what is wrong with it."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise _invalid("document", f"is not JSON: {error}") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _invalid("format", f'must be "{FORMAT}": not a picycle seal document')
    try:
        sealed_at = datetime.fromisoformat(document.get("sealed_at"))
    except (TypeError, ValueError) as error:
        raise _invalid("sealed_at", "must be an ISO 8601 time") from error
    key_sealed = document.get("key_sealed")
    if not isinstance(key_sealed, bool):
        raise _invalid("key_sealed", "must be true or false")
    chains = document.get("chains")
    if not isinstance(chains, list):
        raise _invalid("chains", "must be a list of chain heads")
    heads = [_sealed_head(n, entry) for n, entry in enumerate(chains)]
    return TrailSeal(sealed_at, key_sealed, heads)


def _sealed_head(index: int, entry: Any) -> SealedHead:
    if not isinstance(entry, dict):
        raise _invalid(f"chains.{index}", "must be an object")
    expected = {"chain": str, "length": int, "head_hash": str, "seal": (str, type(None))}
    for name, kind in expected.items():
        value = entry.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise _invalid(f"chains.{index}.{name}", f"is missing or of the wrong type: {value!r}")
    return SealedHead(entry["chain"], entry["length"], entry["head_hash"], entry["seal"])


def _invalid(field: str, problem: str) -> ValidationFailed:
    return ValidationFailed(
        f"this is not a seal document `picycle audit seal` wrote: {field} {problem}",
        {field: [problem]},
    )


def check_against(
    session: Session, trail_seal: TrailSeal, heads: dict[str, RecordedHead], key: bytes | None
) -> list[Break]:
    """What in the trail (its ``heads``, read in ``session``) differs from ``trail_seal``."""
    when = trail_seal.sealed_at.isoformat()
    breaks: list[Break] = []
    checkpoints: dict[tuple[str, int], str] = {}
    for sealed in trail_seal.heads:
        chain, length = sealed.chain, sealed.length
        if key is not None and sealed.seal is not None:
            as_recorded = RecordedHead(length, sealed.head_hash, sealed.seal)
            if not sealed_by(key, chain, as_recorded):
                reason = (
                    f"the seal document's entry for chain {chain} does not carry the audit "
                    "key's seal: the document was altered, or sealed with another key"
                )
                breaks.append(Break(chain, None, reason))
                continue
        now = heads.get(chain)
        if now is None or now.length < length:
            found = "no head" if now is None else f"{now.length} events"
            reason = (
                f"chain {chain} held {length} events when sealed at {when}, now {found}: "
                "events were deleted"
            )
            breaks.append(Break(chain, None, reason))
        elif length:
            checkpoints[(chain, length)] = sealed.head_hash
    found = dict(_hashes_at(session, list(checkpoints)))
    for (chain, length), sealed_hash in checkpoints.items():
        seq, stored = found.get((chain, length), (None, None))
        if stored != sealed_hash:
            reason = (
                f"event {length} of chain {chain} is not the one sealed at {when}: "
                "the chain was rewritten"
            )
            breaks.append(Break(chain, seq, reason))
    return breaks


def _hashes_at(
    session: Session, places: list[tuple[str, int]]
) -> Iterator[tuple[tuple[str, int], tuple[int, str]]]:
    """(chain, position) -> (seq, hash) of the events at these places."""
    columns = AuditEvent.__table__.c
    place = tuple_(columns.chain, columns.position)
    batches = iter(places)
    while batch := list(islice(batches, LOOKUP_BATCH)):
        query = select(columns.chain, columns.position, columns.seq, columns.hash)
        for chain, position, seq, stored in session.execute(query.where(place.in_(batch))):
            yield (chain, position), (seq, stored)
