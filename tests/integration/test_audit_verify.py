"""Verifying the audit trail in worker processes: the verdict is the same whichever process
walks a chain, and the fast canonical form is byte for byte the stored contract."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from enum import StrEnum
from types import SimpleNamespace

import pytest
from picycle.engine.audit.chain import (
    GENESIS,
    GLOBAL_CHAIN,
    HASH_VERSION,
    canonical_facts,
    seal,
    seal_facts,
    seal_v2,
)
from picycle.engine.audit.verify import (
    EVENTS_PER_WORKER,
    Break,
    chain_ranges,
    pinned_trail,
    worker_count,
)
from picycle.engine.db.models import AuditChain, AuditEvent
from picycle.engine.services import audit
from sqlalchemy import func, insert, select, update

from tests.integration.test_audit import behind_the_apps_back
from tests.support import ensure_unit

WORKERS = (1, 2, 3)


class Kind(StrEnum):
    COMMENTED = "task_commented"


def event(**changes) -> SimpleNamespace:
    facts = {
        "chain": "cycle:7",
        "position": 3,
        "at": datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC),
        "actor": "pia",
        "type": "task_completed",
        "cycle_id": 7,
        "task_id": "6f1c1d6e-3f55-4c1e-9d9b-6bd0e1a3e7a2",
        "element_id": "assess_performance",
        "data": {"title": "Assess performance"},
    }
    return SimpleNamespace(**{**facts, **changes})


ODD_EVENTS = {
    "non-ASCII text": event(
        actor="Łukasz Ünal",
        element_id="évaluer_les_résultats",
        data={"title": "Évaluer — 評価 🚀", "quote": 'say "hi"\\', "controls": "\t\n\u2028\x01"},
    ),
    "nested data": event(
        data={
            "z": [1, 2.5, 10**20, 1e-7, {"b": None, "a": [True, False]}],
            "a": {"y": {"x": [], "w": {}}, "ä": "sorted by code point"},
        }
    ),
    "None values": event(chain=GLOBAL_CHAIN, cycle_id=None, task_id=None, element_id=None),
    "data not a dict": event(data=None),
    "microseconds and an old year": event(at=datetime(999, 12, 31, 23, 59, 59, 7, tzinfo=UTC)),
    "a str subclass": event(type=Kind.COMMENTED),
    # PostgreSQL's jsonb would give these back as 0 and as integers: the data is kept as text.
    "numbers jsonb rewrites": event(data={"minus_zero": -0.0, "huge": 1e300, "large": 1e16}),
}
# What SQLite would keep in a tampered row, or a caller might pass.
UNSTORABLE = {
    "values not of their column's type": event(actor=7, cycle_id=5.5, task_id=["x"], data="x"),
    "a bool for a number": event(position=True),
    "numbers JSON has no text for": event(data={"x": float("nan"), "y": [float("-inf")]}),
}


def json_dumps_canonical(event: SimpleNamespace, version: int = 1) -> bytes:
    """The stored contract, as the trail's first events were hashed (version 1) and as
    events are since (version 2): every chain ever written must still verify, so
    ``canonical_facts`` (without and with a ``seq``) must keep writing exactly these bytes."""
    seq_and_version = {"seq": event.seq, "hash_version": 2} if version == 2 else {}
    facts = {
        **seq_and_version,
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


@pytest.mark.parametrize(
    "odd", [*ODD_EVENTS.values(), *UNSTORABLE.values()], ids=[*ODD_EVENTS, *UNSTORABLE]
)
def test_canonical_writes_the_bytes_of_the_stored_contract(odd):
    at = odd.at.isoformat(timespec="microseconds")
    facts = (odd.chain, odd.position, at, odd.actor, odd.type)
    facts += (odd.cycle_id, odd.task_id, odd.element_id, odd.data)
    assert canonical_facts(*facts).encode() == json_dumps_canonical(odd)
    assert seal_facts(GENESIS, *facts) == seal(GENESIS, odd)
    for seq in (1, 2**40, True):
        numbered = SimpleNamespace(**vars(odd), seq=seq)
        assert canonical_facts(*facts, seq=seq).encode() == json_dumps_canonical(numbered, 2)
        assert seal_facts(GENESIS, *facts, seq=seq) == seal_v2(GENESIS, numbered)


def test_version_2_hashes_the_sequence_number():
    facts = (GLOBAL_CHAIN, 1, "2026-03-02T09:00:00.000000+00:00", "pia", "user_created")
    facts += (None, None, None, {})
    assert seal_facts(GENESIS, *facts, seq=7) != seal_facts(GENESIS, *facts, seq=8)
    assert seal_facts(GENESIS, *facts, seq=7) != seal_facts(GENESIS, *facts)


def test_a_small_trail_is_verified_in_one_process_a_large_one_in_one_per_cpu():
    assert worker_count(EVENTS_PER_WORKER - 1) == 1
    assert worker_count(EVENTS_PER_WORKER * 2) == min(2, os.cpu_count())
    assert worker_count(EVENTS_PER_WORKER * 1000) == os.cpu_count()
    assert worker_count(10, workers=3) == 3


def append_to_global_chain(engine, *events: SimpleNamespace, version: int = 1) -> None:
    """Copies of the events appended to the global chain, sealed with ``seal`` (version 1)
    or ``seal_v2`` itself."""
    heads = AuditChain.__table__
    columns = [c.name for c in AuditEvent.__table__.columns]
    with engine.database.begin() as connection:
        length, previous = connection.execute(
            select(heads.c.length, heads.c.head_hash).where(heads.c.chain == GLOBAL_CHAIN)
        ).one()
        seq = connection.scalar(select(func.max(AuditEvent.seq)))
        for facts in events:
            length += 1
            seq += 1
            appended = SimpleNamespace(**{**vars(facts), "chain": GLOBAL_CHAIN, "cycle_id": None})
            appended.position, appended.prev_hash = length, previous
            appended.seq, appended.hash_version = seq, version
            appended.hash = previous = (seal if version == 1 else seal_v2)(previous, appended)
            connection.execute(insert(AuditEvent), {c: getattr(appended, c) for c in columns})
        connection.execute(
            update(heads)
            .where(heads.c.chain == GLOBAL_CHAIN)
            .values(length=length, head_hash=previous)
        )


def verify(driver, workers: int):
    return audit.verify(driver.engine, driver.actor("audrey"), workers=workers)


def test_odd_values_read_back_from_the_database_verify(driver):
    append_to_global_chain(driver.engine, *ODD_EVENTS.values(), version=1)
    append_to_global_chain(driver.engine, *ODD_EVENTS.values(), version=HASH_VERSION)
    for workers in WORKERS:
        result = verify(driver, workers)
        assert result.intact, result.breaks
        assert result.events_checked == len(driver.events())


# Only SQLite keeps times and JSON as the text they were written as.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_text_stored_otherwise_in_sqlite_is_read_as_sqlalchemy_reads_it(driver):
    first, second, third, fourth = driver.events()[:4]
    behind_the_apps_back(
        driver,
        # The same facts, written otherwise: nothing was altered.
        f"UPDATE audit_events SET at = '2026-03-02T09:00:00+00:00' WHERE seq = {first.seq}",
        f"UPDATE audit_events SET at = '2026-03-02 10:00:00+01:00' WHERE seq = {second.seq}",
        f"UPDATE audit_events SET data = ' ' || data || ' ' WHERE seq = {third.seq}",
        # Another instant.
        f"UPDATE audit_events SET at = '2026-03-02 09:00:00.000001' WHERE seq = {fourth.seq}",
    )
    for workers in WORKERS:
        assert [b.seq for b in verify(driver, workers).breaks] == [fourth.seq]


def several_cycles(driver) -> list[int]:
    """Six cycles of as many events, besides the global chain's events."""
    names = [f"Directorate {n}" for n in range(6)]
    for name in names:  # the units' events first: every cycle's come after the global ones
        ensure_unit(driver.engine, name)
    cycle_ids = [driver.start(unit=name) for name in names]
    for cycle_id in cycle_ids:
        driver.assess(cycle_id)
    return cycle_ids


def test_workers_split_the_chains_and_check_every_event(driver):
    several_cycles(driver)
    events = len(driver.events())
    with pinned_trail(driver.engine.database, driver.engine.url) as trail:
        ranges = chain_ranges(trail.connection, events, 3)
    assert len(ranges) == 3
    assert ranges[0][0] is None and ranges[-1][1] is None
    assert all(high == low for (_, high), (low, _) in zip(ranges, ranges[1:], strict=False))
    for workers in WORKERS:
        result = verify(driver, workers)
        assert result.intact
        assert (result.events_checked, result.chains_checked) == (events, 7)


def test_every_break_is_found_whichever_worker_walks_its_chain(driver):
    edited, middle, tail, whole, *intact = several_cycles(driver)
    in_order = {cycle_id: driver.events(cycle_id) for cycle_id in (edited, middle, tail, whole)}
    length = len(in_order[tail])  # every cycle's so far
    last_global = [e for e in driver.events() if e.chain == GLOBAL_CHAIN][-1]
    behind_the_apps_back(
        driver,
        f"UPDATE audit_events SET actor = 'mallory' WHERE seq = {in_order[edited][1].seq}",
        f"DELETE FROM audit_events WHERE seq = {in_order[middle][1].seq}",
        f"DELETE FROM audit_events WHERE seq = {in_order[tail][-1].seq}",
        f"DELETE FROM audit_events WHERE cycle_id = {whole}",
        f"UPDATE audit_events SET data = '{{}}' WHERE seq = {last_global.seq}",
    )
    altered = in_order[edited][1]
    after_gap = in_order[middle][2]
    expected = [
        Break(
            f"cycle:{edited}",
            altered.seq,
            f"event {altered.seq} ({altered.type}) was altered after it was recorded",
        ),
        Break(
            f"cycle:{middle}",
            after_gap.seq,
            f"event {after_gap.seq} is at position 3 of cycle:{middle}, expected 2: "
            "events were deleted",
        ),
        Break(
            f"cycle:{tail}",
            None,
            f"chain cycle:{tail} should hold {length} events, found {length - 1}: "
            "events were deleted",
        ),
        Break(
            GLOBAL_CHAIN,
            last_global.seq,
            f"event {last_global.seq} ({last_global.type}) was altered after it was recorded",
        ),
        Break(f"cycle:{whole}", None, f"all {length} events of chain cycle:{whole} were deleted"),
    ]
    # Checked: each chain up to and with its break, and every event of the intact ones.
    checked = 2 + 2 + (length - 1) + last_global.position + length * len(intact)
    for workers in WORKERS:
        result = verify(driver, workers)
        assert result.breaks == expected
        assert (result.events_checked, result.chains_checked) == (checked, 7)
        assert result.first_break == expected[3]  # recorded before any cycle's events


def test_workers_see_the_trail_as_it_was_when_the_heads_were_read(driver):
    several_cycles(driver)
    for workers in WORKERS:
        with pinned_trail(driver.engine.database, driver.engine.url) as trail:
            heads = audit.recorded_heads(trail.session)
            driver.assess(driver.start(unit=f"Late arrivals {workers}"))
            result = trail.verify(heads, workers)
        assert result.intact, result.breaks
        assert result.events_checked == sum(head.length for head in heads.values())
