"""Notification settings through the API: the user's own or an admin's to change, read by
admins and auditors too; a bad address is a problem naming the field."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_problem, audit_events


def test_a_user_reads_and_changes_their_own_settings(api, engine):
    assert api.get("dana", "/users/dana/notifications").json == {
        "user": "dana",
        "email": None,
        "assigned": True,
        "group_open": True,
        "overdue": True,
        "digest": False,
    }
    changed = api.patch(
        "dana", "/users/dana/notifications", json={"email": "dana@example.org", "digest": True}
    )
    assert changed.status_code == 200, changed.json
    assert (changed.json["email"], changed.json["digest"]) == ("dana@example.org", True)
    assert api.get("ada", "/users/dana/notifications").json["email"] == "dana@example.org"
    assert api.get("audrey", "/users/dana/notifications").status_code == 200
    assert api.patch("ada", "/users/dana/notifications", json={"email": ""}).json["email"] is None
    by_dana, by_ada = audit_events(engine, "user_changed")
    assert by_dana.data["changed"] == ["digest", "email"]
    assert by_ada.actor == "ada" and by_ada.data["after"] == {"email": None}


def test_an_auditor_changes_their_own_settings_as_every_user_does(api, engine):
    # Where an auditor's e-mail goes is their own, like their tokens: not the trail's.
    changed = api.patch("audrey", "/users/audrey/notifications", json={"digest": True})
    assert (changed.status_code, changed.json["digest"]) == (200, True)
    (event,) = audit_events(engine, "user_changed")
    assert (event.actor, event.data["changed"]) == ("audrey", ["digest"])
    assert audit_events(engine, "access_denied") == []


@pytest.mark.parametrize("who", ["omar", "audrey"])
def test_nobody_else_changes_them(api, who):
    refused = api.patch(who, "/users/dana/notifications", json={"email": "x@evil.example"})
    assert_problem(refused, 403)
    assert api.get("dana", "/users/dana/notifications").json["email"] is None


def test_another_members_settings_are_not_theirs_to_read(api):
    assert_problem(api.get("omar", "/users/dana/notifications"), 403)
    assert_problem(api.get(None, "/users/dana/notifications"), 401)


@pytest.mark.parametrize(
    "body",
    [
        {"email": "dana@example.org\r\nBcc: all@example.org"},
        {"email": "not an address"},
        {"email": 42},
        {"digest": "yes please"},
        {"everything": True},
    ],
)
def test_bad_input_is_a_problem_at_its_field_and_changes_nothing(api, body):
    refused = api.patch("dana", "/users/dana/notifications", json={**body})
    problem = assert_problem(refused, 422)
    assert set(problem["errors"]) == set(body)
    assert api.get("dana", "/users/dana/notifications").json["email"] is None
