"""Units through the API: the tree, its refusals, memberships, and a hostile member of
another unit."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_problem, audit_count, audit_events

MINISTRY, PLANNING, FINANCE = "Ministry of Public Works", "Planning Dept", "Finance Dept"


@pytest.fixture
def tree(api, tokens) -> dict[str, int]:
    """A ministry with two directorates below it; name -> id."""
    made = {}
    made[MINISTRY] = api.post("ada", "/units", json={"name": MINISTRY}).json["id"]
    for name in (PLANNING, FINANCE):
        response = api.post("ada", "/units", json={"name": name, "parent_id": made[MINISTRY]})
        assert response.status_code == 201, response.json
        made[name] = response.json["id"]
    return made


def test_an_admin_builds_the_tree_and_everyone_reads_it(api, tree, engine):
    listed = api.get("dana", "/units").json["items"]
    ours = [unit for unit in listed if unit["path"][0] == MINISTRY]
    assert [unit["path"] for unit in ours] == [
        [MINISTRY],
        [MINISTRY, FINANCE],
        [MINISTRY, PLANNING],
    ]
    planning = api.get("dana", f"/units/{tree[PLANNING]}").json
    assert (planning["parent_id"], planning["active"]) == (tree[MINISTRY], True)
    assert_problem(api.get("dana", "/units/999999"), 404)
    created = [e.data for e in audit_events(engine, "unit_created")][-1]
    assert created["after"] == {"name": FINANCE, "parent_id": tree[MINISTRY], "active": True}


@pytest.mark.parametrize(
    ("change", "status", "says"),
    [
        ({"name": FINANCE}, 409, "already a unit called"),  # a sibling's name
        ({"parent_id": 999999}, 422, "there is no unit #999999"),
    ],
)
def test_a_bad_change_is_refused_with_the_reason_and_changes_nothing(
    api, tree, engine, change, status, says
):
    before = audit_count(engine)
    body = assert_problem(api.patch("ada", f"/units/{tree[PLANNING]}", json=change), status)
    assert says in body["detail"]
    assert audit_count(engine) == before
    assert api.get("ada", f"/units/{tree[PLANNING]}").json["name"] == PLANNING


def test_a_unit_never_moves_under_itself_or_a_unit_below_it(api, tree, engine):
    before = audit_count(engine)
    for parent in (tree[PLANNING], tree[MINISTRY]):
        moved = api.patch("ada", f"/units/{tree[MINISTRY]}", json={"parent_id": parent})
        assert "loop" in assert_problem(moved, 409)["detail"]
    assert api.get("ada", f"/units/{tree[MINISTRY]}").json["parent_id"] is None
    assert audit_count(engine) == before


def test_a_duplicate_sibling_and_a_missing_parent_are_refused_on_adding(api, tree):
    again = api.post("ada", "/units", json={"name": PLANNING, "parent_id": tree[MINISTRY]})
    assert_problem(again, 409)
    orphan = api.post("ada", "/units", json={"name": "Orphan", "parent_id": 999999})
    assert "there is no unit #999999" in assert_problem(orphan, 422)["errors"]["parent_id"][0]
    # The same name below another parent is another unit.
    elsewhere = api.post("ada", "/units", json={"name": PLANNING, "parent_id": tree[FINANCE]})
    assert elsewhere.status_code == 201


@pytest.mark.parametrize(
    ("name", "unseen"),
    [
        ("Planning Dept\u200b", "U+200B ZERO WIDTH SPACE"),
        ("Planning \u202eDept", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("Planning Dept\u200f", "U+200F RIGHT-TO-LEFT MARK"),
    ],
)
def test_a_unit_name_that_would_pass_for_another_is_refused(api, tree, engine, name, unseen):
    before = audit_count(engine)
    added = api.post("ada", "/units", json={"name": name, "parent_id": tree[MINISTRY]})
    (message,) = assert_problem(added, 422)["errors"]["name"]
    assert unseen in message
    renamed = api.patch("ada", f"/units/{tree[FINANCE]}", json={"name": name})
    assert unseen in assert_problem(renamed, 422)["errors"]["name"][0]
    assert audit_count(engine) == before


def test_a_name_that_grows_when_normalised_is_measured_as_kept(api, tree, engine):
    # U+FDFA, one character, is 18 letters in NFKC: 20 of them would be 360.
    before = audit_count(engine)
    added = api.post("ada", "/units", json={"name": "\ufdfa" * 20, "parent_id": tree[MINISTRY]})
    assert "at most 255 characters" in assert_problem(added, 422)["errors"]["name"][0]
    grown = {"name": "q8", "groups": ["\ufdfa" * 10]}
    assert "groups" in assert_problem(api.post("ada", "/users", json=grown), 422)["errors"]
    assert audit_count(engine) == before


@pytest.mark.parametrize("name", ["\uff30lanning Dept", "Planning\u00a0Dept"])
def test_a_unit_name_in_a_compatibility_form_is_the_name_it_looks_like(api, tree, name):
    # A fullwidth P, a no-break space.
    again = api.post("ada", "/units", json={"name": name, "parent_id": tree[MINISTRY]})
    assert "already a unit called Planning Dept" in assert_problem(again, 409)["detail"]


def test_moving_a_unit_takes_the_units_below_it_along_and_is_audited(api, tree, engine):
    other = api.post("ada", "/units", json={"name": "Ministry of Finance"}).json["id"]
    moved = api.patch("ada", f"/units/{tree[FINANCE]}", json={"parent_id": other})
    assert moved.json["path"] == ["Ministry of Finance", FINANCE]
    below = api.post("ada", "/units", json={"name": "Payroll", "parent_id": tree[FINANCE]})
    api.patch("ada", f"/units/{tree[FINANCE]}", json={"parent_id": tree[MINISTRY]})
    payroll = api.get("ada", f"/units/{below.json['id']}").json
    assert payroll["path"] == [MINISTRY, FINANCE, "Payroll"]
    changed = [e.data for e in audit_events(engine, "unit_changed")]
    assert changed[0]["before"] == {"parent_id": tree[MINISTRY]}
    assert changed[0]["after"] == {"parent_id": other}


def test_a_unit_with_a_running_cycle_is_not_deactivated(api, tree, start_cycle):
    start_cycle(unit=PLANNING)
    refused = api.patch("ada", f"/units/{tree[PLANNING]}", json={"active": False})
    assert "running cycle" in assert_problem(refused, 409)["detail"]
    assert (
        api.patch("ada", f"/units/{tree[FINANCE]}", json={"active": False}).json["active"] is False
    )
    closed = api.post("pia", "/cycles", json={"unit": FINANCE, "title": "T"})
    assert "inactive" in assert_problem(closed, 409)["detail"]


def test_a_refused_deactivation_names_the_unit_as_it_is_not_as_renamed(
    api, tree, start_cycle, engine
):
    start_cycle(unit=PLANNING)
    before = audit_count(engine)
    change = {"name": "New Planning", "active": False}
    refused = api.patch("ada", f"/units/{tree[PLANNING]}", json=change)
    detail = assert_problem(refused, 409)["detail"]
    assert PLANNING in detail and "New Planning" not in detail
    assert api.get("ada", f"/units/{tree[PLANNING]}").json["name"] == PLANNING
    assert audit_count(engine) == before


def test_a_unit_is_not_deactivated_while_a_unit_below_it_is_active(api, tree, start_cycle, engine):
    start_cycle(unit=PLANNING)
    ministry = f"/units/{tree[MINISTRY]}"
    before = audit_count(engine)
    refused = assert_problem(api.patch("ada", ministry, json={"active": False}), 409)
    assert f"active unit below it, #{tree[FINANCE]} ({FINANCE})" in refused["detail"]
    assert "deactivate the units below it first" in refused["detail"]
    assert api.get("ada", ministry).json["active"] is True
    assert audit_count(engine) == before
    assert api.patch("ada", f"/units/{tree[FINANCE]}", json={"active": False}).status_code == 200
    refused = assert_problem(api.patch("ada", ministry, json={"active": False}), 409)
    assert f"#{tree[PLANNING]} ({PLANNING})" in refused["detail"]


def test_a_unit_below_an_inactive_one_is_not_reactivated(api, tree):
    for unit in (FINANCE, PLANNING, MINISTRY):
        assert api.patch("ada", f"/units/{tree[unit]}", json={"active": False}).status_code == 200
    refused = api.patch("ada", f"/units/{tree[FINANCE]}", json={"active": True})
    assert "reactivate that unit first" in assert_problem(refused, 409)["detail"]
    assert api.get("ada", f"/units/{tree[FINANCE]}").json["active"] is False
    assert api.patch("ada", f"/units/{tree[MINISTRY]}", json={"active": True}).status_code == 200
    assert api.patch("ada", f"/units/{tree[FINANCE]}", json={"active": True}).status_code == 200


def test_members_do_not_change_units(api, tree):
    assert_problem(api.post("pia", "/units", json={"name": "Mine"}), 403)
    assert_problem(api.patch("pia", f"/units/{tree[PLANNING]}", json={"name": "Mine"}), 403)


def test_a_cycle_for_an_unknown_unit_is_a_422_naming_it(api, tokens):
    body = assert_problem(api.post("pia", "/cycles", json={"unit": "Atlantis", "title": "T"}), 422)
    assert "there is no unit 'Atlantis'" in body["errors"]["unit"][0]


def test_an_unknown_unit_id_for_a_cycle_is_refused_at_unit_id(api, tokens):
    body = {"unit_id": 999999, "title": "T"}
    refused = assert_problem(api.post("pia", "/cycles", json=body), 422)
    assert list(refused["errors"]) == ["unit_id"]
    assert "there is no unit #999999" in refused["errors"]["unit_id"][0]


def test_a_name_two_units_share_must_be_given_as_an_id(api, tree):
    api.post("ada", "/units", json={"name": PLANNING, "parent_id": tree[FINANCE]})
    body = assert_problem(api.post("pia", "/cycles", json={"unit": PLANNING, "title": "T"}), 422)
    assert "several units" in body["detail"]
    by_id = api.post("pia", "/cycles", json={"unit_id": tree[PLANNING], "title": "T"})
    assert by_id.json["unit_id"] == tree[PLANNING]


# --- memberships -------------------------------------------------------------------------


def member(api, tokens, name: str, held: list[tuple[str, int | None]]) -> dict:
    memberships = [{"group": group, "unit": unit} for group, unit in held]
    response = api.post("ada", "/users", json={"name": name, "memberships": memberships})
    assert response.status_code == 201, response.json
    tokens[name] = response.json["token"]
    return response.json


def test_memberships_are_listed_audited_and_replaced_whole(api, tokens, tree, engine):
    created = member(
        api, tokens, "dina", [("Department Team", tree[PLANNING]), ("Leadership", None)]
    )
    assert created["groups"] == ["Leadership"]
    assert {(m["group"], m["unit"], m["unit_name"]) for m in created["memberships"]} == {
        ("Department Team", tree[PLANNING], PLANNING),
        ("Leadership", None, None),
    }
    # groups alone replaces the organisation-wide ones and keeps those held in units.
    kept = api.patch("ada", "/users/dina", json={"groups": []}).json
    assert [(m["group"], m["unit"]) for m in kept["memberships"]] == [
        ("Department Team", tree[PLANNING])
    ]
    moved = [{"group": "Department Team", "unit": tree[FINANCE]}]
    assert (
        api.patch("ada", "/users/dina", json={"memberships": moved}).json["memberships"][0]["unit"]
        == tree[FINANCE]
    )
    event = [e.data for e in audit_events(engine, "user_changed")][-1]
    assert event["before"]["memberships"] == [{"group": "Department Team", "unit": tree[PLANNING]}]
    assert event["after"]["memberships"] == [{"group": "Department Team", "unit": tree[FINANCE]}]
    unknown = [{"group": "Department Team", "unit": 999999}]
    assert_problem(api.patch("ada", "/users/dina", json={"memberships": unknown}), 422)


def test_a_units_members_include_those_above_it(api, tokens, tree):
    member(api, tokens, "dina", [("Department Team", tree[PLANNING])])
    member(api, tokens, "fred", [("Department Team", tree[FINANCE])])
    member(api, tokens, "paula", [("PI Unit", tree[MINISTRY])])
    listed = api.get("ada", f"/units/{tree[PLANNING]}/members").json["items"]
    named = {(m["user"], m["group"], m["held_in"]) for m in listed}
    assert {("dina", "Department Team", PLANNING), ("paula", "PI Unit", MINISTRY)} <= named
    assert not [m for m in listed if m["user"] == "fred"]
    assert ("pia", "PI Unit", None) in named  # organisation-wide
    assert api.get("fred", f"/units/{tree[PLANNING]}").status_code == 200  # units are public
    refused = assert_problem(api.get("fred", f"/units/{tree[PLANNING]}/members"), 403)
    assert f"fred is a member of no group in unit {PLANNING}" in refused["detail"]
    assert "members" in refused["detail"]
    assert_problem(api.get("fred", "/units/999999/members"), 404)


# --- a hostile member of another unit ----------------------------------------------------


@pytest.fixture
def planning_task(api, tokens, tree, walker):
    """Planning's gap analysis, open to its Department Team; dina works in Planning, fred
    in Finance."""
    member(api, tokens, "dina", [("Department Team", tree[PLANNING])])
    member(api, tokens, "fred", [("Department Team", tree[FINANCE])])
    walk = walker(unit=PLANNING)
    walk.assess()
    return api.get("ada", f"/cycles/{walk.cycle_id}").json["open_tasks"][0]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/tasks/{task}", None),
        ("post", "/tasks/{task}/claim", None),
        ("post", "/tasks/{task}/unclaim", None),
        ("post", "/tasks/{task}/complete", {"data": {"gaps": []}}),
        ("get", "/tasks/{task}/comments", None),
        ("post", "/tasks/{task}/comments", {"text": "Mine now"}),
        ("get", "/cycles/{cycle}", None),
        ("get", "/cycles/{cycle}/history", None),
        ("get", "/cycles/{cycle}/path", None),
    ],
)
def test_another_units_task_and_cycle_are_not_found(api, engine, planning_task, method, path, body):
    url = path.format(task=planning_task["id"], cycle=planning_task["cycle_id"])
    before = audit_count(engine)
    kwargs = {"json": body} if body is not None else {}
    assert_problem(getattr(api, method)("fred", url, **kwargs), 404)
    assert audit_count(engine) == before
    assert api.get("dana", url).status_code != 404 or "history" in url or "path" in url


def test_another_units_tasks_and_cycles_are_left_out_of_lists(api, planning_task, tree):
    assert api.get("fred", "/tasks").json["total"] == 0
    assert api.get("fred", "/cycles").json["total"] == 0
    assert api.get("fred", f"/tasks?unit={PLANNING}").json["total"] == 0
    assert api.get("dina", "/tasks").json["items"][0]["id"] == planning_task["id"]
    assert api.get("dina", "/cycles").json["total"] == 1


def test_a_member_starts_cycles_only_where_a_membership_holds(api, planning_task, tree):
    refused = api.post("fred", "/cycles", json={"unit_id": tree[PLANNING], "title": "Mine"})
    assert_problem(refused, 403)
    assert (
        api.post("fred", "/cycles", json={"unit_id": tree[FINANCE], "title": "Ours"}).status_code
        == 201
    )


def test_a_completed_task_of_another_unit_does_not_say_who_completed_it(api, planning_task, tree):
    analysed = {"data": {"gaps": []}}
    api.post("dina", f"/tasks/{planning_task['id']}/complete", json=analysed)
    again = api.post("fred", f"/tasks/{planning_task['id']}/complete", json=analysed)
    body = assert_problem(again, 404)
    assert "dina" not in body["detail"]


def test_moved_out_of_the_unit_a_holder_gives_the_task_back_to_its_group(
    api, tokens, tree, planning_task, engine
):
    task = planning_task["id"]
    member(api, tokens, "dora", [("Department Team", tree[PLANNING])])
    assert api.post("dina", f"/tasks/{task}/claim").status_code == 200
    assert_problem(api.post("dora", f"/tasks/{task}/claim"), 409)  # held by dina
    moved = {"memberships": [{"group": "Department Team", "unit": tree[FINANCE]}]}
    assert api.patch("ada", "/users/dina", json=moved).status_code == 200
    assert api.get("dora", f"/tasks/{task}").json["claimed_by"] is None
    given_back = [e for e in audit_events(engine, "task_unclaimed") if e.task_id == task]
    assert [(e.actor, e.data["previous_holder"]) for e in given_back] == [("ada", "dina")]
    assert "which dina is not in" in given_back[0].data["reason"]
    assert api.post("dora", f"/tasks/{task}/claim").status_code == 200


def test_a_deactivated_holder_gives_the_task_back_and_one_who_may_still_work_it_keeps_it(
    api, tokens, tree, planning_task, engine
):
    task = planning_task["id"]
    assert api.post("dina", f"/tasks/{task}/claim").status_code == 200
    also_leader = {
        "memberships": [
            {"group": "Department Team", "unit": tree[PLANNING]},
            {"group": "Leadership", "unit": tree[PLANNING]},
        ]
    }
    assert api.patch("ada", "/users/dina", json=also_leader).status_code == 200
    assert api.get("ada", f"/tasks/{task}").json["claimed_by"] == "dina"
    assert api.patch("ada", "/users/dina", json={"active": False}).status_code == 200
    assert api.get("ada", f"/tasks/{task}").json["claimed_by"] is None
    (given_back,) = [e for e in audit_events(engine, "task_unclaimed") if e.task_id == task]
    assert given_back.data["reason"] == "dina was deactivated"


def test_a_membership_in_an_unknown_unit_is_refused_at_its_place_in_the_list(
    api, tokens, tree, engine
):
    held = [
        {"group": "Department Team", "unit": tree[PLANNING]},
        {"group": "Leadership", "unit": None},
        {"group": "Leadership", "unit": 999999},
    ]
    before = audit_count(engine)
    body = {"name": "nina", "groups": ["PI Unit"], "memberships": held}
    refused = assert_problem(api.post("ada", "/users", json=body), 422)
    assert refused["errors"] == {"memberships.2.unit": ["there is no unit #999999"]}
    member(api, tokens, "dina", [("Department Team", tree[PLANNING])])
    change = {"memberships": [held[2], held[0]]}
    refused = assert_problem(api.patch("ada", "/users/dina", json=change), 422)
    assert list(refused["errors"]) == ["memberships.0.unit"]
    assert audit_count(engine) == before + 2  # dina and her token, nothing refused


def test_no_one_is_made_a_member_in_an_inactive_unit(api, tokens, tree, engine):
    member(api, tokens, "dina", [("Department Team", tree[FINANCE])])
    api.patch("ada", f"/units/{tree[FINANCE]}", json={"active": False})
    before = audit_count(engine)
    held = [
        {"group": "Department Team", "unit": tree[FINANCE]},  # held already: it stays
        {"group": "Leadership", "unit": tree[FINANCE]},
    ]
    refused = assert_problem(api.patch("ada", "/users/dina", json={"memberships": held}), 422)
    assert list(refused["errors"]) == ["memberships.1.unit"]
    assert f"({FINANCE}) is inactive" in refused["errors"]["memberships.1.unit"][0]
    body = {"name": "nina", "memberships": held[1:]}
    refused = assert_problem(api.post("ada", "/users", json=body), 422)
    assert list(refused["errors"]) == ["memberships.0.unit"]
    assert audit_count(engine) == before
    kept = api.patch("ada", "/users/dina", json={"memberships": held[:1], "role": "member"})
    assert kept.status_code == 200, kept.json
