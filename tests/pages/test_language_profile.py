"""The language a signed-in user chooses is kept with the user: it follows them into a new
browser and wins over that browser's Accept-Language. A visitor's choice stays in their
session and changes no user."""

from __future__ import annotations

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.db.models import User
from picycle.engine.errors import PermissionDenied, ValidationFailed
from picycle.engine.services import users
from sqlalchemy import select

from tests.api.conftest import audit_events
from tests.pages.conftest import text_of


def language_of(driver, name: str) -> str | None:
    with driver.engine.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(User.language).where(User.name == name))


def test_a_signed_in_choice_follows_the_user_into_another_browser(browser, driver):
    browser("pia").post("/language", {"language": "ar", "next": "/"})
    elsewhere = browser("pia")  # a browser of its own: a new session
    page = text_of(elsewhere.get("/", headers={"Accept-Language": "nl"}))
    assert '<html lang="ar" dir="rtl">' in page
    (changed,) = [e for e in audit_events(driver.engine, "user_changed") if e.actor == "pia"]
    assert changed.data["before"] == {"language": None}
    assert changed.data["after"] == {"language": "ar"}


def test_a_visitors_choice_stays_in_their_session(browser, driver):
    visitor = browser()
    visitor.post("/language", {"language": "nl", "next": "/sign-in"})
    assert 'lang="nl"' in text_of(visitor.get("/sign-in", headers={"Accept-Language": "ar"}))
    assert 'lang="ar"' in text_of(browser().get("/sign-in", headers={"Accept-Language": "ar"}))
    assert audit_events(driver.engine, "user_changed") == []


def test_without_a_choice_the_browser_decides(browser):
    page = text_of(browser("dana").get("/", headers={"Accept-Language": "nl"}))
    assert 'lang="nl"' in page


def test_the_users_choice_wins_over_the_sessions(browser):
    pia = browser("pia")
    pia.post("/language", {"language": "ar", "next": "/"})
    pia.post("/sign-out")
    pia.post("/language", {"language": "nl", "next": "/sign-in"})  # chosen signed out
    pia.sign_in("pia")
    assert 'lang="ar"' in text_of(pia.get("/"))


def test_a_language_is_chosen_for_oneself_only_and_must_be_a_tag(driver):
    with driver.engine.unit_of_work() as uow:
        pia = users.actor_named(uow, "pia")
    with driver.engine.unit_of_work() as uow, pytest.raises(PermissionDenied):
        users.set_language(uow, pia, "dana", "ar")
    with driver.engine.unit_of_work() as uow, pytest.raises(ValidationFailed):
        users.set_language(uow, SYSTEM, "dana", "<script>")
    with driver.engine.unit_of_work() as uow:
        users.set_language(uow, SYSTEM, "dana", "nl")
    assert language_of(driver, "dana") == "nl"
