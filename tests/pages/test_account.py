"""The account page: a user sets where their e-mail goes and which notifications they get,
as a plain form post; a bad address is shown at its field and changes nothing."""

from __future__ import annotations

import re

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.services import notification_settings, users

from tests.pages.conftest import text_of


def settings_of(driver, name: str):
    with driver.engine.unit_of_work(write=False) as uow:
        return notification_settings.read_settings(uow, SYSTEM, name)


def test_a_user_sets_their_address_and_choices(browser, driver):
    dana = browser("dana")
    page = text_of(dana.get("/account"))
    assert '<label for="email">E-mail address</label>' in page
    assert 'id="assigned" name="assigned" checked' in page
    assert 'id="digest" name="digest" >' in page  # off by default
    saved = dana.post("/account", {"email": " dana@example.org ", "assigned": "on", "digest": "on"})
    assert saved.status_code == 302 and saved.location.endswith("/account")
    assert "Your notification settings are saved." in text_of(dana.get("/account"))
    found = settings_of(driver, "dana")
    assert (found.email, found.assigned, found.group_open, found.overdue, found.digest) == (
        "dana@example.org",
        True,
        False,
        False,
        True,
    )


def test_a_bad_address_is_shown_at_its_field_and_nothing_is_saved(browser, driver):
    dana = browser("dana")
    refused = dana.post("/account", {"email": "dana@example.org\r\nBcc: all@example.org"})
    assert refused.status_code == 422
    page = text_of(refused)
    assert 'aria-invalid="true"' in page and 'aria-describedby="email-hint email-error"' in page
    assert "Enter one e-mail address" in page
    found = settings_of(driver, "dana")
    assert (found.email, found.assigned) == (None, True)


@pytest.mark.parametrize(
    ("language", "label", "direction"),
    [("nl", "E-mailadres", "ltr"), ("ar", "عنوان البريد الإلكتروني", "rtl")],
)
def test_the_account_page_in_dutch_and_arabic(browser, language, label, direction):
    page = text_of(browser("dana").get("/account", headers={"Accept-Language": language}))
    assert f'<html lang="{language}" dir="{direction}">' in page
    assert f'<label for="email">{label}</label>' in page


def test_a_post_without_its_csrf_token_or_session_changes_nothing(browser, driver):
    assert (
        browser("dana").post("/account", {"email": "x@evil.example"}, csrf=False).status_code == 400
    )
    visitor = browser().post("/account", {"email": "x@evil.example"})
    assert visitor.status_code == 302 and "/sign-in" in visitor.location
    assert settings_of(driver, "dana").email is None


def test_a_user_issues_lists_and_revokes_their_own_tokens(browser, driver):
    dana = browser("dana")
    issued = dana.post("/account/tokens")
    assert issued.status_code == 200 and issued.headers["Cache-Control"] == "no-store"
    token = re.search(r'<p class="secret" id="new-token">([^<]+)</p>', text_of(issued)).group(1)
    with driver.engine.unit_of_work(write=False) as uow:
        assert users.authenticate(uow, token).name == "dana"
        first, *_ = (t.id for t in users.list_tokens(uow, SYSTEM, "dana"))
    page = text_of(dana.get("/account"))
    assert f'action="/account/tokens/{first}/revoke"' in page  # each token in use: its button
    assert token not in page  # shown that once only
    revoked = dana.post(f"/account/tokens/{first}/revoke")
    assert revoked.status_code == 302
    assert f"Token #{first} is revoked" in text_of(dana.get("/account"))
    with driver.engine.unit_of_work(write=False) as uow:
        assert users.authenticate(uow, token) is None
    again = dana.post(f"/account/tokens/{first}/revoke")
    assert again.status_code == 409 and f"Token #{first} was revoked already." in text_of(again)


def test_nobody_revokes_anothers_token_from_their_own_account(browser, driver):
    with driver.engine.unit_of_work(write=False) as uow:
        (omars,) = [t.id for t in users.list_tokens(uow, SYSTEM, "omar") if not t.revoked_at]
    answer = browser("dana").post(f"/account/tokens/{omars}/revoke")
    assert answer.status_code == 404
    with driver.engine.unit_of_work(write=False) as uow:
        assert all(not t.revoked_at for t in users.list_tokens(uow, SYSTEM, "omar"))
    assert browser("dana").post("/account/tokens/revoke", csrf=False).status_code == 400
