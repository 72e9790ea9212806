"""Users, groups and tokens through the API; every change is in the audit trail."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_problem, audit_count, audit_events


def test_an_admin_adds_a_user_who_gets_a_working_token(api, client, engine):
    response = api.post(
        "ada", "/users", json={"name": "nora", "role": "member", "groups": ["PI Unit", "Extra"]}
    )
    assert response.status_code == 201
    created = response.json
    assert created["name"] == "nora"
    assert created["groups"] == ["Extra", "PI Unit"]
    assert created["active"] is True
    assert created["token"].startswith("pic_")
    assert response.headers["Location"].endswith("/api/v1/users/nora")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {created['token']}"})
    assert me.json == {
        "name": "nora",
        "role": "member",
        "groups": ["Extra", "PI Unit"],
        "unit_groups": [],
    }
    assert [e.data["user"] for e in audit_events(engine, "user_created")][-1] == "nora"


def test_role_and_groups_default_to_a_member_without_groups(api):
    created = api.post("ada", "/users", json={"name": "nils"}).json
    assert (created["role"], created["groups"]) == ("member", [])


@pytest.mark.parametrize("who", ["pia", "audrey"])
def test_only_admins_add_users(api, who):
    assert_problem(api.post(who, "/users", json={"name": "x"}), 403, title="Permission denied")


def test_a_user_name_is_taken_once(api):
    body = assert_problem(api.post("ada", "/users", json={"name": "pia"}), 409)
    assert body["type"] == "urn:picycle:problem:conflict"


BAD_NEW_USERS = [
    ({"name": "x", "role": "boss"}, "role"),
    ({"name": ""}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": "x", "groups": [""]}, "groups.0"),
    ({"name": "x", "groups": "PI Unit"}, "groups"),
    ({"name": "x", "token": "mine"}, "token"),
]


def test_a_bad_new_user_is_a_422_naming_the_field(api, engine):
    before = audit_count(engine)
    for body, field in BAD_NEW_USERS:
        problem = assert_problem(api.post("ada", "/users", json=body), 422)
        assert field in problem["errors"], (body, problem)
    assert audit_count(engine) == before


@pytest.mark.parametrize("who", ["ada", "audrey"])
def test_admins_and_auditors_list_users(api, who):
    response = api.get(who, "/users")
    assert response.status_code == 200
    names = [u["name"] for u in response.json["items"]]
    assert names == sorted(names)
    assert {"ada", "audrey", "pia", "dana"} <= set(names)
    assert response.json["total"] == len(names)
    assert all("token" not in u for u in response.json["items"])


@pytest.mark.parametrize("who", ["ada", "audrey"])
def test_admins_and_auditors_list_the_groups(api, who):
    api.patch("ada", "/users/dana", json={"groups": ["Department Team", " Leadership "]})
    response = api.get(who, "/groups")
    assert response.status_code == 200
    assert response.json == {
        "items": ["Department Team", "Leadership", "PI Unit"],
        "total": 3,
    }


def test_members_do_not_list_the_groups(api):
    assert_problem(api.get("pia", "/groups"), 403)


def test_members_do_not_list_users(api):
    assert_problem(api.get("pia", "/users"), 403)


def test_reading_one_user(api):
    assert api.get("pia", "/users/pia").json["groups"] == ["PI Unit"]
    assert api.get("audrey", "/users/pia").status_code == 200
    assert_problem(api.get("pia", "/users/dana"), 403)
    assert_problem(api.get("ada", "/users/nobody"), 404, type="urn:picycle:problem:not-found")


def test_an_admin_changes_groups_role_and_active_with_before_and_after_audited(api, engine):
    response = api.patch(
        "ada", "/users/dana", json={"groups": ["Leadership", "PI Unit"], "role": "admin"}
    )
    assert response.status_code == 200
    assert response.json["groups"] == ["Leadership", "PI Unit"]
    assert response.json["role"] == "admin"
    (event,) = audit_events(engine, "user_changed")
    assert event.actor == "ada"
    assert event.data == {
        "user": "dana",
        "changed": ["groups", "memberships", "role"],
        "before": {
            "groups": ["Department Team"],
            "memberships": [{"group": "Department Team", "unit": None}],
            "role": "member",
        },
        "after": {
            "groups": ["Leadership", "PI Unit"],
            "memberships": [
                {"group": "Leadership", "unit": None},
                {"group": "PI Unit", "unit": None},
            ],
            "role": "admin",
        },
    }
    assert api.get("dana", "/me").json["groups"] == ["Leadership", "PI Unit"]


def test_a_change_that_changes_nothing_records_nothing(api, engine):
    before = audit_count(engine)
    response = api.patch("ada", "/users/pia", json={"groups": ["PI Unit"], "active": True})
    assert response.status_code == 200
    assert api.patch("ada", "/users/pia", json={}).status_code == 200
    assert audit_count(engine) == before


@pytest.mark.parametrize("who", ["pia", "audrey"])
def test_only_admins_change_users(api, who):
    assert_problem(api.patch(who, "/users/pia", json={"groups": []}), 403)
    assert_problem(api.patch(who, "/users/" + who, json={"role": "admin"}), 403)


@pytest.mark.parametrize(("who", "role"), [("pia", "a member"), ("audrey", "an auditor")])
def test_an_admin_only_refusal_names_the_role_with_its_article(api, who, role):
    refused = assert_problem(api.patch(who, "/users/pia", json={"groups": []}), 403)
    assert refused["detail"] == f"only an admin may change users; {who} is {role}"


def test_a_change_to_an_unknown_user_or_with_a_bad_role_fails(api):
    assert_problem(api.patch("ada", "/users/nobody", json={"active": False}), 404)
    assert (
        "role" in assert_problem(api.patch("ada", "/users/pia", json={"role": "x"}), 422)["errors"]
    )
    assert (
        "active"
        in assert_problem(api.patch("ada", "/users/pia", json={"active": "maybe"}), 422)["errors"]
    )


def test_the_last_active_admin_stays_an_admin(api):
    assert_problem(api.patch("ada", "/users/ada", json={"role": "member"}), 409)
    assert_problem(api.patch("ada", "/users/ada", json={"active": False}), 409)
    assert api.patch("ada", "/users/lena", json={"role": "admin"}).status_code == 200
    assert api.patch("ada", "/users/ada", json={"role": "member"}).status_code == 200


def test_a_user_issues_themself_a_new_token_and_both_work(api, client, engine):
    response = api.post("dana", "/users/dana/tokens")
    assert response.status_code == 201
    assert response.json["user"] == "dana"
    fresh = {"Authorization": f"Bearer {response.json['token']}"}
    assert client.get("/api/v1/me", headers=fresh).json["name"] == "dana"
    assert api.get("dana", "/me").status_code == 200
    (fresh_id, _first), _ = _token_ids(api, "dana")
    assert audit_events(engine, "token_issued")[-1].data == {"user": "dana", "token": fresh_id}


def test_an_admin_issues_tokens_for_others_but_members_do_not(api):
    assert api.post("ada", "/users/dana/tokens").status_code == 201
    assert_problem(api.post("pia", "/users/dana/tokens"), 403)
    assert_problem(api.post("ada", "/users/nobody/tokens"), 404)


def test_no_token_for_a_deactivated_user(api):
    api.patch("ada", "/users/dana", json={"active": False})
    assert_problem(api.post("ada", "/users/dana/tokens"), 409)


def test_revoking_stops_every_token_of_the_user(api, client, engine):
    second = api.post("dana", "/users/dana/tokens").json["token"]
    response = api.post("ada", "/users/dana/tokens/revoke")
    assert response.status_code == 200
    assert response.json == {"user": "dana", "revoked": 2}
    assert_problem(api.get("dana", "/me"), 401)
    assert_problem(client.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}), 401)
    (event,) = audit_events(engine, "token_revoked")
    assert (event.actor, event.data) == ("ada", {"user": "dana", "count": 2})
    assert api.get("pia", "/me").status_code == 200


def test_users_revoke_their_own_tokens_only(api):
    assert_problem(api.post("pia", "/users/dana/tokens/revoke"), 403)
    assert api.post("pia", "/users/pia/tokens/revoke").json["revoked"] == 1
    assert_problem(api.get("pia", "/me"), 401)


def test_auditors_manage_only_their_own_tokens(api):
    assert api.post("audrey", "/users/audrey/tokens").status_code == 201
    assert_problem(api.post("audrey", "/users/pia/tokens"), 403)
    assert_problem(api.post("audrey", "/users/pia/tokens/revoke"), 403)


def _token_ids(api, name: str) -> tuple[list[int], list[dict]]:
    """The ids of the user's tokens, newest first, and the listing itself."""
    listed = api.get("ada", f"/users/{name}/tokens")
    assert listed.status_code == 200
    assert listed.json["total"] == len(listed.json["items"])
    return [t["id"] for t in listed.json["items"]], listed.json["items"]


def test_a_user_lists_their_tokens_newest_first_never_the_tokens_themselves(api):
    fresh = api.post("dana", "/users/dana/tokens").json["token"]
    response = api.get("dana", "/users/dana/tokens")
    assert response.status_code == 200
    items = response.json["items"]
    assert (response.json["total"], len(items)) == (2, 2)
    assert items[0]["id"] > items[1]["id"]
    assert all(set(t) == {"id", "created_at", "revoked_at"} for t in items)
    assert all(t["revoked_at"] is None for t in items)
    assert fresh not in response.get_data(as_text=True)
    assert_problem(api.get("pia", "/users/dana/tokens"), 403)
    assert_problem(api.get("audrey", "/users/dana/tokens"), 403)
    assert api.get("audrey", "/users/audrey/tokens").json["total"] == 1
    assert_problem(api.get("ada", "/users/nobody/tokens"), 404)
    assert_problem(api.get(None, "/users/dana/tokens"), 401)


def test_one_leaked_token_is_revoked_and_the_users_other_one_works(api, client, engine):
    fresh = {"Authorization": f"Bearer {api.post('dana', '/users/dana/tokens').json['token']}"}
    (fresh_id, leaked_id), _ = _token_ids(api, "dana")
    response = api.post("ada", f"/users/dana/tokens/{leaked_id}/revoke")
    assert response.status_code == 200
    assert response.json["id"] == leaked_id and response.json["revoked_at"] is not None
    assert_problem(api.get("dana", "/me"), 401)  # the leaked token
    assert client.get("/api/v1/me", headers=fresh).json["name"] == "dana"
    (event,) = audit_events(engine, "token_revoked")
    assert (event.actor, event.data) == ("ada", {"user": "dana", "token": leaked_id})
    _, listed = _token_ids(api, "dana")
    assert [t["revoked_at"] is None for t in listed] == [True, False]
    # Said again: the token is revoked already, and nothing more is recorded.
    again = assert_problem(api.post("ada", f"/users/dana/tokens/{leaked_id}/revoke"), 409)
    assert again["type"] == "urn:picycle:problem:conflict"
    assert again["detail"].startswith(f"token #{leaked_id} of dana was revoked already, at ")
    assert len(audit_events(engine, "token_revoked")) == 1
    # Its user, with the token left, revokes that one too.
    response = client.post(f"/api/v1/users/dana/tokens/{fresh_id}/revoke", headers=fresh)
    assert response.status_code == 200
    assert_problem(client.get("/api/v1/me", headers=fresh), 401)


def test_a_token_is_revoked_only_through_its_own_user(api, engine):
    (danas,), _ = _token_ids(api, "dana")
    (pias,), _ = _token_ids(api, "pia")
    before = audit_count(engine)
    # Another user's token id, even for an admin: not found, and not told whose it is.
    problem = assert_problem(api.post("ada", f"/users/dana/tokens/{pias}/revoke"), 404)
    assert problem["detail"] == f"dana has no token #{pias}"
    assert_problem(api.post("ada", "/users/nobody/tokens/1/revoke"), 404)
    assert audit_count(engine) == before
    # Members and auditors revoke only their own.
    assert_problem(api.post("pia", f"/users/dana/tokens/{danas}/revoke"), 403)
    assert_problem(api.post("audrey", f"/users/pia/tokens/{pias}/revoke"), 403)
    assert_problem(api.post("pia", f"/users/dana/tokens/{pias}/revoke"), 403)
    assert api.get("dana", "/me").status_code == 200
    assert api.get("pia", "/me").status_code == 200
    assert api.post("pia", f"/users/pia/tokens/{pias}/revoke").status_code == 200
    assert_problem(api.get("pia", "/me"), 401)


NOT_TOKEN_IDS = ["abc", "0", "-1", "1.5", "1e3", "2147483648", "9" * 40, "%00", "1%20"]


@pytest.mark.parametrize("token_id", NOT_TOKEN_IDS)
def test_a_token_id_that_is_no_id_is_a_404_problem(api, engine, token_id):
    before = audit_count(engine)
    assert_problem(api.post("ada", f"/users/dana/tokens/{token_id}/revoke"), 404)
    assert audit_count(engine) == before
    assert api.get("dana", "/me").status_code == 200


# name -> what makes it hostile
HOSTILE_NAMES = {
    "system": "the name picycle itself acts under",
    "p\u0456a": "look-alike of pia, with a Cyrillic і",
    " nora": "a leading space",
    "nora ": "a trailing space",
    "no\x07ra": "a control character",
    "a/b": "a slash: unreachable at /users/{name}",
    "nora\nada": "a newline",
}


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=HOSTILE_NAMES.values())
def test_a_hostile_user_name_is_a_422_naming_the_name_and_creates_nothing(api, engine, name):
    before = audit_count(engine), api.get("ada", "/users").json
    problem = assert_problem(api.post("ada", "/users", json={"name": name}), 422)
    assert problem["type"] == "urn:picycle:problem:validation-failed"
    assert list(problem["errors"]) == ["name"]
    assert problem["detail"] == "name " + problem["errors"]["name"][0]
    assert (audit_count(engine), api.get("ada", "/users").json) == before


@pytest.mark.parametrize("group", ["PI Unit\u200b", "PI\u2060Unit", "\u202ePI Unit"])
def test_a_group_that_would_pass_for_another_is_refused_and_creates_nothing(api, engine, group):
    before = audit_count(engine), api.get("ada", "/groups").json
    problem = assert_problem(api.post("ada", "/users", json={"name": "q7", "groups": [group]}), 422)
    assert "does not show, or turns the text around" in problem["errors"]["groups"][0]
    changed = api.patch("ada", "/users/dana", json={"groups": [group]})
    assert "groups" in assert_problem(changed, 422)["errors"]
    assert (audit_count(engine), api.get("ada", "/groups").json) == before


def test_a_name_differing_only_in_case_is_taken(api):
    body = assert_problem(api.post("ada", "/users", json={"name": "PIA"}), 409)
    assert body["detail"] == "there is already a user called pia"


def test_a_name_is_kept_lower_case_and_found_however_it_is_written(api):
    response = api.post("ada", "/users", json={"name": "Nora"})
    assert response.status_code == 201
    assert response.json["name"] == "nora"
    assert response.headers["Location"].endswith("/api/v1/users/nora")
    assert api.get("ada", "/users/NORA").json["name"] == "nora"
    assert api.get("pia", "/users/Pia").json["name"] == "pia"
    assert api.patch("ada", "/users/Nora", json={"groups": ["PI Unit"]}).status_code == 200
    assert api.post("ada", "/users/NORA/tokens").json["user"] == "nora"


def test_reactivation_does_not_bring_old_tokens_back(api, engine):
    assert api.get("dana", "/me").status_code == 200
    assert api.patch("ada", "/users/dana", json={"active": False}).status_code == 200
    assert_problem(api.get("dana", "/me"), 401)
    assert api.patch("ada", "/users/dana", json={"active": True}).status_code == 200
    assert_problem(api.get("dana", "/me"), 401)
    (event,) = audit_events(engine, "token_revoked")
    assert (event.actor, event.data) == ("ada", {"user": "dana", "count": 1})
    assert api.post("ada", "/users/dana/tokens").status_code == 201
