"""The inbox through the API: listing, reading, claiming, completing, commenting."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.services import users

from tests.api.conftest import ASSESSMENT, assert_problem, audit_count, audit_events
from tests.support import INDICATORS, UNIT

# --- the inbox -----------------------------------------------------------------------------


def test_the_assessment_is_in_the_pi_units_inbox_only(api, assessment_task):
    mine = api.get("pia", "/tasks").json
    assert [t["id"] for t in mine["items"]] == [assessment_task["id"]]
    assert (mine["total"], mine["limit"], mine["offset"]) == (1, 50, 0)
    assert api.get("pim", "/tasks?scope=groups").json["total"] == 1
    assert api.get("dana", "/tasks").json["total"] == 0


def test_scope_all_is_for_admins_and_auditors(api, assessment_task):
    assert_problem(api.get("pia", "/tasks?scope=all"), 403)
    assert api.get("audrey", "/tasks?scope=all").json["total"] == 1
    assert api.get("ada", "/tasks?scope=all").json["total"] == 1
    assert api.get("audrey", "/tasks").json["total"] == 0


def test_a_claimed_task_leaves_the_groups_view_but_stays_in_the_holders(api, assessment_task):
    api.post("pia", f"/tasks/{assessment_task['id']}/claim")
    assert api.get("pia", "/tasks").json["total"] == 1
    assert api.get("pia", "/tasks?scope=groups").json["total"] == 0
    assert api.get("pim", "/tasks").json["total"] == 0


def test_the_inbox_filters_by_cycle_unit_and_process_and_pages(api, start_cycle):
    cycles = [start_cycle(unit=f"Unit {n}")["id"] for n in range(3)]
    assert api.get("pia", f"/tasks?cycle={cycles[1]}").json["total"] == 1
    assert api.get("pia", "/tasks?unit=Unit 2").json["items"][0]["cycle_id"] == cycles[2]
    assert api.get("pia", "/tasks?process_id=pi_cycle").json["total"] == 3
    assert api.get("pia", "/tasks?process_id=other").json["total"] == 0
    # A misspelt unit is refused at its field, not answered with an empty list.
    for path in ("/tasks?unit=Unit 9", "/cycles?unit=Unit 9", "/audit/events?unit=Unit 9"):
        refused = api.get("audrey", path)
        assert refused.status_code == 422, path
        assert refused.json["errors"] == {"unit": ["there is no unit 'Unit 9'"]}
    page = api.get("pia", "/tasks?limit=2&page=2").json
    assert (page["total"], page["offset"], len(page["items"])) == (3, 2, 1)
    assert len(api.get("pia", "/tasks?limit=1&offset=1").json["items"]) == 1


def test_bad_inbox_parameters_are_a_422(api):
    for query in [
        "scope=everything",
        "limit=0",
        "limit=201",
        "sort=title",
        "cycle=0",
        "overdue=perhaps",
    ]:
        body = assert_problem(api.get("pia", f"/tasks?{query}"), 422)
        assert query.split("=")[0] in body["errors"], body


def test_due_dates_overdue_and_sorting(api, walker, clock):
    walk = walker()
    walk.assess()
    walk.identify_gaps()
    walk.design(clock().date(), due_in_days=20)
    walk.approve()
    (task,) = api.get("dana", "/tasks").json["items"]
    assert task["title"] and task["assignee"] == "dana"
    assert task["due_at"] == "2026-03-22T23:59:59+00:00"
    assert api.get("dana", "/tasks?overdue=true").json["total"] == 0
    assert api.get("dana", "/tasks?due_before=2026-03-23T00:00:00Z").json["total"] == 1
    assert api.get("dana", "/tasks?due_before=2026-03-22").json["total"] == 0
    assert api.get("dana", "/tasks?due_before=2026-03-22T23:00:00").json["total"] == 0
    all_open = api.get("ada", "/tasks?scope=all&sort=due").json["items"]
    assert [t["assignee"] for t in all_open] == ["dana", "omar"] or [
        t["assignee"] for t in all_open
    ] == ["omar", "dana"]
    clock.advance(days=21)
    assert api.get("dana", "/tasks?overdue=true").json["total"] == 1


def test_an_inbox_item_has_the_fields_it_always_had(api, assessment_task):
    (item,) = api.get("pia", "/tasks").json["items"]
    assert item == {
        "id": assessment_task["id"],
        "cycle_id": assessment_task["cycle_id"],
        "element_id": "assess_performance",
        "title": "Assess performance",
        "candidate_group": "PI Unit",
        "assignee": None,
        "claimed_by": None,
        "state": "open",
        "created_at": "2026-03-02T09:00:00+00:00",
        "due_at": None,
    }


def test_pages_of_the_inbox_run_across_held_assigned_and_group_tasks(api, walker, clock):
    """dana's inbox: a microproject assigned to her, her group's open 'Identify gaps', and
    one she holds; omar holds another, which is his alone."""
    implementing = walker(unit="Unit 1")
    implementing.assess()
    implementing.identify_gaps()
    implementing.design(clock().date())
    implementing.approve()
    gaps = {}
    for unit in ("Unit 2", "Unit 3", "Unit 4"):
        clock.advance(hours=1)
        walk = walker(unit=unit)
        walk.assess()
        gaps[unit] = walk.task("identify_gaps")["id"]
    api.post("dana", f"/tasks/{gaps['Unit 3']}/claim")
    api.post("omar", f"/tasks/{gaps['Unit 4']}/claim")

    whole = api.get("dana", "/tasks").json
    ids = [task["id"] for task in whole["items"]]
    assert [task["element_id"] for task in whole["items"]] == [
        "implement_microproject",
        "identify_gaps",
        "identify_gaps",
    ]
    assert (ids[1:], whole["total"]) == ([gaps["Unit 2"], gaps["Unit 3"]], 3)
    for offset in range(4):
        page = api.get("dana", f"/tasks?limit=1&offset={offset}").json
        assert ([t["id"] for t in page["items"]], page["total"]) == (ids[offset : offset + 1], 3)
    by_due = api.get("dana", "/tasks?sort=due&limit=2").json
    assert (by_due["items"][0]["id"], by_due["total"]) == (ids[0], 3)
    assert api.get("omar", "/tasks?scope=groups").json["items"][0]["id"] == gaps["Unit 2"]
    assert api.get("omar", "/tasks?scope=groups").json["total"] == 1
    assert api.get("omar", "/tasks").json["total"] == 3


# --- reading a task ------------------------------------------------------------------------


def test_a_task_shows_its_form_and_starting_data(api, assessment_task):
    response = api.get("pia", f"/tasks/{assessment_task['id']}")
    assert response.status_code == 200
    task = response.json
    assert (task["title"], task["candidate_group"], task["element_id"]) == (
        "Assess performance",
        "PI Unit",
        "assess_performance",
    )
    assert task["instructions"]
    assert task["form_schema"]["properties"]["indicators"]["type"] == "array"
    assert task["form_data"] == {"unit": UNIT, "title": "Faster permits"}
    assert (task["state"], task["claimed_by"], task["completed_by"]) == ("open", None, None)


def test_who_may_read_a_task(api, assessment_task):
    path = f"/tasks/{assessment_task['id']}"
    assert api.get("audrey", path).status_code == 200
    assert api.get("ada", path).status_code == 200
    assert_problem(api.get("dana", path), 403)
    assert_problem(api.get("pia", "/tasks/00000000-0000-0000-0000-000000000000"), 404)


# --- claiming ------------------------------------------------------------------------------


def test_claiming_and_unclaiming(api, assessment_task, engine):
    path = f"/tasks/{assessment_task['id']}"
    response = api.post("pia", f"{path}/claim")
    assert response.status_code == 200
    assert response.json["claimed_by"] == "pia"
    assert api.post("pia", f"{path}/claim").status_code == 200  # already hers: no change
    assert len(audit_events(engine, "task_claimed")) == 1
    assert "held by pia" in assert_problem(api.post("pim", f"{path}/claim"), 409)["detail"]
    assert_problem(api.post("pim", f"{path}/unclaim"), 409)
    response = api.post("pia", f"{path}/unclaim")
    assert (response.status_code, response.json["claimed_by"]) == (200, None)
    assert_problem(api.post("pia", f"{path}/unclaim"), 409)
    assert api.post("pim", f"{path}/claim").json["claimed_by"] == "pim"
    assert api.post("ada", f"{path}/unclaim").json["claimed_by"] is None
    (event, *_) = audit_events(engine, "task_unclaimed")
    assert event.data["previous_holder"] == "pia"


def test_a_member_cannot_claim_another_groups_task(api, assessment_task, engine):
    before = audit_count(engine)
    response = api.post("dana", f"/tasks/{assessment_task['id']}/claim")
    body = assert_problem(response, 403)
    assert "PI Unit" in body["detail"]
    assert audit_count(engine) == before


def test_outside_the_group_a_held_task_is_403_not_a_note_of_its_holder(
    api, assessment_task, engine
):
    path = f"/tasks/{assessment_task['id']}"
    assert api.post("pia", f"{path}/claim").status_code == 200
    before = audit_count(engine)
    for verb, body in (("claim", None), ("complete", {"data": ASSESSMENT})):
        refused = assert_problem(api.post("dana", f"{path}/{verb}", json=body), 403)
        assert "PI Unit" in refused["detail"] and "pia" not in refused["detail"]
    assert audit_count(engine) == before
    assert len(audit_events(engine, "access_denied")) == 2
    assert api.get("pia", path).json["claimed_by"] == "pia"


def test_claiming_an_unknown_task_is_a_404(api):
    assert_problem(api.post("pia", "/tasks/00000000-0000-0000-0000-000000000000/claim"), 404)


# --- completing ----------------------------------------------------------------------------


def test_completing_moves_the_cycle_on(api, assessment_task, engine):
    path = f"/tasks/{assessment_task['id']}"
    response = api.post("pia", f"{path}/complete", json={"data": ASSESSMENT})
    assert response.status_code == 200
    done = response.json
    assert (done["state"], done["completed_by"], done["claimed_by"]) == ("completed", "pia", "pia")
    assert done["ended_at"] is not None
    (event,) = audit_events(engine, "task_completed")
    assert (event.actor, event.data["data"]) == ("pia", {"indicators": INDICATORS})
    cycle = api.get("pia", f"/cycles/{assessment_task['cycle_id']}").json
    assert [t["title"] for t in cycle["open_tasks"]] == ["Identify gaps"]
    assert api.get("dana", "/tasks").json["items"][0]["title"] == "Identify gaps"
    assert api.get("pia", path).status_code == 200  # the completer still reads it
    again = api.post("pia", f"{path}/complete", json={"data": ASSESSMENT})
    assert "no longer open" in assert_problem(again, 409)["detail"]


BROKEN_ASSESSMENTS = [
    ({"indicators": [{**INDICATORS[0], "direction": "sideways"}]}, {"indicators.0.direction"}),
    ({"indicators": [{**INDICATORS[0], "baseline": "many"}]}, {"indicators.0.baseline"}),
    ({"indicators": []}, {"indicators"}),
    ({}, {"indicators"}),
    ({"indicators": INDICATORS, "mood": "good"}, {"mood"}),
    ({"indicators": [INDICATORS[0], INDICATORS[0]]}, {"indicators.1.key"}),
]


def test_form_data_that_breaks_the_form_changes_nothing(api, assessment_task, engine):
    before = audit_count(engine)
    path = f"/tasks/{assessment_task['id']}"
    for data, fields in BROKEN_ASSESSMENTS:
        response = api.post("pia", f"{path}/complete", json={"data": data})
        body = assert_problem(response, 422, type="urn:picycle:problem:validation-failed")
        assert set(body["errors"]) == fields, body
    assert audit_count(engine) == before
    task = api.get("pia", path).json
    assert (task["state"], task["claimed_by"]) == ("open", None)
    cycle = api.get("pia", f"/cycles/{assessment_task['cycle_id']}").json
    assert [t["id"] for t in cycle["open_tasks"]] == [assessment_task["id"]]


def test_the_completion_body_is_checked_first(api, assessment_task, engine):
    before = audit_count(engine)
    path = f"/tasks/{assessment_task['id']}/complete"
    for body, field in [
        ({"data": ASSESSMENT, "extra": 1}, "extra"),
        ({"data": [1]}, "data"),
        ({"data": 3}, "data"),
    ]:
        assert field in assert_problem(api.post("pia", path, json=body), 422)["errors"]
    assert audit_count(engine) == before


def test_only_the_lanes_group_completes_its_task(api, assessment_task):
    response = api.post("dana", f"/tasks/{assessment_task['id']}/complete", json={"data": {}})
    assert_problem(response, 403)


def test_an_assigned_task_is_for_its_assignee(api, walker, clock):
    walk = walker()
    walk.assess()
    walk.identify_gaps()
    walk.design(clock().date())
    walk.approve()
    dana_task = api.get("dana", "/tasks").json["items"][0]
    response = api.post(
        "omar",
        f"/tasks/{dana_task['id']}/complete",
        json={"data": {"status": "done", "report": "x"}},
    )
    assert "assigned to dana" in assert_problem(response, 403)["detail"]


def test_two_people_completing_at_once_one_wins_the_other_gets_409(app, auth, assessment_task):
    path = f"/api/v1/tasks/{assessment_task['id']}/complete"
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def complete(who: str) -> None:
        client = app.test_client()
        barrier.wait()
        try:
            response = client.post(path, json={"data": ASSESSMENT}, headers=auth(who))
            results[who] = (response.status_code, response.json)
        except Exception as error:  # reported below
            results[who] = error

    threads = [threading.Thread(target=complete, args=(who,)) for who in ("pia", "pim")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    statuses = sorted(result[0] for result in results.values())
    assert statuses == [200, 409], results
    loser = next(body for status, body in results.values() if status == 409)
    assert loser["type"] == "urn:picycle:problem:conflict"
    client = app.test_client()
    cycle = client.get(f"/api/v1/cycles/{assessment_task['cycle_id']}", headers=auth("audrey")).json
    assert [t["title"] for t in cycle["open_tasks"]] == ["Identify gaps"]


# --- auditors read, never write ------------------------------------------------------------


def test_auditors_read_everything_but_every_write_is_403(api, assessment_task, engine):
    task = f"/tasks/{assessment_task['id']}"
    cycle = f"/cycles/{assessment_task['cycle_id']}"
    for path in ["/tasks?scope=all", task, f"{task}/comments", cycle, "/cycles", "/users"]:
        assert api.get("audrey", path).status_code == 200, path
    before = audit_count(engine)
    writes = [
        ("post", "/cycles", {"unit": "Elsewhere", "title": "T"}),
        ("post", f"{cycle}/cancel", {"reason": "x"}),
        ("post", f"{task}/claim", None),
        ("post", f"{task}/unclaim", None),
        ("post", f"{task}/complete", {"data": ASSESSMENT}),
        ("post", f"{task}/comments", {"text": "Looks fine"}),
        ("post", "/users", {"name": "eve"}),
        ("patch", "/users/pia", {"active": False}),
        ("post", "/users/pia/tokens", None),
        ("post", "/users/pia/tokens/revoke", None),
        ("post", "/users/pia/tokens/1/revoke", None),
    ]
    for method, path, body in writes:
        kwargs = {"json": body} if body is not None else {}
        response = getattr(api, method)("audrey", path, **kwargs)
        assert_problem(response, 403)
    assert audit_count(engine) == before


# --- comments ------------------------------------------------------------------------------


def test_commenting_on_a_task(api, assessment_task, engine):
    path = f"/tasks/{assessment_task['id']}/comments"
    response = api.post("pia", path, json={"text": "Which indicators did we use last year?"})
    assert response.status_code == 201
    comment = response.json
    assert (comment["author"], comment["task_id"]) == ("pia", assessment_task["id"])
    api.post("pim", path, json={"text": "Permits and backlog."})
    listed = api.get("audrey", path).json["items"]
    assert [(c["author"], c["text"]) for c in listed] == [
        ("pia", "Which indicators did we use last year?"),
        ("pim", "Permits and backlog."),
    ]
    events = audit_events(engine, "task_commented")
    assert [(e.actor, e.task_id, e.cycle_id) for e in events] == [
        ("pia", assessment_task["id"], assessment_task["cycle_id"]),
        ("pim", assessment_task["id"], assessment_task["cycle_id"]),
    ]
    assert events[0].data["text"] == "Which indicators did we use last year?"
    assert events[0].data["comment_id"] == comment["id"]


def test_who_may_comment(api, assessment_task):
    path = f"/tasks/{assessment_task['id']}/comments"
    assert_problem(api.post("dana", path, json={"text": "Hello"}), 403)
    assert_problem(api.get("dana", path), 403)
    assert_problem(api.post("audrey", path, json={"text": "Noted"}), 403)
    assert api.post("ada", path, json={"text": "Admin note"}).status_code == 201
    api.post("pia", f"/tasks/{assessment_task['id']}/complete", json={"data": ASSESSMENT})
    assert api.post("pia", path, json={"text": "Done; see the gaps"}).status_code == 201


def test_a_bad_comment_is_a_422(api, assessment_task, engine):
    before = audit_count(engine)
    path = f"/tasks/{assessment_task['id']}/comments"
    for body in [{}, {"text": ""}, {"text": "   "}, {"text": "x" * 10_001}, {"text": "a", "b": 1}]:
        assert_problem(api.post("pia", path, json=body), 422)
    assert audit_count(engine) == before
    assert api.get("pia", path).json["items"] == []


def test_comments_on_an_unknown_task_are_a_404(api):
    path = "/tasks/00000000-0000-0000-0000-000000000000/comments"
    assert_problem(api.get("pia", path), 404)
    assert_problem(api.post("pia", path, json={"text": "x"}), 404)


def test_assigned_tasks_due_dates_are_end_of_day(api, walker, clock):
    walk = walker()
    walk.assess()
    walk.identify_gaps()
    walk.design(clock().date(), due_in_days=5)
    walk.approve()
    due = [t["due_at"] for t in api.get("omar", "/tasks").json["items"]]
    assert due == [(clock() + timedelta(days=5)).strftime("%Y-%m-%dT23:59:59+00:00")]


@pytest.mark.parametrize("owner", ["audrey", "nobody", "gone"])
def test_a_microproject_owner_must_be_someone_who_can_work_the_task(
    api, walker, clock, engine, owner
):
    """An auditor (or a stranger, or a deactivated user) as owner would leave the
    implementation task to nobody who may complete it: the design is refused and nothing
    changes."""
    with engine.unit_of_work() as uow:
        users.add_user(uow, SYSTEM, "gone", "member", ["Department Team"])
    with engine.unit_of_work() as uow:
        users.update_user(uow, SYSTEM, "gone", active=False)
    walk = walker()
    walk.assess()
    walk.identify_gaps()
    task = walk.task("design_microprojects")
    due = (clock().date() + timedelta(days=30)).isoformat()
    project = {"title": "Triage", "gap": "backlog", "owner": owner, "due": due, "deliverable": "x"}
    before = audit_count(engine)
    response = api.post(
        "dana", f"/tasks/{task['id']}/complete", json={"data": {"microprojects": [project]}}
    )
    body = assert_problem(response, 422, type="urn:picycle:problem:validation-failed")
    assert list(body["errors"]) == ["microprojects.0.owner"]
    (message,) = body["errors"]["microprojects.0.owner"]
    assert f"'{owner}', who is not an active user able to work its tasks" in message
    assert audit_count(engine) == before
