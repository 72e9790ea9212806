"""Attaching evidence in a real browser, without script help: the file input of the task's
page posted as a plain form, the file listed with its hash, refusals beside the input;
checked by axe-core, in English and in Arabic, on a desktop and at 360 px."""

from __future__ import annotations

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.services import users

from tests.browser.pairs import EACH_DATABASE_IN_A_LANGUAGE
from tests.browser.test_cycle_walk import Person
from tests.pages.conftest import PASSWORD

pytestmark = pytest.mark.browser

SHEET = b"indicator,baseline,target\npermits,55,80\n"
PROGRAM = b"MZ\x90\x00" + bytes(300)


@EACH_DATABASE_IN_A_LANGUAGE
def test_a_sheet_is_attached_and_a_program_refused(chromium, live, camera, driver, language):
    cycle_id = driver.start()
    task_id = driver.task(cycle_id, "assess_performance").id
    with driver.engine.unit_of_work() as uow:
        users.set_password(uow, SYSTEM, "pia", PASSWORD)
    pia = Person(chromium, live, camera(f"evidence-{language}"), "pia", language)
    pia.sign_in()
    page = pia.page
    page.goto(f"/tasks/{task_id}")
    upload = {"name": "baselines.csv", "mimeType": "text/csv", "buffer": SHEET}
    page.set_input_files("#evidence-file", upload)
    page.click("#evidence form button[type=submit]")
    page.wait_for_url(f"**/tasks/{task_id}#evidence")
    assert page.locator("#evidence ul.evidence a", has_text="baselines.csv").count() == 1
    pia.look("evidence-attached")
    disguised = {"name": "photo.png", "mimeType": "image/png", "buffer": PROGRAM}
    page.set_input_files("#evidence-file", disguised)
    page.click("#evidence form button[type=submit]")
    assert page.locator("#evidence .error").count() == 2
    assert page.get_attribute("#evidence-file", "aria-invalid") == "true"
    pia.look("evidence-refused")
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"/cycles/{cycle_id}")
    assert page.locator("ul.evidence a", has_text="baselines.csv").count() == 1
    no_sideways_scroll = "document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_sideways_scroll)
    pia.look("cycle-evidence-narrow")
