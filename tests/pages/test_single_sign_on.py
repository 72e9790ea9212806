"""Single sign-on through an OpenID Connect provider (tests/oidc_provider.py, over HTTP):
the whole round trip through the pages, users provisioned by issuer and subject, their
memberships synced from the claim at every sign-in, and what a hostile provider answer,
browser or configuration gets: refused, audited, nothing changed."""

from __future__ import annotations

import base64
import hashlib
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from picycle.engine.actors import SYSTEM
from picycle.engine.errors import NotFound
from picycle.engine.services import users

from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET
from tests.pages.conftest import Browser, text_of
from tests.pages.sso import (
    CALLBACK,
    at_provider,
    back_from_provider,
    sign_in_through,
    to_provider,
)

NOT_PROVEN = "Signing in with Test IdP did not work."


def _user(driver, name: str):
    with driver.engine.unit_of_work(write=False) as uow:
        return users.read_user(uow, SYSTEM, name)


def _held(driver, name: str) -> set[tuple[str, str | None]]:
    return {(m.group, m.unit) for m in _user(driver, name).memberships}


def _events(driver, kind: str) -> list[dict]:
    return [{"actor": e.actor, **e.data} for e in driver.events() if e.type == kind]


def _signed_in_as(visitor: Browser) -> str | None:
    page = text_of(visitor.get("/sign-in", follow_redirects=True))
    start = page.find('<span class="who">')
    return page[start + 18 : page.index("<", start + 18)] if start >= 0 else None


def test_the_sign_in_page_offers_the_provider_beside_the_password_form(sso_app):
    page = text_of(Browser(sso_app.test_client()).get("/sign-in"))
    assert 'action="/sign-in/sso"' in page
    assert ">Sign in with \u2068Test IdP\u2069</button>" in page
    assert '<label for="password">Password</label>' in page


def test_the_sign_in_page_lets_its_button_post_on_to_the_provider_and_nowhere_else(
    sso_app, provider, browser
):
    with_provider = Browser(sso_app.test_client()).get("/sign-in")
    policy = with_provider.headers["Content-Security-Policy"]
    assert f"form-action 'self' {provider.issuer};" in policy
    assert "frame-ancestors 'none'" in policy
    without = browser().get("/sign-in").headers["Content-Security-Policy"]
    assert "form-action 'self';" in without


def test_a_first_sign_in_makes_the_user_with_the_memberships_the_claim_grants(
    sso_app, provider, driver
):
    provider.user["groups"] = ["pi", "planning", "not-mapped"]
    visitor = Browser(sso_app.test_client())
    response = sign_in_through(visitor)
    assert (response.status_code, response.location) == (302, "/")
    assert _signed_in_as(visitor) == "sami"
    assert _held(driver, "sami") == {
        ("PI Unit", None),
        ("Department Team", "Directorate of Planning"),
    }
    assert _user(driver, "sami").role == "member"
    created = _events(driver, "user_created")[-1]
    assert (created["actor"], created["user"], created["memberships"]) == ("system", "sami", [])
    linked = _events(driver, "user_linked")
    assert linked == [
        {
            "actor": "system",
            "user": "sami",
            "issuer": provider.issuer,
            "subject": "subject-sami",
        }
    ]
    changed = _events(driver, "user_changed")[-1]
    assert changed["user"] == "sami" and changed["changed"] == ["groups", "memberships"]
    assert changed["after"]["groups"] == ["PI Unit"]
    signed = _events(driver, "signed_in")[-1]
    assert (signed["user"], signed["method"]) == ("sami", "single sign-on")


def test_the_request_carries_state_nonce_and_an_s256_challenge_the_token_request_answers(
    sso_app, provider
):
    visitor = Browser(sso_app.test_client())
    authorize = to_provider(visitor)
    asked = {key: values[0] for key, values in parse_qs(urlsplit(authorize).query).items()}
    assert authorize.startswith(provider.issuer + "/authorize?")
    assert asked["response_type"] == "code" and asked["client_id"] == CLIENT_ID
    assert asked["redirect_uri"] == CALLBACK
    assert asked["code_challenge_method"] == "S256"
    assert asked["state"] and asked["nonce"] and "openid" in asked["scope"].split()
    back_from_provider(visitor, at_provider(authorize))
    verifier = provider.token_requests[-1]["code_verifier"]
    digest = hashlib.sha256(verifier.encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == asked["code_challenge"]


def test_a_membership_removed_at_the_provider_is_lost_at_the_next_sign_in(
    sso_app, provider, driver
):
    provider.user["groups"] = ["pi", "planning"]
    sign_in_through(Browser(sso_app.test_client()))
    provider.user["groups"] = ["pi"]
    assert sign_in_through(Browser(sso_app.test_client())).status_code == 302
    assert _held(driver, "sami") == {("PI Unit", None)}
    removed = _events(driver, "user_changed")[-1]
    assert removed["changed"] == ["memberships"]
    assert len(removed["before"]["memberships"]) == 2
    assert removed["after"]["memberships"] == [{"group": "PI Unit", "unit": None}]


def test_an_unchanged_claim_changes_nothing(sso_app, provider, driver):
    provider.user["groups"] = ["pi"]
    sign_in_through(Browser(sso_app.test_client()))
    before = len(_events(driver, "user_changed"))
    sign_in_through(Browser(sso_app.test_client()))
    assert len(_events(driver, "user_changed")) == before
    assert len(_events(driver, "signed_in")) == 2


def test_roles_follow_the_claim_when_the_mapping_grants_them(sso_app, provider, driver):
    provider.user["groups"] = ["admins"]
    sign_in_through(Browser(sso_app.test_client()))
    assert _user(driver, "sami").role == "admin"
    provider.user["groups"] = []
    sign_in_through(Browser(sso_app.test_client()))
    assert _user(driver, "sami").role == "member"


def test_the_last_active_admin_stays_one_whatever_the_claim(sso_app, provider, driver):
    provider.user["groups"] = ["admins"]
    sign_in_through(Browser(sso_app.test_client()))
    with driver.engine.unit_of_work() as uow:
        users.update_user(uow, SYSTEM, "ada", active=False)
    provider.user["groups"] = ["pi"]
    assert sign_in_through(Browser(sso_app.test_client())).status_code == 302
    assert _user(driver, "sami").role == "admin"
    assert _held(driver, "sami") == {("PI Unit", None)}


def test_a_unit_the_mapping_names_that_does_not_exist_grants_nothing(sso_app, provider, driver):
    provider.user["groups"] = ["ghost-town", "pi"]
    assert sign_in_through(Browser(sso_app.test_client())).status_code == 302
    assert _held(driver, "sami") == {("PI Unit", None)}


def test_what_a_provider_sends_is_kept_within_what_the_trail_stores(sso_app, provider, driver):
    provider.user = {"sub": "x" * 256, "preferred_username": "sami"}
    assert sign_in_through(Browser(sso_app.test_client())).status_code == 401
    provider.user = {"sub": "nul", "preferred_username": "sa\x00mi" + "m" * 200}
    assert sign_in_through(Browser(sso_app.test_client())).status_code == 403
    refused = _events(driver, "sign_in_failed")
    assert "subject is not 1 to 255" in refused[-2]["reason"]
    assert refused[-1]["user"] == ("sami" + "m" * 200)[:100]


def test_the_user_is_found_by_subject_whatever_name_the_provider_gives_later(
    sso_app, provider, driver
):
    sign_in_through(Browser(sso_app.test_client()))
    provider.user["preferred_username"] = "samira"
    visitor = Browser(sso_app.test_client())
    sign_in_through(visitor)
    assert _signed_in_as(visitor) == "sami"
    with pytest.raises(NotFound):
        _user(driver, "samira")


def test_an_e_mail_like_name_proposes_its_local_part(sso_app, provider, driver):
    provider.user = {"sub": "entra-oid", "preferred_username": "Sami@Ministry.example"}
    visitor = Browser(sso_app.test_client())
    assert sign_in_through(visitor).status_code == 302
    assert _signed_in_as(visitor) == "sami"
    provider.user = {"sub": "other-oid", "preferred_username": "sami@contractor.example"}
    assert sign_in_through(Browser(sso_app.test_client())).status_code == 403


def test_another_subject_with_a_taken_name_is_refused_not_linked(sso_app, provider, driver):
    sign_in_through(Browser(sso_app.test_client()))
    provider.user = {"sub": "someone-else", "preferred_username": "Sami", "groups": ["admins"]}
    visitor = Browser(sso_app.test_client())
    response = sign_in_through(visitor)
    assert response.status_code == 403
    assert "already exists and is not linked" in text_of(response)
    assert _signed_in_as(visitor) is None
    assert _user(driver, "sami").role == "member"
    failed = _events(driver, "sign_in_failed")[-1]
    assert (failed["user"], failed["method"]) == ("sami", "single sign-on")


def test_a_local_user_is_never_taken_over_through_their_name(sso_app, provider, driver):
    provider.user = {"sub": "mallory", "preferred_username": "ada", "groups": ["pi"]}
    visitor = Browser(sso_app.test_client())
    assert sign_in_through(visitor).status_code == 403
    assert _signed_in_as(visitor) is None
    assert _held(driver, "ada") == set()
    assert _events(driver, "user_linked") == []


def test_a_name_that_breaks_the_rules_is_refused_with_what_to_do(sso_app, provider, driver):
    provider.user["preferred_username"] = "sami smith"
    response = sign_in_through(Browser(sso_app.test_client()))
    assert response.status_code == 403
    assert "Ask an administrator to check your user name there." in text_of(response)
    assert all(e["user"] != "sami smith" for e in _events(driver, "user_created"))
    assert "U+0020 SPACE" in _events(driver, "sign_in_failed")[-1]["reason"]


def test_a_deactivated_user_is_refused_and_audited(sso_app, provider, driver):
    visitor = Browser(sso_app.test_client())
    sign_in_through(visitor)
    with driver.engine.unit_of_work() as uow:
        users.update_user(uow, SYSTEM, "sami", active=False)
    assert _signed_in_as(visitor) is None  # the session ended with the deactivation
    response = sign_in_through(visitor)
    assert response.status_code == 403
    assert "Your picycle account is deactivated." in text_of(response)
    assert _signed_in_as(visitor) is None
    assert _events(driver, "sign_in_failed")[-1]["reason"] == "the user is deactivated"


def test_a_callback_whose_state_this_browser_did_not_send_is_refused(sso_app, provider, driver):
    victim, attacker = Browser(sso_app.test_client()), Browser(sso_app.test_client())
    callback = at_provider(to_provider(attacker))
    # The attacker's code, pressed on the victim (login CSRF): the victim's session holds
    # no such state.
    to_provider(victim)
    response = back_from_provider(victim, callback)
    assert response.status_code == 401
    assert NOT_PROVEN in text_of(response)
    assert _signed_in_as(victim) is None
    assert "MismatchingStateError" in _events(driver, "sign_in_failed")[-1]["reason"]


def test_a_changed_state_is_refused(sso_app, provider):
    visitor = Browser(sso_app.test_client())
    callback = at_provider(to_provider(visitor))
    query = parse_qs(urlsplit(callback).query)
    response = visitor.get(f"/sign-in/sso/callback?code={query['code'][0]}&state=forged")
    assert response.status_code == 401
    assert _signed_in_as(visitor) is None


def test_a_callback_replayed_after_signing_in_is_refused(sso_app, provider, driver):
    visitor = Browser(sso_app.test_client())
    callback = at_provider(to_provider(visitor))
    assert back_from_provider(visitor, callback).status_code == 302
    replayed = Browser(sso_app.test_client())
    replayed.get("/sign-in")
    assert back_from_provider(replayed, callback).status_code == 401
    assert back_from_provider(visitor, callback).status_code == 401  # its state was used
    assert _signed_in_as(replayed) is None
    assert _signed_in_as(visitor) == "sami"
    assert len(_events(driver, "signed_in")) == 1


@pytest.mark.parametrize(
    ("forged", "why"),
    [
        ({"nonce": "not-the-nonce"}, "nonce"),
        ({"iss": "http://127.0.0.1:9/another-provider"}, "iss"),
        ({"aud": ["another-client"]}, "aud"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
    ],
    ids=["wrong nonce", "another issuer", "another audience", "expired"],
)
def test_an_id_token_that_does_not_hold_is_refused(sso_app, provider, driver, forged, why):
    provider.forge = forged
    visitor = Browser(sso_app.test_client())
    response = sign_in_through(visitor)
    assert response.status_code == 401
    assert NOT_PROVEN in text_of(response)
    assert _signed_in_as(visitor) is None
    assert why in _events(driver, "sign_in_failed")[-1]["reason"]
    assert all(e["user"] != "sami" for e in _events(driver, "user_created"))


@pytest.mark.parametrize("tamper", ["signature", "key"])
def test_an_id_token_not_signed_by_the_provider_is_refused(sso_app, provider, driver, tamper):
    provider.tamper = tamper
    visitor = Browser(sso_app.test_client())
    assert sign_in_through(visitor).status_code == 401
    assert _signed_in_as(visitor) is None
    assert "BadSignatureError" in _events(driver, "sign_in_failed")[-1]["reason"]


def test_the_provider_refuses_a_code_without_its_pkce_verifier(sso_app, provider):
    callback = at_provider(to_provider(Browser(sso_app.test_client())))
    code = parse_qs(urlsplit(callback).query)["code"][0]
    answer = requests.post(
        provider.issuer + "/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert "code_verifier" in answer.json()["error_description"]


def test_the_provider_refuses_an_authorization_request_without_a_challenge(sso_app, provider):
    authorize = to_provider(Browser(sso_app.test_client()))
    parts = urlsplit(authorize)
    query = {k: v for k, v in parse_qs(parts.query).items() if not k.startswith("code_")}
    answer = requests.get(
        f"{provider.issuer}/authorize", params=query, allow_redirects=False, timeout=10
    )
    assert "code=" not in answer.headers.get("Location", "")
    assert "error=invalid_request" in answer.headers["Location"]


def test_the_provider_saying_no_is_shown_and_audited(sso_app, provider, driver):
    visitor = Browser(sso_app.test_client())
    state = parse_qs(urlsplit(to_provider(visitor)).query)["state"][0]
    response = visitor.get(f"/sign-in/sso/callback?error=access_denied&state={state}")
    assert response.status_code == 401
    assert NOT_PROVEN in text_of(response)
    assert "access_denied" in _events(driver, "sign_in_failed")[-1]["reason"]


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_next_cannot_send_the_browser_elsewhere(sso_app, provider, target):
    response = sign_in_through(Browser(sso_app.test_client()), next_path=target)
    assert (response.status_code, response.location) == (302, "/")


def test_next_on_this_site_is_followed(sso_app, provider):
    response = sign_in_through(Browser(sso_app.test_client()), next_path="/cycles?page=2")
    assert (response.status_code, response.location) == (302, "/cycles?page=2")


def test_the_callback_without_single_sign_on_configured_is_not_there(browser):
    assert browser().get("/sign-in/sso/callback?code=x&state=y").status_code == 404
    assert browser().post("/sign-in/sso").status_code == 404


def test_starting_without_the_csrf_token_is_refused(sso_app, provider):
    visitor = Browser(sso_app.test_client())
    assert visitor.post("/sign-in/sso", csrf=False).status_code == 400


def test_a_failure_is_shown_in_the_users_language(sso_app, provider):
    visitor = Browser(sso_app.test_client())
    visitor.get("/sign-in")
    visitor.post("/language", {"language": "ar"})
    provider.tamper = "signature"
    response = sign_in_through(visitor)
    page = text_of(response)
    assert response.status_code == 401
    assert 'lang="ar" dir="rtl"' in page
    assert "Test IdP" in page and NOT_PROVEN not in page
