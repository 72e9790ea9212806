"""The audit trail through the API: histories, filtered events, streamed exports read back,
verification, a cycle's path through its model, and refused writes on the record."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
from picycle.engine import UnitOfWork
from sqlalchemy import text
from werkzeug.test import EnvironBuilder

from tests.api.conftest import ASSESSMENT, assert_problem, audit_count
from tests.support import UNIT
from tests.xes import completed, read_traces, resources, trace_name

OTHER_UNIT = "Directorate of Finance"
EVENT_FIELDS = {
    "seq",
    "at",
    "actor",
    "type",
    "cycle_id",
    "task_id",
    "element_id",
    "data",
    "hash",
}


def whole_cycle(walker, clock) -> int:
    """A cycle from assessment to institutionalisation, leadership sending the design back
    once; a day passes between steps."""
    walk = walker()
    steps = [
        walk.assess,
        walk.identify_gaps,
        lambda: walk.design(clock().date()),
        lambda: walk.complete(
            "lena", "leadership_approval", {"approved": False, "comment": "Name the forms"}
        ),
        lambda: walk.design(clock().date()),
        walk.approve,
        walk.implement_all,
        lambda: walk.evaluate(permits=82, backlog=55),
        walk.institutionalise,
        walk.plan_next,
    ]
    for step in steps:
        clock.advance(days=1)
        step()
    return walk.cycle_id


def everything(api, who="audrey", query="") -> list[dict]:
    """Every event of a selection, through the paged listing."""
    items, page = [], 1
    while True:
        body = api.get(who, f"/audit/events?limit=200&page={page}{query}").json
        items += body["items"]
        if len(items) >= body["total"]:
            return items
        page += 1


def tamper(engine, *statements: str) -> None:
    """Change the events table behind the application's back, its guard removed."""
    with engine.database.begin() as connection:
        if engine.database.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
            connection.execute(text("DROP TRIGGER audit_events_no_delete"))
        for statement in statements:
            connection.execute(text(statement))


# --- a cycle's history -----------------------------------------------------------------------


def test_a_cycles_history_is_its_events_in_order_and_paged(api, walker, clock):
    cycle_id = whole_cycle(walker, clock)
    history = api.get("audrey", f"/cycles/{cycle_id}/history?limit=200").json
    items = history["items"]
    assert history["total"] == len(items) > 20
    assert (history["limit"], history["offset"]) == (200, 0)
    assert [e["seq"] for e in items] == sorted(e["seq"] for e in items)
    assert all(set(e) == EVENT_FIELDS and e["cycle_id"] == cycle_id for e in items)
    assert (items[0]["type"], items[0]["actor"]) == ("cycle_started", "pia")
    assert items[0]["data"]["unit"] == UNIT
    assert [(i["type"], i["actor"]) for i in items[-2:]] == [
        ("cycle_completed", "pia"),
        ("next_cycle_scheduled", "pia"),
    ]
    assert all(len(e["hash"]) == 64 for e in items)
    assert datetime.fromisoformat(items[-1]["at"]) > datetime.fromisoformat(items[0]["at"])

    page = api.get("audrey", f"/cycles/{cycle_id}/history?limit=5&page=3").json
    assert (page["total"], page["limit"], page["offset"]) == (len(items), 5, 10)
    assert page["items"] == items[10:15]
    assert (
        api.get("audrey", f"/cycles/{cycle_id}/history?offset=12&limit=2").json["items"]
        == items[12:14]
    )


def test_who_reads_which_history(api, walker, start_cycle, engine):
    walk = walker()
    walk.assess()
    walk.identify_gaps()  # dana takes part now
    other = start_cycle(unit=OTHER_UNIT, who="ada")["id"]
    for who in ("audrey", "ada", "pia", "dana"):
        assert api.get(who, f"/cycles/{walk.cycle_id}/history").status_code == 200, who
    for who in ("audrey", "ada"):
        assert api.get(who, f"/cycles/{other}/history").status_code == 200, who
    refused = assert_problem(api.get("dana", f"/cycles/{other}/history"), 403)
    assert refused["type"] == "urn:picycle:problem:permission-denied"
    assert "takes no part" in refused["detail"]
    assert_problem(api.get("pim", f"/cycles/{walk.cycle_id}/history"), 403)  # never acted
    assert_problem(api.get("audrey", "/cycles/9999/history"), 404)
    assert_problem(api.get(None, f"/cycles/{other}/history"), 401)
    assert_problem(api.get("audrey", f"/cycles/{other}/history?limit=201"), 422)
    assert_problem(api.get("audrey", f"/cycles/{other}/history?sort=seq"), 422)
    # Refused reads are not recorded.
    assert everything(api, query="&type=access_denied") == []


# --- events, filtered ------------------------------------------------------------------------


def test_events_are_filtered_by_cycle_unit_actor_type_and_time(api, walker, start_cycle, clock):
    first = whole_cycle(walker, clock)
    clock.advance(days=1)
    second = start_cycle(unit=OTHER_UNIT, who="ada")["id"]
    every = everything(api)
    assert [e["seq"] for e in every] == sorted(e["seq"] for e in every)
    assert {e["cycle_id"] for e in every} == {None, first, second}

    def selected(query: str) -> list[dict]:
        return everything(api, query="&" + query)

    assert selected(f"cycle={second}") == [e for e in every if e["cycle_id"] == second]
    assert selected(f"unit={UNIT}") == [e for e in every if e["cycle_id"] == first]
    decisions = selected("actor=lena&type=task_completed")
    assert [e["data"]["title"] for e in decisions] == [
        "Leadership approval",
        "Leadership approval",
        "Institutionalise and share",
    ]
    assert decisions[0]["data"]["data"] == {"approved": False, "comment": "Name the forms"}
    assert selected("actor=Lena&type=task_completed") == decisions  # as user names are kept
    assert selected(f"unit={OTHER_UNIT}&actor=lena") == []

    # Day 1 of the cycle is 2026-03-03 09:00 UTC; the assessment was completed then.
    assessed = [e for e in every if e["at"].startswith("2026-03-03")]
    assert assessed and {e["actor"] for e in assessed} == {"pia"}
    day = "since=2026-03-03T09:00:00&until=2026-03-04T09:00:00"
    assert selected(day) == assessed
    same_day = "since=2026-03-03T11:00:00%2B02:00&until=2026-03-04T09:00:00Z"
    assert selected(same_day) == assessed
    assert selected("since=2026-03-03T09:00:01Z&until=2026-03-04T09:00:00Z") == []
    assert selected("since=2030-01-01T00:00:00Z") == []

    paged = api.get("ada", "/audit/events?limit=3&page=2").json
    assert (paged["total"], paged["offset"], paged["items"]) == (len(every), 3, every[3:6])


def test_only_auditors_and_admins_read_every_event(api, start_cycle):
    start_cycle()
    assert api.get("ada", "/audit/events").status_code == 200
    assert_problem(api.get("pia", "/audit/events"), 403)
    assert_problem(api.get("pia", "/audit/events?format=csv"), 403)
    assert_problem(api.get(None, "/audit/events"), 401)


@pytest.mark.parametrize(
    "query",
    ["since=yesterday", "until=2026-13-01", "format=pdf", "cycle=0", "limit=500", "colour=red"],
)
def test_bad_event_filters_are_a_422(api, query):
    body = assert_problem(api.get("audrey", f"/audit/events?{query}"), 422)
    assert query.split("=")[0] in body["errors"], body


# --- exports ---------------------------------------------------------------------------------


def export(api, query: str, who: str = "audrey"):
    response = api.get(who, f"/audit/events?{query}", buffered=False)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.is_streamed
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=audit-events-")
    content = response.get_data(as_text=True)
    response.close()
    return response, disposition, content


def test_csv_export_reads_back_as_the_listing(api, walker, start_cycle, clock):
    first = whole_cycle(walker, clock)
    start_cycle(unit=OTHER_UNIT, who="ada")
    listed = everything(api, query=f"&cycle={first}")
    response, disposition, content = export(api, f"cycle={first}&format=csv&limit=1")
    assert response.mimetype == "text/csv"
    assert disposition.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert len(rows) == len(listed)  # the whole selection: paging does not apply
    assert [int(r["seq"]) for r in rows] == [e["seq"] for e in listed]
    assert [r["hash"] for r in rows] == [e["hash"] for e in listed]
    assert [json.loads(r["data"]) for r in rows] == [e["data"] for e in listed]
    assert {r["actor"] for r in rows} == {"pia", "dana", "omar", "lena"}


def test_json_lines_export_reads_back_line_by_line(api, walker, clock):
    whole_cycle(walker, clock)
    listed = everything(api, query="&type=task_completed")
    response, disposition, content = export(api, "type=task_completed&format=jsonl")
    assert response.mimetype == "application/x-ndjson"
    assert disposition.endswith(".jsonl")
    lines = content.splitlines()
    assert len(lines) == len(listed) == 11
    for line, event in zip(lines, listed, strict=True):
        exported = json.loads(line)
        assert exported == {**event, "at": exported["at"]}
        assert datetime.fromisoformat(exported["at"]) == datetime.fromisoformat(event["at"])


def test_xes_export_loads_in_a_process_mining_tool(api, walker, clock, tmp_path):
    first = whole_cycle(walker, clock)
    second = walker(unit=OTHER_UNIT)
    second.assess()
    response, disposition, content = export(api, "format=xes")
    assert response.mimetype == "application/xml"
    assert disposition.endswith(".xes")
    path = tmp_path / "cycles.xes"
    path.write_text(content)
    traces = read_traces(path)
    assert [trace_name(trace) for trace in traces] == [
        f"cycle {first}",
        f"cycle {second.cycle_id}",
    ]
    activities = completed(traces[0])
    assert activities[:6] == [
        "Assess performance",
        "Identify gaps",
        "Design microprojects",
        "Leadership approval",
        "Design microprojects",
        "Leadership approval",
    ]
    # The two microprojects ran in parallel: either order.
    assert sorted(activities[6:8]) == ["Implement: Digital intake", "Implement: Triage desk"]
    assert activities[8:] == [
        "Evaluate results",
        "Institutionalise and share",
        "Plan the next cycle",
    ]
    assert resources(traces[0]) == {"pia", "dana", "omar", "lena"}
    assert completed(traces[1]) == ["Assess performance"]


def test_an_empty_export_is_a_valid_file(api, tmp_path):
    _, _, content = export(api, "format=csv&actor=nobody")
    assert content.splitlines() == ["seq,at,actor,type,cycle_id,task_id,element_id,data,hash"]
    _, _, content = export(api, "format=jsonl&actor=nobody")
    assert content == ""
    _, _, content = export(api, "format=xes&actor=nobody")
    path = tmp_path / "empty.xes"
    path.write_text(content)
    assert read_traces(path) == []


def test_an_export_ends_its_unit_of_work_however_it_ends(
    api, app, auth, engine, start_cycle, monkeypatch
):
    start_cycle()
    pool = engine.database.pool
    open_now: dict[int, UnitOfWork] = {}
    enter, leave = UnitOfWork.__enter__, UnitOfWork.__exit__

    def entering(uow):
        open_now[id(uow)] = uow
        return enter(uow)

    def leaving(uow, *exc_info):
        open_now.pop(id(uow))
        return leave(uow, *exc_info)

    monkeypatch.setattr(UnitOfWork, "__enter__", entering)
    monkeypatch.setattr(UnitOfWork, "__exit__", leaving)
    export(api, "format=jsonl")  # read to the end
    assert (open_now, pool.checkedout()) == ({}, 0)

    partly = api.get("audrey", "/audit/events?format=csv", buffered=False)
    assert (len(open_now), pool.checkedout()) == (1, 1)  # held open for the download
    partly.close()  # a client that hangs up in the middle
    assert (open_now, pool.checkedout()) == ({}, 0)

    # A client that hangs up before the server sends a byte.
    environ = EnvironBuilder(
        path="/api/v1/audit/events", query_string="format=xes", headers=auth("audrey")
    ).get_environ()
    body = app(environ, lambda status, headers, exc_info=None: None)
    assert (len(open_now), pool.checkedout()) == (1, 1)
    body.close()
    assert (open_now, pool.checkedout()) == ({}, 0)


# --- verification ----------------------------------------------------------------------------


def test_an_intact_record_verifies(api, walker, clock):
    cycle_id = whole_cycle(walker, clock)
    every = everything(api)
    result = api.get("audrey", "/audit/verify").json
    assert result == {
        "intact": True,
        "events_checked": len(every),
        "chains_checked": 2,  # the cycle's and the global one (the users)
        "first_break": None,
        "breaks": [],
        "heads_key_sealed": False,  # the test server has no audit key
        "unsealed_heads": [],
        "damaged_evidence": [],
    }
    assert {e["cycle_id"] for e in every} == {None, cycle_id}
    assert api.get("ada", "/audit/verify").json["intact"] is True
    assert_problem(api.get("pia", "/audit/verify"), 403)


def test_an_edited_event_is_named(api, walker, clock, engine):
    cycle_id = whole_cycle(walker, clock)
    approval = everything(api, query="&actor=lena&type=task_completed")[1]
    assert approval["data"]["data"]["approved"] is True
    tamper(engine, f"UPDATE audit_events SET actor = 'mallory' WHERE seq = {approval['seq']}")
    response = api.get("audrey", "/audit/verify")
    assert response.status_code == 200
    result = response.json
    assert result["intact"] is False
    assert result["first_break"]["seq"] == approval["seq"]
    assert result["first_break"]["chain"] == f"cycle:{cycle_id}"
    assert "altered" in result["first_break"]["reason"]
    assert result["breaks"] == [result["first_break"]]


def test_deleted_events_are_detected(api, walker, clock, engine, start_cycle):
    cycle_id = whole_cycle(walker, clock)
    other = start_cycle(unit=OTHER_UNIT, who="ada")["id"]
    history = api.get("audrey", f"/cycles/{cycle_id}/history?limit=200").json["items"]
    tamper(
        engine,
        f"DELETE FROM audit_events WHERE seq = {history[3]['seq']}",
        f"DELETE FROM audit_events WHERE cycle_id = {other}",
    )
    result = api.get("audrey", "/audit/verify").json
    assert result["intact"] is False
    assert result["first_break"]["seq"] == history[4]["seq"]
    assert {b["chain"] for b in result["breaks"]} == {f"cycle:{cycle_id}", f"cycle:{other}"}
    whole = next(b for b in result["breaks"] if b["chain"] == f"cycle:{other}")
    assert whole["seq"] is None and "were deleted" in whole["reason"]


# --- refused writes on the record ------------------------------------------------------------


# The bodies of the writes that check their body before who sends it; the others are sent
# an empty object.
BODIES = {
    ("post", "/api/v1/cycles"): {"unit": "Elsewhere", "title": "T"},
    ("post", "/api/v1/cycles/{cycle_id}/cancel"): {"reason": "x"},
    ("patch", "/api/v1/cycles/{cycle_id}/next-cycle"): {"title": "T"},
    ("post", "/api/v1/cycles/{cycle_id}/next-cycle/cancel"): {"reason": "x"},
    ("post", "/api/v1/tasks/{task_id}/complete"): {"data": ASSESSMENT},
    ("post", "/api/v1/tasks/{task_id}/comments"): {"text": "Looks fine"},
    ("post", "/api/v1/users"): {"name": "eve"},
    ("patch", "/api/v1/users/{name}"): {"active": False},
    ("post", "/api/v1/units"): {"name": "Elsewhere"},
    ("post", "/api/v1/incidents/{incident_id}/dismiss"): {"reason": "x"},
    ("put", "/api/v1/users/{name}/single-sign-on"): {
        "issuer": "https://id.example.org",
        "subject": "audrey-elsewhere",
    },
}


def write_operations(api) -> list[tuple[str, str]]:
    """(method, path) of every write operation the API documents."""
    document = api.get(None, "/openapi.json").json
    return sorted(
        (method, path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in ("post", "put", "patch", "delete")
    )


def assessment_task_unit(api, task) -> int:
    return api.get("ada", f"/cycles/{task['cycle_id']}").json["unit_id"]


def test_an_auditor_changes_nothing_and_every_attempt_is_on_the_record(
    api, assessment_task, engine
):
    writes = write_operations(api)
    assert set(BODIES) < set(writes) and len(writes) >= 10
    values = {
        "cycle_id": assessment_task["cycle_id"],
        "task_id": assessment_task["id"],
        "name": "pia",
        "process_id": "pi_cycle",
        "incident_id": 1,
        "token_id": 1,
        "unit_id": assessment_task_unit(api, assessment_task),
    }
    before = audit_count(engine)
    sent = []
    for method, path in writes:
        url = path.removeprefix("/api/v1").format(**values)
        response = getattr(api, method)("audrey", url, json=BODIES.get((method, path), {}))
        refused = assert_problem(response, 403)
        assert refused["type"] == "urn:picycle:problem:permission-denied", (method, path)
        sent.append(f"{method.upper()} /api/v1{url}")
    assert audit_count(engine) == before  # nothing changed

    recorded = everything(api, query="&type=access_denied")
    assert [e["data"]["action"] for e in recorded] == sent
    assert {(e["actor"], e["data"]["role"], e["cycle_id"]) for e in recorded} == {
        ("audrey", "auditor", None)
    }
    assert all(e["data"]["reason"] for e in recorded)
    assert api.get("audrey", "/audit/verify").json["intact"] is True


def test_a_members_refused_write_is_recorded_but_not_a_missing_token(api, assessment_task):
    claim = f"/tasks/{assessment_task['id']}/claim"
    refused = assert_problem(api.post("dana", claim), 403)
    assert_problem(api.post(None, claim), 401)
    assert_problem(api.post(None, claim, headers={"Authorization": "Bearer pic_nope"}), 401)
    assert_problem(api.get("dana", "/users"), 403)  # a read: not recorded
    (event,) = everything(api, query="&type=access_denied")
    assert event["actor"] == "dana"
    assert event["data"] == {
        "action": f"POST /api/v1{claim}",
        "reason": refused["detail"],
        "role": "member",
    }


# --- the path through the model --------------------------------------------------------------


def test_the_path_of_a_whole_cycle(api, walker, clock):
    cycle_id = whole_cycle(walker, clock)
    response = api.get("dana", f"/cycles/{cycle_id}/path")
    assert response.status_code == 200
    path = response.json
    assert (path["cycle_id"], path["process_id"], path["version"]) == (cycle_id, "pi_cycle", 1)
    elements = {e["element_id"]: e for e in path["elements"]}
    passed = {key: (e["type"], e["times_completed"]) for key, e in elements.items()}
    assert passed == {
        "cycle_opened": ("startEvent", 1),
        "open_cycle": ("scriptTask", 1),
        "assess_performance": ("userTask", 1),
        "gap_analysis": ("exclusiveGateway", 1),
        "compute_gaps": ("scriptTask", 1),
        "identify_gaps": ("userTask", 1),
        "prioritise_gaps": ("businessRuleTask", 1),
        "design": ("exclusiveGateway", 2),
        "design_microprojects": ("userTask", 2),
        "leadership_approval": ("userTask", 2),
        "record_leadership_decision": ("scriptTask", 2),
        "design_approved": ("exclusiveGateway", 2),
        "implement_microprojects": ("subProcess", 1),
        "microproject_started": ("startEvent", 2),
        "microproject_due": ("exclusiveGateway", 2),
        "work_on_microproject": ("subProcess", 2),
        "work_started": ("startEvent", 2),
        "implement_microproject": ("userTask", 2),
        "work_reported": ("endEvent", 2),
        "due_date_moved": ("exclusiveGateway", 2),
        "record_implementation": ("scriptTask", 2),
        "microproject_implemented": ("endEvent", 2),
        "evaluate_results": ("userTask", 1),
        "compute_evaluation": ("scriptTask", 1),
        "targets_met": ("exclusiveGateway", 1),
        "institutionalise_and_share": ("userTask", 1),
        "next_step": ("exclusiveGateway", 1),
        "plan_next_cycle": ("userTask", 1),
        "cycle_completed": ("endEvent", 1),
    }
    assert not any(e["active"] for e in path["elements"])
    assert elements["assess_performance"]["name"] == "Assess performance"
    assert elements["design_approved"]["name"] == "Design approved?"
    assert elements["prioritise_gaps"]["name"] == "Prioritise gaps"

    design = elements["design_microprojects"]
    first, last = (
        datetime.fromisoformat(design[key]) for key in ("first_completed_at", "last_completed_at")
    )
    assert first < last
    assess = elements["assess_performance"]
    assert assess["first_completed_at"] == assess["last_completed_at"]
    order = [e["element_id"] for e in path["elements"]]
    assert order[:3] == ["cycle_opened", "open_cycle", "assess_performance"]
    assert order[-1] == "cycle_completed"

    flows = {(f["source"], f["target"]): f["times"] for f in path["flows"]}
    assert flows[("design_approved", "design")] == 1
    assert flows[("design_approved", "implement_microprojects")] == 1
    assert flows[("design", "design_microprojects")] == 2
    assert flows[("targets_met", "institutionalise_and_share")] == 1
    assert ("next_step", "gap_analysis") not in flows
    assert set(flows) <= {(s, t) for s in elements for t in elements}


def test_the_path_shows_where_a_cycle_is_now(api, walker, clock):
    walk = walker()
    start = api.get("pia", f"/cycles/{walk.cycle_id}/path").json["elements"]
    assert [(e["element_id"], e["active"]) for e in start if e["active"]] == [
        ("assess_performance", True)
    ]
    walk.assess()
    walk.identify_gaps()
    walk.design(clock().date())
    walk.approve()
    elements = {
        e["element_id"]: e
        for e in api.get("audrey", f"/cycles/{walk.cycle_id}/path").json["elements"]
    }
    active = {key for key, e in elements.items() if e["active"]}
    assert active == {
        "implement_microprojects",
        "work_on_microproject",
        "implement_microproject",
        "microproject_overdue",
    }
    now = elements["implement_microproject"]
    assert (now["times_completed"], now["first_completed_at"], now["last_completed_at"]) == (
        0,
        None,
        None,
    )
    assert elements["microproject_overdue"]["type"] == "boundaryEvent"
    assert elements["leadership_approval"]["times_completed"] == 1
    assert "evaluate_results" not in elements
    assert "design" in elements and not elements["design"]["active"]


def test_who_reads_a_cycles_path(api, start_cycle):
    cycle_id = start_cycle()["id"]
    other = start_cycle(unit=OTHER_UNIT, who="ada")["id"]
    assert api.get("pia", f"/cycles/{cycle_id}/path").status_code == 200
    assert api.get("audrey", f"/cycles/{other}/path").status_code == 200
    # pia's group may take the other cycle's open task: she takes part before she acts.
    assert api.get("pia", f"/cycles/{other}/path").status_code == 200
    assert (
        "takes no part" in assert_problem(api.get("lena", f"/cycles/{other}/path"), 403)["detail"]
    )
    assert_problem(api.get("audrey", "/cycles/9999/path"), 404)
    assert_problem(api.get(None, f"/cycles/{cycle_id}/path"), 401)


def test_a_cancelled_cycle_is_at_no_element(api, start_cycle):
    cycle_id = start_cycle()["id"]
    api.post("ada", f"/cycles/{cycle_id}/cancel", json={"reason": "Wrong unit"})
    elements = api.get("audrey", f"/cycles/{cycle_id}/path").json["elements"]
    assert [e["element_id"] for e in elements] == ["cycle_opened", "open_cycle"]
    assert not any(e["active"] for e in elements)
