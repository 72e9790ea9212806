"""Steps for features/audit.feature, in the auditor's words, through the HTTP API."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest
from picycle.api import create_app
from picycle.engine.actors import SYSTEM
from picycle.engine.services import users
from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import text

from tests.xes import completed, read_traces, trace_name

scenarios("audit.feature")


@pytest.fixture
def audit(driver):
    """What the auditor works with and has found out."""
    return {"cycle": None, "client": None, "headers": None, "found": None}


def _read(audit, path: str):
    response = audit["client"].get("/api/v1" + path, headers=audit["headers"])
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


@given(
    "the Directorate of Planning has run a whole cycle in which leadership sent the design "
    "back once"
)
def whole_cycle(driver, clock, audit):
    cycle_id = driver.start()
    steps = [
        lambda: driver.assess(cycle_id),
        lambda: driver.identify_gaps(cycle_id),
        lambda: driver.design(cycle_id, clock().date()),
        lambda: driver.approve(cycle_id, approved=False, comment="Name the forms"),
        lambda: driver.design(cycle_id, clock().date()),
        lambda: driver.approve(cycle_id),
        lambda: driver.implement_all(cycle_id),
        lambda: driver.evaluate(cycle_id, permits=82, backlog=55),
        lambda: driver.institutionalise(cycle_id),
    ]
    for step in steps:
        clock.advance(days=1)
        step()
    audit["cycle"] = cycle_id


@given("I am an auditor with an API token")
def auditor(driver, audit):
    with driver.engine.unit_of_work() as uow:
        token = users.issue_token(uow, SYSTEM, "audrey").token
    app = create_app({"PICYCLE_ENGINE": driver.engine, "TESTING": True})
    audit["client"] = app.test_client()
    audit["headers"] = {"Authorization": f"Bearer {token}"}


@when("I read the history of the cycle")
def read_history(audit):
    audit["found"] = _read(audit, f"/cycles/{audit['cycle']}/history?limit=200").json["items"]


def _decisions(audit) -> list[dict]:
    return [
        event
        for event in audit["found"]
        if event["type"] == "task_completed" and event["element_id"] == "leadership_approval"
    ]


@then(
    parsers.parse(
        'leadership\'s decisions are in it in order: sent back with "{comment}", then approved'
    )
)
def decisions_in_order(audit, comment):
    decisions = [event["data"]["data"] for event in _decisions(audit)]
    assert [d["approved"] for d in decisions] == [False, True]
    assert decisions[0]["comment"] == comment


@then("each decision names who took it and when")
def who_and_when(audit):
    decisions = _decisions(audit)
    assert {event["actor"] for event in decisions} == {"lena"}
    moments = [datetime.fromisoformat(event["at"]) for event in decisions]
    assert moments[0] < moments[1]
    assert all(moment.utcoffset() is not None for moment in moments)


@when("I export the audit trail as XES")
def export_xes(audit, tmp_path):
    response = _read(audit, "/audit/events?format=xes")
    assert response.mimetype == "application/xml"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    path = tmp_path / "audit.xes"
    path.write_bytes(response.get_data())
    audit["found"] = read_traces(path)


@then("a process-mining tool reads one trace for the cycle")
def one_trace(audit):
    assert [trace_name(trace) for trace in audit["found"]] == [f"cycle {audit['cycle']}"]


def _activities(audit) -> list[str]:
    (trace,) = audit["found"]
    return completed(trace)


@then(parsers.parse('its activities run from "{first}" to "{last}"'))
def activities_run(audit, first, last):
    activities = _activities(audit)
    assert (activities[0], activities[-1]) == (first, last)


@then(parsers.parse('"{activity}" happened {times:d} times'))
def happened(audit, activity, times):
    assert Counter(_activities(audit))[activity] == times


@given("the record verifies as intact")
def intact(audit):
    assert _read(audit, "/audit/verify").json["intact"] is True


@when("someone changes who approved the design, behind the application's back")
def tamper(driver, audit):
    history = _read(audit, f"/cycles/{audit['cycle']}/history?limit=200").json["items"]
    approval = _decisions({"found": history})[-1]
    database = driver.engine.database
    with database.begin() as connection:
        if database.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
        connection.execute(
            text("UPDATE audit_events SET actor = 'mallory' WHERE seq = :seq"),
            {"seq": approval["seq"]},
        )
    audit["altered"] = approval["seq"]


@then("verification says the record is no longer intact")
def not_intact(audit):
    audit["found"] = _read(audit, "/audit/verify").json
    assert audit["found"]["intact"] is False


@then("it names the altered approval")
def names_it(audit):
    first = audit["found"]["first_break"]
    assert first["seq"] == audit["altered"]
    assert first["chain"] == f"cycle:{audit['cycle']}"
    assert "altered" in first["reason"]
