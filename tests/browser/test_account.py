"""The account page in a real browser, by keyboard: dana gives her address and asks for
a daily digest, in English, Dutch and Arabic, on a 360 px wide phone as well."""

from __future__ import annotations

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.services import notification_settings, users

from tests.browser.test_cycle_walk import Person
from tests.pages.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["en", "nl", "ar"])
def test_dana_chooses_her_notifications_by_keyboard(chromium, live, camera, driver, language):
    with driver.engine.unit_of_work() as uow:
        users.set_password(uow, SYSTEM, "dana", PASSWORD)
    dana = Person(chromium, live, camera(f"account-{language}"), "dana", language)
    dana.sign_in()
    page = dana.page
    page.goto("/account")
    dana.look("account")
    page.focus("#email")
    page.keyboard.type("not an address")
    page.keyboard.press("Tab")  # to the first choice
    page.keyboard.press("Enter")  # the browser checks the address first: nothing is sent
    page.evaluate("document.querySelector('form.narrow').noValidate = true")
    page.click("main form button.primary")
    assert page.locator("#email[aria-invalid='true']").count() == 1
    dana.look("account-refused")
    page.fill("#email", "dana@example.org")
    page.focus("#digest")
    page.keyboard.press("Space")
    page.keyboard.press("Enter")  # submits the form
    page.wait_for_selector("p.flash")
    dana.look("account-saved")
    assert dana.fits(360)
    with driver.engine.unit_of_work(write=False) as uow:
        found = notification_settings.read_settings(uow, SYSTEM, "dana")
    assert (found.email, found.digest) == ("dana@example.org", True)
