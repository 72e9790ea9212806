"""Verifying the audit trail: recompute every hash chain and compare it with the recorded
chain heads. An edited event, a deleted one or a whole deleted chain is a break."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby

from ..db.models import AuditEvent
from .chain import GENESIS, seal


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

    @property
    def intact(self) -> bool:
        return not self.breaks

    @property
    def first_break(self) -> Break | None:
        """The earliest broken event by sequence number (deletions, which have no event to
        name, come after)."""
        return min(self.breaks, key=lambda b: (b.seq is None, b.seq or 0), default=None)


def verify_chains(events: Iterable[AuditEvent], heads: dict[str, tuple[int, str]]) -> Verification:
    """Check events given ordered by (chain, position) against the recorded chain heads."""
    breaks: list[Break] = []
    checked = 0
    seen_chains: set[str] = set()
    for chain, chain_events in _by_chain(events):
        seen_chains.add(chain)
        length, head_hash, broken = _verify_one(chain, chain_events)
        checked += length
        if broken:
            breaks.append(broken)
            continue
        recorded = heads.get(chain)
        if recorded is None:
            breaks.append(Break(chain, None, f"chain {chain} has no recorded head"))
        elif recorded != (length, head_hash):
            breaks.append(
                Break(
                    chain,
                    None,
                    f"chain {chain} should hold {recorded[0]} events, "
                    f"found {length}: events were deleted",
                )
            )
    for chain in sorted(set(heads) - seen_chains):
        breaks.append(
            Break(chain, None, f"all {heads[chain][0]} events of chain {chain} were deleted")
        )
    return Verification(checked, len(seen_chains | set(heads)), breaks)


def _by_chain(events: Iterable[AuditEvent]) -> Iterator[tuple[str, Iterator[AuditEvent]]]:
    return groupby(events, key=lambda e: e.chain)


def _verify_one(chain: str, events: Iterable[AuditEvent]) -> tuple[int, str, Break | None]:
    previous = GENESIS
    position = 0
    for event in events:
        position += 1
        if event.position != position:
            return (
                position,
                previous,
                Break(
                    chain,
                    event.seq,
                    f"event {event.seq} is at position {event.position} of "
                    f"{chain}, expected {position}: events were deleted",
                ),
            )
        if event.prev_hash != previous or seal(previous, event) != event.hash:
            return (
                position,
                previous,
                Break(
                    chain,
                    event.seq,
                    f"event {event.seq} ({event.type}) was altered after it was recorded",
                ),
            )
        previous = event.hash
    return position, previous, None
