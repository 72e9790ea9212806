"""Moving, retitling and calling off a completed cycle's planned next cycle through the
API, and what a caller who may not, or a plan that is no longer pending, gets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.services import timers, units, users

from tests.api.conftest import assert_problem, audit_events


@pytest.fixture
def completed(walker, clock) -> int:
    """A completed cycle whose next cycle, "Faster permits, round 2", starts on 1 June."""
    walk = walker()
    walk.assess()
    walk.identify_gaps()
    walk.design(clock().date())
    walk.approve()
    walk.implement_all()
    walk.evaluate(permits=82, backlog=55)
    walk.institutionalise()
    walk.plan_next("2026-06-01")
    return walk.cycle_id


def test_the_pi_unit_moves_and_retitles_the_plan(api, engine, completed):
    change = {"start_on": "2026-07-01", "title": "Round 2, after the summer"}
    response = api.patch("pia", f"/cycles/{completed}/next-cycle", json=change)
    assert response.status_code == 200, response.json
    assert response.json == {
        "cycle_id": completed,
        "start_on": "2026-07-01",
        "title": "Round 2, after the summer",
        "pending": True,
        "may_change": True,
        "followed_by": None,
    }
    (event,) = [e for e in audit_events(engine, "next_cycle_scheduled") if e.actor == "pia"][1:]
    assert (event.data["previous_start_on"], event.data["start_on"]) == (
        "2026-06-01",
        "2026-07-01",
    )
    cycle = api.get("audrey", f"/cycles/{completed}").json
    assert cycle["status"] == "completed"


def test_calling_the_plan_off(api, engine, clock, completed):
    response = api.post("ada", f"/cycles/{completed}/next-cycle/cancel", json={"reason": "Merger"})
    assert response.status_code == 200, response.json
    assert (response.json["pending"], response.json["title"]) == (False, "Faster permits, round 2")
    (event,) = audit_events(engine, "next_cycle_skipped")
    assert (event.actor, event.data["reason"]) == ("ada", "Merger")

    clock.advance(days=120)
    timers.fire_due_timers(engine)
    assert api.get("ada", "/cycles").json["total"] == 1
    again = api.post("ada", f"/cycles/{completed}/next-cycle/cancel", json={"reason": "Again"})
    assert "no next cycle waiting" in assert_problem(again, 409)["detail"]


def test_an_empty_change_leaves_the_plan_as_it_was(api, engine, completed):
    response = api.patch("pia", f"/cycles/{completed}/next-cycle", json={})
    assert response.status_code == 200, response.json
    assert (response.json["start_on"], response.json["title"]) == (
        "2026-06-01",
        "Faster permits, round 2",
    )
    assert len(audit_events(engine, "next_cycle_scheduled")) == 1


def test_a_started_plan_no_longer_changes(api, engine, clock, completed):
    clock.advance(days=100)
    timers.fire_due_timers(engine)
    response = api.patch("pia", f"/cycles/{completed}/next-cycle", json={"title": "Too late"})
    assert_problem(response, 409)


def test_a_running_cycle_has_no_plan_to_change(api, start_cycle):
    running = start_cycle()["id"]
    response = api.patch("pia", f"/cycles/{running}/next-cycle", json={"title": "Later"})
    assert "only a completed cycle" in assert_problem(response, 409)["detail"]
    response = api.post("pia", f"/cycles/{running}/next-cycle/cancel", json={"reason": "x"})
    assert_problem(response, 409)


def test_a_date_in_the_past_is_refused_at_the_field(api, clock, completed):
    yesterday = (clock().date() - timedelta(days=1)).isoformat()
    response = api.patch("pia", f"/cycles/{completed}/next-cycle", json={"start_on": yesterday})
    body = assert_problem(response, 422)
    assert list(body["errors"]) == ["start_on"]
    assert "past" in body["errors"]["start_on"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start_on": "tomorrow"}, "start_on"),
        ({"start_on": "2026-02-30"}, "start_on"),
        ({"start_on": 20260601}, "start_on"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 501}, "title"),
        ({"title": "a\x00b"}, "title"),
        ({"title": ["x"]}, "title"),
        ({"title": "T", "unit": "Roads"}, "unit"),
    ],
)
def test_garbage_names_the_field(api, completed, body, field):
    response = api.patch("pia", f"/cycles/{completed}/next-cycle", json=body)
    assert field in assert_problem(response, 422)["errors"]


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": " "}, {"reason": 5}])
def test_calling_off_needs_a_reason(api, completed, body):
    response = api.post("pia", f"/cycles/{completed}/next-cycle/cancel", json=body)
    assert "reason" in assert_problem(response, 422)["errors"]


def test_malformed_json_is_a_400(api, completed):
    response = api.patch(
        "pia",
        f"/cycles/{completed}/next-cycle",
        data="{start_on:",
        content_type="application/json",
    )
    assert_problem(response, 400)


def test_who_may_not_start_the_units_cycles_may_not_change_its_plan(api, engine, client, completed):
    response = api.patch("audrey", f"/cycles/{completed}/next-cycle", json={"title": "Audited"})
    assert_problem(response, 403, type="urn:picycle:problem:permission-denied")
    with engine.unit_of_work() as uow:
        roads_id = units.find_unit(uow, "Roads").id
        roads = users.add_user(uow, SYSTEM, "rafa", "member", [], [("PI Unit", roads_id)]).token
    response = client.post(
        f"/api/v1/cycles/{completed}/next-cycle/cancel",
        json={"reason": "Not mine"},
        headers={"Authorization": f"Bearer {roads}"},
    )
    assert_problem(response, 404)
    assert api.get("pia", f"/cycles/{completed}/history?limit=200").json["items"][-1]["type"] == (
        "next_cycle_scheduled"
    )


def test_an_unknown_cycle_is_a_404(api):
    assert_problem(api.patch("pia", "/cycles/12345/next-cycle", json={"title": "T"}), 404)
    assert_problem(api.post("pia", "/cycles/12345/next-cycle/cancel", json={"reason": "x"}), 404)
