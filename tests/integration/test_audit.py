"""The audit trail: complete, append-only, tamper-evident, readable and exportable."""

from __future__ import annotations

import csv
import io
import json

import pytest
from picycle.engine.audit import export
from picycle.engine.db.models import AuditChain
from picycle.engine.errors import PermissionDenied
from picycle.engine.services import audit
from picycle.engine.services.audit import EventFilter
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from tests.xes import completed, read_traces, resources, trace_name


def run_whole_cycle(driver, clock) -> int:
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, clock().date())
    driver.approve(cycle_id, approved=False, comment="Name the forms")
    driver.design(cycle_id, clock().date())
    driver.approve(cycle_id)
    driver.implement_all(cycle_id)
    driver.evaluate(cycle_id, permits=82, backlog=55)
    driver.institutionalise(cycle_id)
    driver.plan_next(cycle_id)
    return cycle_id


def verify(driver, as_user="audrey"):
    return audit.verify(driver.engine, driver.actor(as_user))


def behind_the_apps_back(driver, *statements: str) -> None:
    """Change the events table directly, with the append-only guard removed."""
    dialect = driver.engine.database.dialect.name
    with driver.engine.database.begin() as connection:
        if dialect == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
            connection.execute(text("DROP TRIGGER audit_events_no_delete"))
        for statement in statements:
            connection.execute(text(statement))


def test_a_cycle_leaves_the_exact_sequence_of_events(driver, clock):
    cycle_id = run_whole_cycle(driver, clock)
    trail = [(e.actor, e.type, e.data.get("title")) for e in driver.events(cycle_id)]
    completed = [(actor, title) for actor, kind, title in trail if kind == "task_completed"]
    assert completed == [
        ("pia", "Assess performance"),
        ("dana", "Identify gaps"),
        ("dana", "Design microprojects"),
        ("lena", "Leadership approval"),
        ("dana", "Design microprojects"),
        ("lena", "Leadership approval"),
        ("dana", "Implement: Digital permit intake"),
        ("omar", "Implement: Complaint triage desk"),
        ("pia", "Evaluate results"),
        ("lena", "Institutionalise and share"),
        ("pia", "Plan the next cycle"),
    ]
    assert trail[0][:2] == ("pia", "cycle_started")
    assert trail[-2][:2] == ("pia", "cycle_completed")
    assert trail[-1][:2] == ("pia", "next_cycle_scheduled")
    created = [title for _, kind, title in trail if kind == "task_created"]
    assert len(created) == len(completed)
    approval = next(
        e
        for e in driver.events(cycle_id)
        if e.type == "task_completed" and e.data["title"] == "Leadership approval"
    )
    assert approval.data["data"] == {"approved": False, "comment": "Name the forms"}


def test_each_cycles_chain_head_is_on_its_row(driver, clock):
    first = run_whole_cycle(driver, clock)
    second = driver.start(unit="Directorate of Finance")
    driver.assess(second)
    for cycle_id in (first, second):
        events = driver.events(cycle_id)
        assert {e.chain for e in events} == {f"cycle:{cycle_id}"}
        assert [e.position for e in events] == list(range(1, len(events) + 1))
        row = driver.row(cycle_id)
        assert (row.audit_length, row.audit_head) == (events[-1].position, events[-1].hash)
    about_no_cycle = [e for e in driver.events() if e.cycle_id is None]
    assert {e.chain for e in about_no_cycle} == {"global"}
    with driver.engine.unit_of_work(write=False) as uow:
        chains = uow.session.execute(
            select(AuditChain.chain, AuditChain.length, AuditChain.head_hash)
        ).all()
    assert chains == [("global", len(about_no_cycle), about_no_cycle[-1].hash)]
    assert verify(driver).chains_checked == 3


def test_a_cycles_chain_head_cut_back_on_its_row_is_refused(driver, clock):
    cycle_id = run_whole_cycle(driver, clock)
    events = driver.events(cycle_id)
    with (
        pytest.raises(DatabaseError, match="move only forward"),
        driver.engine.database.begin() as c,
    ):
        c.execute(
            text("UPDATE cycles SET audit_length = :n, audit_head = :h WHERE id = :id"),
            {"n": len(events) - 1, "h": events[-2].hash, "id": cycle_id},
        )
    assert verify(driver).intact


def test_the_database_refuses_to_change_or_delete_events(driver, clock):
    driver.start()
    for statement in ("UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events"):
        with pytest.raises(DatabaseError, match="append-only"), driver.engine.database.begin() as c:
            c.execute(text(statement))
    assert verify(driver).intact


def test_an_intact_trail_verifies(driver, clock):
    run_whole_cycle(driver, clock)
    result = verify(driver)
    assert result.intact and result.first_break is None
    assert result.events_checked == len(driver.events())


def test_an_edited_event_is_named(driver, clock):
    cycle_id = run_whole_cycle(driver, clock)
    approval = next(
        e
        for e in driver.events(cycle_id)
        if e.type == "task_completed" and e.data["title"] == "Leadership approval"
    )
    behind_the_apps_back(
        driver, f"UPDATE audit_events SET actor = 'mallory' WHERE seq = {approval.seq}"
    )
    result = verify(driver)
    assert not result.intact
    assert result.first_break.seq == approval.seq
    assert "altered" in result.first_break.reason


def test_deleted_events_are_detected(driver, clock):
    first = run_whole_cycle(driver, clock)
    second = driver.start(unit="Directorate of Finance")
    last = driver.events(first)[-1]
    behind_the_apps_back(
        driver,
        f"DELETE FROM audit_events WHERE seq = {last.seq}",
        f"DELETE FROM audit_events WHERE cycle_id = {second}",
    )
    reasons = [b.reason for b in verify(driver).breaks]
    assert any("events were deleted" in r and f"cycle:{first}" in r for r in reasons)
    assert any(f"all 2 events of chain cycle:{second} were deleted" in r for r in reasons)


def test_a_deleted_event_in_the_middle_names_the_one_after_it(driver, clock):
    cycle_id = run_whole_cycle(driver, clock)
    events = driver.events(cycle_id)
    behind_the_apps_back(driver, f"DELETE FROM audit_events WHERE seq = {events[3].seq}")
    assert verify(driver).first_break.seq == events[4].seq


def test_who_reads_which_history(driver, clock):
    cycle_id = run_whole_cycle(driver, clock)
    other = driver.start(unit="Directorate of Finance", by="ada")
    with driver.engine.unit_of_work(write=False) as uow:
        history = audit.cycle_history(uow, driver.actor("dana"), cycle_id, limit=5)
        assert history.total == len(driver.events(cycle_id)) and len(history.items) == 5
        with pytest.raises(PermissionDenied, match="takes no part"):
            audit.cycle_history(uow, driver.actor("dana"), other)
        everything = audit.list_events(uow, driver.actor("audrey"), EventFilter())
        assert everything.total == len(driver.events())
        with pytest.raises(PermissionDenied):
            audit.list_events(uow, driver.actor("dana"), EventFilter())
    with pytest.raises(PermissionDenied):
        verify(driver, as_user="dana")


def test_events_are_filtered_by_unit_actor_type_and_time(driver, clock):
    cycle_id = run_whole_cycle(driver, clock)
    driver.start(unit="Directorate of Finance", by="ada")
    with driver.engine.unit_of_work(write=False) as uow:
        auditor = driver.actor("audrey")
        approvals = audit.list_events(
            uow,
            auditor,
            EventFilter(unit="Directorate of Planning", actor="lena", type="task_completed"),
        )
        assert approvals.total == 3 and {e.cycle_id for e in approvals.items} == {cycle_id}
        later = audit.list_events(uow, auditor, EventFilter(since=clock().replace(year=2027)))
        assert later.total == 0 and later.items == []


def exported(driver, render, **filters) -> str:
    with driver.engine.unit_of_work(write=False) as uow:
        events = audit.stream_events(
            uow, driver.actor("audrey"), EventFilter(**filters), by_cycle=render is export.to_xes
        )
        return "".join(render(events))


def test_csv_and_json_lines_exports_read_back(driver, clock):
    cycle_id = run_whole_cycle(driver, clock)
    recorded = driver.events(cycle_id)
    rows = list(csv.DictReader(io.StringIO(exported(driver, export.to_csv, cycle_id=cycle_id))))
    assert [int(r["seq"]) for r in rows] == [e.seq for e in recorded]
    assert json.loads(rows[0]["data"])["unit"] == "Directorate of Planning"
    lines = exported(driver, export.to_jsonl, cycle_id=cycle_id).splitlines()
    assert [json.loads(line)["type"] for line in lines] == [e.type for e in recorded]


def test_xes_export_loads_in_a_process_mining_tool(driver, clock, tmp_path):
    first = run_whole_cycle(driver, clock)
    second = driver.start(unit="Directorate of Finance")
    driver.assess(second)
    path = tmp_path / "cycles.xes"
    path.write_text(exported(driver, export.to_xes))
    traces = read_traces(path)
    assert [trace_name(trace) for trace in traces] == [f"cycle {first}", f"cycle {second}"]
    activities = completed(traces[0])
    assert activities[0] == "Assess performance" and activities[-1] == "Plan the next cycle"
    assert resources(traces[0]) >= {"pia", "dana", "lena"}


def test_many_events_in_one_commit_are_numbered_in_order_and_verify(driver, clock):
    before = len(driver.events())
    with driver.engine.unit_of_work() as uow:
        for n in range(20):  # more than one block of sequence numbers drawn with the head
            uow.record("system", "user_changed", n=n)
        uow.commit()
    added = driver.events()[before:]
    assert [e.data["n"] for e in added] == list(range(20))
    assert [e.position for e in added] == sorted(e.position for e in added)
    assert all(e.hash_version == 2 for e in added)
    assert verify(driver).intact
