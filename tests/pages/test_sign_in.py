"""Signing in and out on the pages: the form, the session cookie, CSRF on every form,
failed attempts limited and audited, sessions ended by deactivation, no open redirect;
API tokens keep working beside it."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from picycle.api import create_app
from picycle.engine.actors import SYSTEM
from picycle.engine.services import users

from tests.pages.conftest import PASSWORD, Browser, text_of
from tests.support import UNIT


def test_the_sign_in_form_has_labelled_fields_and_a_button(browser):
    page = text_of(browser().get("/sign-in"))
    assert '<label for="name">User name</label>' in page
    assert '<label for="password">Password</label>' in page
    assert '<button type="submit" class="primary">Sign in</button>' in page


def test_a_visitor_is_sent_to_sign_in_and_back(browser, passwords):
    passwords("pia")
    visitor = browser()
    response = visitor.get("/cycles?page=1")
    assert response.status_code == 302
    assert response.location == "/sign-in?next=/cycles?page%3D1"
    visitor.get(response.location)
    signed = visitor.post("/sign-in", {"name": "Pia", "password": PASSWORD, "next": "/cycles"})
    assert (signed.status_code, signed.location) == (302, "/cycles")
    assert '<span class="who">pia</span>' in text_of(visitor.get("/"))


def test_the_session_cookie_is_secure_http_only_and_same_site_by_default(driver, passwords):
    passwords("pia")
    app = create_app({"PICYCLE_ENGINE": driver.engine, "SECRET_KEY": "for the tests"})
    client = Browser(app.test_client())
    response = client.sign_in("pia")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_wrong_password_is_refused_with_the_name_kept_and_audited(browser, driver, passwords):
    passwords("pia")
    visitor = browser()
    response = visitor.sign_in("pia", "not the password")
    assert response.status_code == 401
    page = text_of(response)
    assert "The user name or password is wrong." in page
    assert 'value="pia"' in page
    assert [e.data["user"] for e in driver.events() if e.type == "sign_in_failed"] == ["pia"]
    assert visitor.get("/").status_code == 302  # still not signed in


def test_failed_sign_ins_are_limited(driver, passwords):
    app = create_app(
        {
            "PICYCLE_ENGINE": driver.engine,
            "SECRET_KEY": "for the tests",
            "PICYCLE_SECURE_COOKIES": False,
            "PICYCLE_SIGN_IN_MAX_FAILURES_PER_USER": 2,
        }
    )
    passwords("pia")
    visitor = Browser(app.test_client())
    for _ in range(2):
        assert visitor.sign_in("pia", "not the password").status_code == 401
    refused = visitor.sign_in("pia")
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in text_of(refused)


@pytest.mark.parametrize(
    "path", ["/sign-in", "/sign-out", "/language", "/tasks/{task}/claim", "/tasks/{task}"]
)
def test_a_form_without_its_csrf_token_is_refused(browser, driver, path):
    cycle_id = driver.start()
    (task,) = driver.open_tasks(cycle_id)
    pia = browser("pia")
    response = pia.post(
        path.format(task=task.id), {"name": "pia", "password": PASSWORD}, csrf=False
    )
    assert response.status_code == 400
    assert "This form has expired" in text_of(response)
    assert driver.open_tasks(cycle_id)[0].claimed_by is None


def test_a_token_from_another_session_is_refused(browser, driver):
    cycle_id = driver.start()
    (task,) = driver.open_tasks(cycle_id)
    attacker, pia = browser("dana"), browser("pia")
    forged = pia.post(f"/tasks/{task.id}/claim", {"csrf_token": attacker.token})
    assert forged.status_code == 400
    assert driver.open_tasks(cycle_id)[0].claimed_by is None


def test_deactivation_ends_the_session(browser):
    pia = browser("pia")
    assert pia.get("/").status_code == 200
    ada = browser("ada")
    with ada.client.application.extensions["picycle"].engine.unit_of_work() as uow:
        users.update_user(uow, SYSTEM, "pia", active=False)
    assert pia.get("/").status_code == 302
    with ada.client.application.extensions["picycle"].engine.unit_of_work() as uow:
        users.update_user(uow, SYSTEM, "pia", active=True)
    assert pia.get("/").status_code == 302  # reactivation signs no one back in


def test_a_new_password_ends_the_other_sessions(browser, driver):
    pia = browser("pia")
    with driver.engine.unit_of_work() as uow:
        users.set_password(uow, SYSTEM, "pia", "a brand new password")
    assert pia.get("/").status_code == 302


def test_signing_out(browser):
    pia = browser("pia")
    response = pia.post("/sign-out")
    assert (response.status_code, response.location) == (302, "/sign-in")
    assert pia.get("/").status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/%0a/evil.example",
        "/\t/evil.example",
        "evil.example",
    ],
)
def test_next_never_leads_to_another_site(browser, passwords, target):
    passwords("pia")
    visitor = browser()
    visitor.get("/sign-in")
    response = visitor.post("/sign-in", {"name": "pia", "password": PASSWORD, "next": target})
    assert response.status_code == 302
    location = urlsplit(response.location)
    assert not (location.scheme or location.netloc) and "\\" not in response.location
    assert response.location.startswith("/") and not response.location.startswith("//")


def test_api_tokens_keep_working_and_the_api_takes_no_csrf_token(app, driver):
    with driver.engine.unit_of_work() as uow:
        token = users.issue_token(uow, SYSTEM, "pia").token
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).json["name"] == "pia"
    started = client.post(
        "/api/v1/cycles", headers=headers, json={"unit": UNIT, "title": "By script"}
    )
    assert started.status_code == 201
    missing = client.get("/api/v1/nothing")
    assert (missing.status_code, missing.mimetype) == (404, "application/problem+json")


def test_picycle_serve_takes_the_pages_settings_from_the_environment(driver, monkeypatch):
    from picycle.api.serve import make_app

    monkeypatch.setenv("PICYCLE_SECRET_KEY", "from the environment")
    monkeypatch.setenv("PICYCLE_SECURE_COOKIES", "false")
    monkeypatch.setenv("PICYCLE_SIGN_IN_MAX_FAILURES_PER_ADDRESS", "7")
    app = make_app(driver.engine)
    assert app.secret_key == "from the environment"
    assert app.config["SESSION_COOKIE_SECURE"] is False
    limits = app.extensions["picycle_pages"].sign_in_limits
    assert (limits.per_user, limits.per_address) == (5, 7)
