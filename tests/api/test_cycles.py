"""Starting, listing, reading and cancelling cycles through the API."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_problem, audit_count, audit_events
from tests.support import INDICATORS, UNIT


def test_starting_a_cycle_puts_the_assessment_in_the_pi_units_inbox(api):
    response = api.post("pia", "/cycles", json={"unit": UNIT, "title": "Faster permits"})
    assert response.status_code == 201
    cycle = response.json
    assert response.headers["Location"].endswith(f"/api/v1/cycles/{cycle['id']}")
    assert cycle["status"] == "running"
    assert (cycle["unit"], cycle["title"], cycle["cycle_number"]) == (UNIT, "Faster permits", 1)
    assert (cycle["process_id"], cycle["version"]) == ("pi_cycle", 1)
    assert (cycle["started_by"], cycle["ended_at"], cycle["previous_cycle_id"]) == (
        "pia",
        None,
        None,
    )
    assert cycle["started_at"] == "2026-03-02T09:00:00+00:00"
    (task,) = cycle["open_tasks"]
    assert (task["title"], task["candidate_group"], task["state"]) == (
        "Assess performance",
        "PI Unit",
        "open",
    )


def test_start_data_reaches_the_process(api):
    response = api.post(
        "pia", "/cycles", json={"unit": UNIT, "title": "T", "data": {"indicators": INDICATORS}}
    )
    assert response.status_code == 201
    assert response.json["indicators"] == INDICATORS


def test_a_unit_runs_one_cycle_at_a_time(api, start_cycle):
    start_cycle()
    body = assert_problem(api.post("pia", "/cycles", json={"unit": UNIT, "title": "Again"}), 409)
    assert "still running" in body["detail"]
    other = {"unit": "Directorate of Finance", "title": "T"}
    assert api.post("pia", "/cycles", json=other).status_code == 201


def test_an_unknown_process_is_a_404(api):
    response = api.post("pia", "/cycles", json={"process_id": "nope", "unit": UNIT, "title": "T"})
    assert "nope" in assert_problem(response, 404)["detail"]


def test_a_title_that_turns_the_text_around_is_refused_at_its_field(api, engine):
    before = audit_count(engine)
    response = api.post("pia", "/cycles", json={"unit": UNIT, "title": "Q1 \u202eevil"})
    errors = assert_problem(response, 422)["errors"]
    assert errors["title"][0].startswith("must not contain U+202E RIGHT-TO-LEFT OVERRIDE")
    assert audit_count(engine) == before


def test_auditors_do_not_start_cycles(api, engine):
    before = audit_count(engine)
    response = api.post("audrey", "/cycles", json={"unit": UNIT, "title": "T"})
    assert_problem(response, 403, type="urn:picycle:problem:permission-denied")
    assert audit_count(engine) == before


def test_reading_a_cycle_shows_what_it_has_recorded(api, walker):
    walk = walker()
    fresh = walk.cycle()
    assert "indicators" not in fresh and not fresh.get("gaps")
    walk.assess()
    cycle = api.get("dana", f"/cycles/{walk.cycle_id}").json
    assert cycle["indicators"] == INDICATORS
    assert [g["gap"] for g in cycle["gaps"]] == [25, 60]
    assert [t["element_id"] for t in cycle["open_tasks"]] == ["identify_gaps"]


def test_an_unknown_cycle_is_a_404(api):
    assert_problem(api.get("pia", "/cycles/12345"), 404)
    assert_problem(api.post("ada", "/cycles/12345/cancel", json={"reason": "x"}), 404)


def test_a_whole_cycle_through_the_api(api, walker, clock, engine):
    walk = walker()
    walk.assess()
    walk.identify_gaps()
    walk.design(clock().date())
    walk.approve()
    walk.implement_all()
    walk.evaluate(permits=82, backlog=55)
    walk.institutionalise()
    walk.plan_next()
    cycle = walk.cycle()
    assert cycle["status"] == "completed"
    assert cycle["ended_at"] is not None
    assert cycle["targets_met"] is True
    assert cycle["open_tasks"] == []
    assert {p["title"] for p in cycle["microprojects"]} == {"Digital intake", "Triage desk"}
    assert "evaluation" in cycle
    assert audit_events(engine, "cycle_completed")[-1].cycle_id == walk.cycle_id

    second = api.post("pia", "/cycles", json={"unit": UNIT, "title": "Next round"}).json
    assert (second["cycle_number"], second["previous_cycle_id"]) == (2, walk.cycle_id)


def test_listing_cycles_filters_and_pages_with_a_total(api, start_cycle):
    for n in range(5):
        start_cycle(unit=f"Unit {n}", title=f"Cycle of unit {n}")
    api.post("ada", "/cycles/1/cancel", json={"reason": "Wrong unit"})

    everything = api.get("audrey", "/cycles").json
    assert everything["total"] == 5
    assert [c["unit"] for c in everything["items"]] == [f"Unit {n}" for n in (4, 3, 2, 1, 0)]
    assert (everything["limit"], everything["offset"]) == (50, 0)
    assert "open_tasks" not in everything["items"][0]

    page = api.get("pia", "/cycles?limit=2&page=2").json
    assert (page["total"], page["offset"]) == (5, 2)
    assert [c["unit"] for c in page["items"]] == ["Unit 2", "Unit 1"]
    assert [c["unit"] for c in api.get("pia", "/cycles?limit=2&offset=4").json["items"]] == [
        "Unit 0"
    ]
    assert api.get("pia", "/cycles?status=cancelled").json["total"] == 1
    assert api.get("pia", "/cycles?status=running&unit=Unit 3").json["total"] == 1
    assert api.get("pia", "/cycles?process_id=other").json["total"] == 0


def test_bad_list_parameters_are_a_422(api):
    for query in ["limit=0", "limit=201", "offset=-1", "page=0", "status=paused", "limit=many"]:
        body = assert_problem(api.get("pia", f"/cycles?{query}"), 422)
        assert query.split("=")[0] in body["errors"], body


def test_an_admin_cancels_a_cycle_with_a_reason(api, start_cycle, engine):
    cycle = start_cycle()
    response = api.post("ada", f"/cycles/{cycle['id']}/cancel", json={"reason": "Wrong unit"})
    assert response.status_code == 200
    assert response.json["status"] == "cancelled"
    assert response.json["open_tasks"] == []
    (event,) = audit_events(engine, "cycle_cancelled")
    assert (event.actor, event.data["reason"]) == ("ada", "Wrong unit")
    assert api.get("pia", "/tasks").json["total"] == 0
    again = api.post("ada", f"/cycles/{cycle['id']}/cancel", json={"reason": "Twice"})
    assert_problem(again, 409)


def test_cancelling_needs_a_reason(api, start_cycle):
    cycle = start_cycle()
    for body in [{}, {"reason": ""}, {"reason": "  "}]:
        response = api.post("ada", f"/cycles/{cycle['id']}/cancel", json=body)
        assert "reason" in assert_problem(response, 422)["errors"]
    assert api.get("ada", f"/cycles/{cycle['id']}").json["status"] == "running"


@pytest.mark.parametrize("who", ["pia", "audrey"])
def test_only_admins_cancel(api, start_cycle, who):
    cycle = start_cycle()
    assert_problem(api.post(who, f"/cycles/{cycle['id']}/cancel", json={"reason": "x"}), 403)
    assert api.get(who, f"/cycles/{cycle['id']}").json["status"] == "running"


def test_odd_start_data_never_makes_a_500(api):
    for n, data in enumerate([{"indicators": "x"}, {"indicators": [1, 2]}, {"gaps": 5}]):
        response = api.post("pia", "/cycles", json={"unit": f"U{n}", "title": "T", "data": data})
        assert response.status_code in (201, 422), response.json
        if response.status_code == 201:
            shown = api.get("pia", f"/cycles/{response.json['id']}")
            assert shown.status_code == 200
