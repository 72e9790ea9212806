"""Around the single sign-on round trip (tests/oidc_provider.py, over HTTP): signing out
ends the session at the provider too when it offers that, and only ever comes back to the
sign-in page; a callback is refused before the provider is asked anything when its state
is not this browser's, or when the address failed too often lately."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc import jwt

from tests.oidc_provider import CLIENT_ID
from tests.pages.conftest import Browser, text_of
from tests.pages.sso import (
    at_provider,
    back_from_provider,
    sign_in_through,
    sso_app_with,
    to_provider,
)

SIGN_IN = "http://localhost/sign-in"


def _signed_in_through(sso_app) -> Browser:
    visitor = Browser(sso_app.test_client())
    assert sign_in_through(visitor).status_code == 302
    visitor.get("/")  # the new session's CSRF token, as a browser following on gets it
    return visitor


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _signed_in(visitor: Browser) -> bool:
    return visitor.get("/").status_code == 200


def test_signing_out_ends_the_session_at_the_provider_and_comes_back_to_sign_in(sso_app, provider):
    visitor = _signed_in_through(sso_app)
    response = visitor.post("/sign-out")
    assert response.status_code == 302
    assert response.location.startswith(provider.issuer + "/end-session?")
    asked = _query(response.location)
    assert asked["post_logout_redirect_uri"] == SIGN_IN
    assert asked["client_id"] == CLIENT_ID
    hint = jwt.decode(asked["id_token_hint"], provider.key).claims
    assert (hint["sub"], hint["iss"]) == ("subject-sami", provider.issuer)
    assert not _signed_in(visitor)  # signed out here before going there
    there = requests.get(response.location, allow_redirects=False, timeout=10)
    assert there.status_code == 302
    assert there.headers["Location"].startswith(SIGN_IN + "?state=")
    assert len(provider.ended) == 1


def test_an_id_token_too_long_for_the_cookie_is_not_kept_and_the_client_id_names_picycle(
    sso_app, provider
):
    provider.forge = {"padding": "x" * 3000}
    visitor = _signed_in_through(sso_app)
    response = visitor.post("/sign-out")
    asked = _query(response.location)
    assert response.location.startswith(provider.issuer + "/end-session?")
    assert "id_token_hint" not in asked
    assert (asked["client_id"], asked["post_logout_redirect_uri"]) == (CLIENT_ID, SIGN_IN)
    there = requests.get(response.location, allow_redirects=False, timeout=10)
    assert there.headers["Location"].startswith(SIGN_IN)


def test_without_an_end_session_endpoint_signing_out_stays_here(sso_app, provider):
    provider.ends_sessions = False
    visitor = _signed_in_through(sso_app)
    response = visitor.post("/sign-out")
    assert (response.status_code, response.location) == (302, "/sign-in")
    assert not _signed_in(visitor)
    assert provider.ended == []


def test_a_provider_that_cannot_be_asked_leaves_signing_out_here(sso_app, provider, monkeypatch):
    visitor = _signed_in_through(sso_app)

    def unreachable():
        raise requests.ConnectionError("connection refused")

    client = sso_app.extensions["picycle_pages"].single_sign_on.client
    monkeypatch.setattr(client, "load_server_metadata", unreachable)
    response = visitor.post("/sign-out")
    assert (response.status_code, response.location) == (302, "/sign-in")
    assert not _signed_in(visitor)


def test_a_user_signed_in_with_a_password_signs_out_here_only(sso_app, provider, passwords):
    passwords("ada")
    visitor = Browser(sso_app.test_client())
    assert visitor.sign_in("ada").status_code == 302
    visitor.get("/")
    provider.asked.clear()
    response = visitor.post("/sign-out")
    assert (response.status_code, response.location) == (302, "/sign-in")
    assert provider.asked == []


@pytest.mark.parametrize(
    "sent",
    [
        {"next": "https://evil.example/"},
        {"post_logout_redirect_uri": "https://evil.example/"},
        {"next": "//evil.example/", "post_logout_redirect_uri": "//evil.example/"},
    ],
)
def test_signing_out_comes_back_to_the_sign_in_page_whatever_the_form_says(sso_app, provider, sent):
    visitor = _signed_in_through(sso_app)
    response = visitor.post("/sign-out", sent)
    assert _query(response.location)["post_logout_redirect_uri"] == SIGN_IN
    assert "evil" not in response.location


def test_the_provider_sends_the_browser_back_only_to_a_registered_address(sso_app, provider):
    visitor = _signed_in_through(sso_app)
    asked = _query(visitor.post("/sign-out").location)
    asked["post_logout_redirect_uri"] = "https://evil.example/"
    there = requests.get(
        provider.issuer + "/end-session", params=asked, allow_redirects=False, timeout=10
    )
    assert there.status_code == 400


def test_pages_let_the_sign_out_form_go_on_to_the_provider_only_after_signing_in_there(
    sso_app, provider, passwords
):
    visitor = _signed_in_through(sso_app)
    policy = visitor.get("/").headers["Content-Security-Policy"]
    assert f"form-action 'self' {provider.issuer};" in policy
    passwords("ada")
    by_password = Browser(sso_app.test_client())
    by_password.sign_in("ada")
    assert "form-action 'self';" in by_password.get("/").headers["Content-Security-Policy"]


@pytest.mark.parametrize("query", ["code=stolen&state=forged", "code=stolen", ""])
def test_a_callback_without_this_browsers_state_is_refused_before_asking_the_provider(
    driver, provider, query
):
    fresh = sso_app_with(driver, provider)  # its client has not read the discovery document
    visitor = Browser(fresh.test_client())
    visitor.get("/sign-in")
    response = visitor.get(f"/sign-in/sso/callback?{query}")
    assert response.status_code == 401
    assert "Signing in with Test IdP did not work." in text_of(response)
    assert provider.asked == []
    assert not _signed_in(visitor)


def test_the_callback_is_limited_per_address_before_asking_the_provider(driver, provider):
    limited = sso_app_with(driver, provider, PICYCLE_SIGN_IN_MAX_FAILURES_PER_ADDRESS=2)
    attacker = Browser(limited.test_client())
    for _ in range(2):
        assert attacker.get("/sign-in/sso/callback?code=x&state=forged").status_code == 401
    visitor = Browser(limited.test_client())  # the same address
    callback = at_provider(to_provider(visitor))
    provider.asked.clear()
    response = back_from_provider(visitor, callback)
    assert response.status_code == 429
    assert "Too many failed sign-ins." in text_of(response)
    assert provider.asked == []
    assert not _signed_in(visitor)
    reasons = [e.data["reason"] for e in driver.events() if e.type == "sign_in_failed"]
    assert reasons[-1] == "too many failed attempts"


def test_failed_password_sign_ins_count_towards_the_callbacks_limit(driver, provider):
    limited = sso_app_with(driver, provider, PICYCLE_SIGN_IN_MAX_FAILURES_PER_ADDRESS=2)
    visitor = Browser(limited.test_client())
    for _ in range(2):
        visitor.sign_in("ada", "not the password at all")
    assert sign_in_through(visitor).status_code == 429


def test_static_files_stay_the_same_for_whoever_signed_in(sso_app, provider):
    visitor = _signed_in_through(sso_app)
    response = visitor.get("/assets/picycle.css")
    assert response.status_code == 200
    assert "Cookie" not in response.headers.get("Vary", "")
    assert "form-action 'self';" in response.headers["Content-Security-Policy"]
