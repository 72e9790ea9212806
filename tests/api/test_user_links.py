"""Linking users to their identity at the single sign-on provider through the API: admins
link and unlink, admins and auditors read; an identity that is another user's is a 409."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_problem, audit_events

ISSUER = "https://id.ministry.example/realms/staff"
LINK = {"issuer": ISSUER, "subject": "f3c1-pia"}


def test_an_admin_links_a_user_and_reads_the_link_back(api, engine):
    response = api.put("ada", "/users/PIA/single-sign-on", json=LINK)
    assert response.status_code == 200
    linked = response.json
    assert {k: linked[k] for k in ("user", "issuer", "subject")} == {"user": "pia", **LINK}
    assert api.get("audrey", "/users/pia/single-sign-on").json == linked
    assert api.put("ada", "/users/pia/single-sign-on", json=LINK).json == linked  # unchanged
    (event,) = audit_events(engine, "user_linked")
    assert (event.actor, event.data) == ("ada", {"user": "pia", **LINK})


def test_an_identity_linked_to_another_user_is_a_409(api):
    api.put("ada", "/users/pia/single-sign-on", json=LINK)
    body = assert_problem(api.put("ada", "/users/dana/single-sign-on", json=LINK), 409)
    assert body["detail"] == (
        f"the identity f3c1-pia at {ISSUER} is already linked to pia; unlink pia first"
    )
    assert_problem(api.get("ada", "/users/dana/single-sign-on"), 404)


@pytest.mark.parametrize("who", ["pia", "audrey"])
def test_only_admins_link_and_unlink(api, engine, who):
    assert_problem(api.put(who, f"/users/{who}/single-sign-on", json=LINK), 403)
    api.put("ada", "/users/dana/single-sign-on", json=LINK)
    assert_problem(api.delete(who, "/users/dana/single-sign-on"), 403)
    assert len(audit_events(engine, "user_linked")) == 1
    assert audit_events(engine, "user_unlinked") == []


def test_a_member_does_not_read_links(api):
    assert_problem(api.get("pia", "/users/pia/single-sign-on"), 403)


def test_unlinking_is_audited_and_a_second_time_is_a_404(api, engine):
    api.put("ada", "/users/pia/single-sign-on", json=LINK)
    removed = api.delete("ada", "/users/pia/single-sign-on")
    assert removed.status_code == 200 and removed.json["subject"] == "f3c1-pia"
    (event,) = audit_events(engine, "user_unlinked")
    assert (event.actor, event.data) == ("ada", {"user": "pia", **LINK})
    assert_problem(api.delete("ada", "/users/pia/single-sign-on"), 404)
    assert_problem(api.get("ada", "/users/pia/single-sign-on"), 404)


@pytest.mark.parametrize(
    "body",
    [
        {"issuer": "id.ministry.example", "subject": "s"},
        {"issuer": "javascript:alert(1)", "subject": "s"},
        {"issuer": ISSUER, "subject": ""},
        {"issuer": ISSUER, "subject": "s" * 256},
        {"issuer": ISSUER},
    ],
)
def test_an_issuer_or_subject_that_cannot_be_one_is_a_422(api, body):
    assert_problem(api.put("ada", "/users/pia/single-sign-on", json=body), 422)


def test_an_issuer_not_http_is_refused_saying_it_must_be_an_https_url(api, engine):
    body = {"issuer": "ftp://x", "subject": "s"}
    refused = assert_problem(api.put("ada", "/users/pia/single-sign-on", json=body), 422)
    (message,) = refused["errors"]["issuer"]
    assert "https (or http)" in message
    assert audit_events(engine, "user_linked") == []


@pytest.mark.parametrize("subject", ["s1 ", " s1", "s1\n", "\ts1"])
def test_a_subject_with_white_space_around_it_is_refused_at_its_field(api, engine, subject):
    body = {"issuer": ISSUER, "subject": subject}
    refused = assert_problem(api.put("ada", "/users/pia/single-sign-on", json=body), 422)
    (message,) = refused["errors"]["subject"]
    assert "white space" in message
    assert_problem(api.get("ada", "/users/pia/single-sign-on"), 404)
    assert audit_events(engine, "user_linked") == []
