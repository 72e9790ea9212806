"""An auditor's walk through the audit pages in a real browser, in English and in Arabic:
the event browser filtered to one cycle (by keyboard), a bad filter named at its field,
the XES download read back by a process-mining reader, the cycle's path on its diagram
with counts beside its timeline, and the trail verified. Every page is checked with
axe-core and kept as a screenshot; each fits a 360-pixel-wide phone screen."""

from __future__ import annotations

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.services import users

from tests.browser.pairs import EACH_DATABASE_IN_A_LANGUAGE
from tests.browser.test_cycle_walk import Person, catalog
from tests.pages.conftest import PASSWORD
from tests.xes import completed, read_traces, trace_name

pytestmark = pytest.mark.browser


@EACH_DATABASE_IN_A_LANGUAGE
def test_an_auditor_traces_a_cycle(chromium, live, camera, driver, clock, tmp_path, language):
    words = catalog(language)
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, clock.now.date())
    driver.approve(cycle_id, approved=False, comment="Too big")
    driver.design(cycle_id, clock.now.date())
    other = driver.start(unit="Roads", title="Fewer potholes")
    with driver.engine.unit_of_work() as uow:
        users.set_password(uow, SYSTEM, "audrey", PASSWORD)
    audrey = Person(chromium, live, camera(f"audit-{language}"), "audrey", language)
    audrey.sign_in()
    page = audrey.page

    page.click("header nav a[href='/audit']")
    audrey.look("events")
    assert page.locator(f"table.events a[href='/audit/cycles/{other}']").count() > 0
    page.fill("#filter-cycle", str(cycle_id))
    page.press("#filter-cycle", "Enter")  # the filters work from the keyboard
    page.wait_for_url(f"**/audit?cycle={cycle_id}**")
    shown = page.locator("table.events tbody tr td:nth-child(5) a").all_inner_texts()
    assert shown and set(shown) == {f"#{cycle_id}"}
    page.locator("table.events details summary").first.click()  # an event's data
    audrey.look("events-one-cycle")
    assert audrey.fits(360)

    with page.expect_download() as download:
        page.click("a[href^='/audit/events.xes']")
    saved = tmp_path / "trail.xes"
    download.value.save_as(saved)
    (trace,) = read_traces(saved)
    assert trace_name(trace) == f"cycle {cycle_id}"
    assert completed(trace)[-2:] == ["Leadership approval", "Design microprojects"]

    page.fill("#filter-cycle", "twelve")
    page.click("form.audit-filters button.primary")
    error = page.locator("#filter-cycle-error").inner_text()
    message = words.get("Enter a whole number from 1 to %(most)s.", "Enter a whole number")
    assert error.startswith(message.split("%(most)s")[0])
    assert page.get_attribute("#filter-cycle", "aria-invalid") == "true"
    audrey.look("events-bad-filter")

    page.goto(f"/audit?cycle={cycle_id}")
    page.locator(f"table.events a[href='/audit/cycles/{cycle_id}']").first.click()
    page.wait_for_selector(".diagram .djs-container svg")
    page.wait_for_selector(".diagram .picycle-times")
    counted = page.evaluate(
        """() => [...document.querySelectorAll('.diagram .djs-overlays[data-container-id]')]
            .map((overlay) => [overlay.dataset.containerId, overlay.textContent])"""
    )
    assert ["design_microprojects", "2"] in counted
    assert page.locator(".diagram .djs-connection.picycle-taken").count() > 0
    assert page.locator("tr[data-element='design_microprojects'] td").first.inner_text() == "2"
    audrey.look("cycle-trail")
    assert audrey.fits(360)

    page.goto("/audit/verify")
    audrey.look("verify")
    page.click("form.verify-form button.primary")
    page.wait_for_selector(".verification.intact")
    assert page.locator("#result-heading").inner_text() == words.get(
        "The trail is intact", "The trail is intact"
    )
    audrey.look("verified")
    assert audrey.fits(360)
