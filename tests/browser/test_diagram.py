"""The cycle page's diagram drawn in a real browser, under the pages' content security
policy: the bpmn-js viewer draws the cycle's BPMN file, marks the steps done and the
current one, and shows the legend; left to right on an Arabic page too. And a unit's
results charts, right to left on an Arabic page."""

from __future__ import annotations

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.services import units, users

from tests.browser.pairs import EACH_DATABASE_IN_A_LANGUAGE
from tests.browser.test_cycle_walk import Person
from tests.cycles_over_time import work_cycle
from tests.pages.conftest import PASSWORD
from tests.support import UNIT

pytestmark = pytest.mark.browser


@EACH_DATABASE_IN_A_LANGUAGE
def test_the_diagram_marks_where_the_cycle_stands(chromium, live, camera, driver, clock, language):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, clock.now.date())
    driver.approve(cycle_id, approved=False, comment="Too big")
    with driver.engine.unit_of_work() as uow:
        users.set_password(uow, SYSTEM, "dana", PASSWORD)
    dana = Person(chromium, live, camera(f"diagram-{language}"), "dana", language)
    dana.sign_in()
    page = dana.page
    page.goto(f"/cycles/{cycle_id}")
    page.wait_for_selector(".diagram .djs-container svg")
    page.wait_for_selector(".legend", state="visible")
    marked = page.evaluate(
        """() => Object.fromEntries(["picycle-done", "picycle-current"].map((mark) => [mark,
            [...document.querySelectorAll(`.diagram .djs-shape.${mark}`)]
                .map((shape) => shape.dataset.elementId)]))"""
    )
    assert marked["picycle-current"] == ["design_microprojects"]
    assert {"assess_performance", "identify_gaps", "leadership_approval"} <= set(
        marked["picycle-done"]
    )
    assert page.locator(".diagram .djs-connection.picycle-taken").count() > 0
    assert page.evaluate("getComputedStyle(document.querySelector('.diagram')).direction") == "ltr"
    assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "ar" else "ltr")
    dana.look("diagram")  # no script or style refused, no serious accessibility fault
    # Each step done names who took it and when, the date in one piece beside the name:
    # in Arabic, a date after a Latin name was torn apart by the name's direction, half of
    # it on each side of the name ("2026/03/dana · 02").
    steps = page.evaluate(
        """() => [...document.querySelectorAll("ol[aria-labelledby=steps-done] li")].map(
            (step) => {
                const who = step.querySelector("bdi:nth-of-type(2)");
                const [name, date] = [who, step.querySelector("time")].map(
                    (part) => part.getBoundingClientRect());
                const apart = date.right <= name.left + 0.5 || date.left >= name.right - 0.5;
                return [who.textContent, apart || date.top >= name.bottom];
            })"""
    )
    assert [actor for actor, _ in steps][:2] == ["pia", "pia"]
    assert all(apart for _, apart in steps), steps


@EACH_DATABASE_IN_A_LANGUAGE
def test_a_units_chart_shows_every_cycles_label(chromium, live, camera, driver, clock, language):
    work_cycle(driver, clock, actuals=(70, 90))
    work_cycle(driver, clock, permits=(70, 80), backlog=(90, 60))
    with driver.engine.unit_of_work() as uow:
        users.set_password(uow, SYSTEM, "pia", PASSWORD)
        unit_id = units.find_unit(uow, UNIT).id
    pia = Person(chromium, live, camera(f"chart-{language}"), "pia", language)
    pia.sign_in()
    page = pia.page
    page.goto(f"/units/{unit_id}/results")
    page.wait_for_selector("figure.chart.drawn canvas")
    # Each cycle's label lies wholly on the canvas: right to left, the first cycle's stood
    # at the right edge, cut in half, with the value axis on the other side.
    placed = page.evaluate(
        """() => {
            const chart = Chart.getChart(document.querySelector("figure.chart canvas"));
            const x = chart.scales.x;
            return [chart.scales.y.position, x.getLabels().map((label, index) => {
                const half = chart.ctx.measureText(label).width / 2;
                const at = x.getPixelForTick(index);
                return at - half >= 0 && at + half <= chart.width;
            })];
        }"""
    )
    assert placed == ["right" if language == "ar" else "left", [True, True]]
