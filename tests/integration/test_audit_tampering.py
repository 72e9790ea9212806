"""Tampering with the audit trail as someone with write access to the database would: the
database refuses what its guards cover, and what gets past them (the guards dropped, as a
superuser can) is named by `audit verify`, through the chain heads' seals with the audit
key or against a seal document kept outside the database."""

from __future__ import annotations

import pytest
from picycle.engine.audit.chain import GENESIS, GLOBAL_CHAIN, seal, seal_v2
from picycle.engine.db.models import AuditChain, AuditEvent
from picycle.engine.errors import Conflict
from picycle.engine.services import audit
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from tests.integration.test_audit import run_whole_cycle

KEY = "k" * 40
HEADS_GUARD = "audit chain heads move only forward"


@pytest.fixture(autouse=True)
def audit_key(monkeypatch):
    """Every engine of these tests seals heads with the key, as in production."""
    monkeypatch.setenv("PICYCLE_AUDIT_KEY", KEY)
    monkeypatch.delenv("PICYCLE_AUDIT_KEY_FILE", raising=False)


def verify(driver, **options):
    return audit.verify(driver.engine, driver.actor("audrey"), **options)


def sealed_now(driver):
    """The seal document an auditor takes away, read back as they would hand it in."""
    document = audit.seal_document(audit.seal_trail(driver.engine, driver.actor("audrey")))
    return audit.read_seal_document(document)


def behind_the_apps_back(driver, *statements: str) -> None:
    """Run ``statements`` with the events' append-only guard off (the heads' guards on)."""
    with driver.engine.database.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
        for statement in statements:
            connection.execute(text(statement))


def without_any_guard(driver, *statements: str) -> None:
    """Run ``statements`` with every trigger that guards the trail dropped or disabled."""
    with driver.engine.database.begin() as connection:
        if connection.dialect.name == "postgresql":
            for table in ("audit_events", "audit_chains", "cycles"):
                connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            triggers = connection.scalars(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).all()
            for name in triggers:
                connection.execute(text(f"DROP TRIGGER {name}"))
        for statement in statements:
            connection.execute(text(statement))


def rehash(driver, chain: str) -> None:
    """What someone without the key does after changing a chain's events: recompute every
    hash with picycle's own functions and point the head at the new last one."""
    events = AuditEvent.__table__
    with driver.engine.database.connect() as connection:
        rows = connection.execute(
            select(events).where(events.c.chain == chain).order_by(events.c.position)
        ).all()
    previous, statements = GENESIS, []
    for position, row in enumerate(rows, start=1):
        event = row._asdict() | {"position": position}
        previous_hash = previous
        previous = (seal_v2 if row.hash_version == 2 else seal)(previous_hash, type("E", (), event))
        statements.append(
            f"UPDATE audit_events SET position = {position}, prev_hash = '{previous_hash}', "
            f"hash = '{previous}' WHERE seq = {row.seq}"
        )
    if chain == GLOBAL_CHAIN:
        statements.append(
            f"UPDATE audit_chains SET length = {len(rows)}, head_hash = '{previous}' "
            f"WHERE chain = '{chain}'"
        )
    else:
        statements.append(
            f"UPDATE cycles SET audit_length = {len(rows)}, audit_head = '{previous}' "
            f"WHERE id = {chain.removeprefix('cycle:')}"
        )
    without_any_guard(driver, *statements)


def reasons(result) -> list[str]:
    return [b.reason for b in result.breaks]


def global_events(driver) -> list[AuditEvent]:
    return [e for e in driver.events() if e.chain == GLOBAL_CHAIN]


# --- TRUNCATE -----------------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize(
    "statement",
    ["TRUNCATE audit_events, audit_chains", "TRUNCATE audit_events", "TRUNCATE cycles CASCADE"],
)
def test_postgresql_refuses_to_truncate_the_trail(driver, clock, statement):
    run_whole_cycle(driver, clock)
    database = driver.engine.database
    with pytest.raises(DatabaseError, match="cannot be truncated"), database.begin() as connection:
        connection.execute(text(statement))
    assert verify(driver).intact


def test_a_trail_emptied_behind_the_guards_is_detected(driver, clock):
    run_whole_cycle(driver, clock)
    sealed = sealed_now(driver)
    truncate = (
        "DELETE FROM {}" if driver.engine.database.dialect.name == "sqlite" else "TRUNCATE {}"
    )
    without_any_guard(driver, truncate.format("audit_events"), truncate.format("audit_chains"))
    result = verify(driver)
    assert "the global chain has no recorded head: audit_chains was emptied" in reasons(result)
    against = verify(driver, against=sealed)
    assert {b.chain for b in against.breaks} >= {head.chain for head in sealed.heads}
    assert any(f"held {sealed.heads[-1].length} events when sealed" in r for r in reasons(against))


# --- heads moved by hand --------------------------------------------------------------------


def test_a_global_head_cut_back_onto_remaining_events_is_refused(driver, clock):
    run_whole_cycle(driver, clock)
    *kept, last = global_events(driver)
    behind_the_apps_back(driver, f"DELETE FROM audit_events WHERE seq = {last.seq}")
    cut_back = (
        f"UPDATE audit_chains SET length = {len(kept)}, head_hash = '{kept[-1].hash}' "
        "WHERE chain = 'global'"
    )
    with pytest.raises(DatabaseError, match=HEADS_GUARD):
        behind_the_apps_back(driver, cut_back)
    for statement in ("DELETE FROM audit_chains", "UPDATE audit_chains SET chain = 'other'"):
        with pytest.raises(DatabaseError, match=HEADS_GUARD):
            behind_the_apps_back(driver, statement)
    # With the head's guard dropped too, the head no longer carries its seal.
    without_any_guard(driver, cut_back)
    (broken,) = verify(driver).breaks
    assert broken.chain == GLOBAL_CHAIN and "does not carry the audit key's seal" in broken.reason


def test_a_cycles_head_cut_back_or_emptied_on_its_row_is_refused(driver, clock):
    cycle_id = run_whole_cycle(driver, clock)
    events = driver.events(cycle_id)
    for values in (
        f"audit_length = {len(events) - 1}, audit_head = '{events[-2].hash}'",
        f"audit_length = 0, audit_head = '{GENESIS}'",
        f"audit_length = {len(events)}, audit_head = '{events[-2].hash}'",
        f"id = {cycle_id + 100}",
    ):
        with pytest.raises(DatabaseError, match=HEADS_GUARD):
            behind_the_apps_back(driver, f"UPDATE cycles SET {values} WHERE id = {cycle_id}")
    with pytest.raises(DatabaseError, match=HEADS_GUARD):
        behind_the_apps_back(driver, f"DELETE FROM cycles WHERE id = {cycle_id}")
    assert verify(driver).intact


def test_a_cycles_events_deleted_with_its_chain_head_are_detected(driver, clock):
    cycle_id = run_whole_cycle(driver, clock)
    without_any_guard(
        driver,
        f"DELETE FROM audit_events WHERE cycle_id = {cycle_id}",
        f"UPDATE cycles SET audit_length = 0, audit_head = '{GENESIS}', audit_seal = NULL "
        f"WHERE id = {cycle_id}",
    )
    (broken,) = verify(driver).breaks
    assert broken.reason == (
        f"chain cycle:{cycle_id} records no events: its cycle's events were deleted"
    )


# --- rewritten and rehashed ------------------------------------------------------------------


def test_a_cycles_chain_rewritten_and_rehashed_is_detected_by_the_key(driver, clock):
    cycle_id = run_whole_cycle(driver, clock)
    sealed = sealed_now(driver)
    approval = next(e for e in driver.events(cycle_id) if e.actor == "lena")
    without_any_guard(
        driver, f"UPDATE audit_events SET actor = 'mallory' WHERE seq = {approval.seq}"
    )
    rehash(driver, f"cycle:{cycle_id}")
    (broken,) = verify(driver).breaks
    assert broken.chain == f"cycle:{cycle_id}"
    assert "does not carry the audit key's seal" in broken.reason
    # Against the seal the auditor kept, the rewrite shows without the key too.
    driver.engine.audit_key = None
    unkeyed = verify(driver, against=sealed)
    assert not unkeyed.heads_key_sealed
    assert reasons(unkeyed) == [
        f"event {len(driver.events(cycle_id))} of chain cycle:{cycle_id} is not the one "
        f"sealed at {sealed.sealed_at.isoformat()}: the chain was rewritten"
    ]


def test_global_events_deleted_and_the_chain_rehashed_are_detected_by_the_key(driver, clock):
    run_whole_cycle(driver, clock)
    sealed = sealed_now(driver)
    first, second, *_ = global_events(driver)
    without_any_guard(driver, f"DELETE FROM audit_events WHERE seq IN ({first.seq}, {second.seq})")
    rehash(driver, GLOBAL_CHAIN)
    (broken,) = verify(driver).breaks
    assert broken.chain == GLOBAL_CHAIN
    assert "does not carry the audit key's seal" in broken.reason
    against = reasons(verify(driver, against=sealed))
    assert any("events were deleted" in r and "chain global" in r for r in against)


def test_a_changed_sequence_number_is_detected(driver, clock):
    cycle_id = run_whole_cycle(driver, clock)
    moved = driver.events(cycle_id)[4]
    without_any_guard(driver, f"UPDATE audit_events SET seq = seq + 100000 WHERE seq = {moved.seq}")
    (broken,) = verify(driver).breaks
    assert broken.seq == moved.seq + 100000
    assert broken.reason == f"event {broken.seq} ({moved.type}) was altered after it was recorded"


def test_a_hash_version_set_back_to_the_first_form_is_detected(driver, clock):
    cycle_id = run_whole_cycle(driver, clock)
    event = driver.events(cycle_id)[2]
    assert event.hash_version == 2
    behind_the_apps_back(
        driver, f"UPDATE audit_events SET hash_version = 1 WHERE seq = {event.seq}"
    )
    assert verify(driver).first_break.seq == event.seq


# --- the key and seal documents -------------------------------------------------------------


def test_without_a_key_verify_says_the_heads_are_not_key_sealed(driver, clock, monkeypatch):
    monkeypatch.delenv("PICYCLE_AUDIT_KEY")
    driver.restart()
    run_whole_cycle(driver, clock)
    result = verify(driver)
    assert result.intact and not result.heads_key_sealed
    assert driver.row(1).audit_seal is None
    sealed = sealed_now(driver)
    assert not sealed.key_sealed and all(head.seal is None for head in sealed.heads)


def test_heads_written_before_the_key_are_adopted_once_by_an_admin(driver, clock, monkeypatch):
    monkeypatch.delenv("PICYCLE_AUDIT_KEY")
    driver.restart()
    cycle_id = run_whole_cycle(driver, clock)
    monkeypatch.setenv("PICYCLE_AUDIT_KEY", KEY)
    driver.restart()
    result = verify(driver)
    assert not result.intact and result.breaks == []
    assert result.unsealed_heads == [f"cycle:{cycle_id}"]  # people were added with the key
    with pytest.raises(Conflict, match="carry no seal of the audit key"):
        audit.seal_trail(driver.engine, driver.actor("audrey"))
    with pytest.raises(Exception, match="only an admin"):
        audit.seal_trail(driver.engine, driver.actor("audrey"), adopt_unsealed=True)
    sealed = audit.seal_trail(driver.engine, driver.actor("ada"), adopt_unsealed=True)
    assert sealed.key_sealed
    assert verify(driver).intact
    assert global_events(driver)[-1].type == "audit_heads_adopted"
    assert verify(driver, against=sealed).intact


def test_a_broken_trail_is_not_sealed(driver, clock):
    cycle_id = run_whole_cycle(driver, clock)
    behind_the_apps_back(
        driver,
        f"UPDATE audit_events SET actor = 'mallory' WHERE seq = {driver.events(cycle_id)[1].seq}",
    )
    with pytest.raises(Conflict, match="not intact, so it was not sealed"):
        audit.seal_trail(driver.engine, driver.actor("audrey"))


def test_a_trail_grown_since_its_seal_verifies_against_it(driver, clock):
    cycle_id = run_whole_cycle(driver, clock)
    sealed = sealed_now(driver)
    driver.assess(driver.start(unit="Directorate of Finance"))
    result = verify(driver, against=sealed)
    assert result.intact, result.breaks
    assert {head.chain for head in sealed.heads} == {GLOBAL_CHAIN, f"cycle:{cycle_id}"}


def test_an_altered_seal_document_is_named(driver, clock):
    run_whole_cycle(driver, clock)
    document = audit.seal_document(audit.seal_trail(driver.engine, driver.actor("audrey")))
    forged = audit.read_seal_document(document.replace('"length": ', '"length": 1', 1))
    (broken,) = verify(driver, against=forged).breaks
    assert "the seal document's entry for chain" in broken.reason


@pytest.mark.parametrize(
    "document, problem",
    [
        ("not json", "document is not JSON"),
        ('{"format": "other"}', "format must be"),
        ('{"format": "picycle-audit-seal/1", "sealed_at": "x", "chains": []}', "sealed_at"),
        (
            '{"format": "picycle-audit-seal/1", "sealed_at": "2026-03-02T09:00:00+00:00", '
            '"chains": []}',
            "key_sealed must be true or false",
        ),
        (
            '{"format": "picycle-audit-seal/1", "sealed_at": "2026-03-02T09:00:00+00:00", '
            '"key_sealed": false, '
            '"chains": [{"chain": "global", "length": "3", "head_hash": "", "seal": null}]}',
            "chains.0.length is missing or of the wrong type",
        ),
    ],
)
def test_a_document_that_is_no_seal_is_refused_with_what_is_wrong(document, problem):
    with pytest.raises(Exception, match=problem):
        audit.read_seal_document(document)


def test_the_heads_of_the_audit_chains_table_are_guarded_against_inserts(driver, clock):
    run_whole_cycle(driver, clock)
    chains = AuditChain.__table__
    with pytest.raises(DatabaseError, match=HEADS_GUARD):
        behind_the_apps_back(
            driver,
            str(
                chains.insert()
                .values(chain="cycle:999", length=3, head_hash="f" * 64)
                .compile(compile_kwargs={"literal_binds": True})
            ),
        )
