"""The next cycle a completed cycle planned, on the cycle's page: shown to whoever sees
the cycle, moved, retitled or called off by those who may start the unit's cycles, and
refused at the field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.services import cycles, users

from tests.pages.conftest import text_of
from tests.support import ensure_unit

CHANGE = 'action="/cycles/{}/next-cycle"'


@pytest.fixture
def completed(driver) -> int:
    """Completed, its next cycle "Faster permits, round 2" planned 30 days ahead."""
    cycle_id = driver.start()
    driver.work_whole_cycle(cycle_id)
    return cycle_id


def plan_record(driver, cycle_id: int) -> dict:
    return driver.cycle(cycle_id).records["next_cycle"]


def test_the_pi_unit_moves_and_retitles_the_plan(browser, driver, clock, completed):
    pia = browser("pia")
    page = text_of(pia.get(f"/cycles/{completed}"))
    assert "Planned: \u2068Faster permits, round 2\u2069, starting on \u2068" in page
    assert "It starts by itself on that day." in page
    # In Arabic the Latin title and the date stay whole, apart from the sentence around them.
    arabic = text_of(pia.get(f"/cycles/{completed}", headers={"Accept-Language": "ar"}))
    assert "المخطط لها: \u2068Faster permits, round 2\u2069، تبدأ في \u2068" in arabic
    later = (clock().date() + timedelta(days=45)).isoformat()
    assert f'value="{(clock().date() + timedelta(days=30)).isoformat()}"' in page

    response = pia.post(
        f"/cycles/{completed}/next-cycle", {"start_on": later, "title": "Round 2, later"}
    )
    assert response.status_code == 302 and response.location == f"/cycles/{completed}"
    page = text_of(pia.get(response.location))
    assert "The next cycle&#39;s plan is changed." in page
    assert "Planned: \u2068Round 2, later\u2069" in page
    assert plan_record(driver, completed) == {"start_on": later, "title": "Round 2, later"}


def test_the_pi_unit_calls_the_plan_off(browser, driver, completed):
    pia = browser("pia")
    pia.get(f"/cycles/{completed}")
    response = pia.post(f"/cycles/{completed}/next-cycle/cancel", {"reason": "The unit merges"})
    assert response.status_code == 302
    page = text_of(pia.get(response.location))
    assert "The next cycle is called off" in page
    assert "It no longer waits to start" in page
    assert CHANGE.format(completed) not in page
    assert driver.events(completed)[-1].data["reason"] == "The unit merges"
    again = pia.post(f"/cycles/{completed}/next-cycle/cancel", {"reason": "Twice"})
    assert again.status_code == 409
    assert "No next cycle waits to start" in text_of(again)


def test_once_started_the_plan_links_to_the_cycle_that_followed(browser, driver, clock, completed):
    clock.advance(days=31)
    assert driver.fire_timers() == 1  # the plan starts the unit's cycle 2
    page = text_of(browser("pia").get(f"/cycles/{completed}"))
    with driver.engine.unit_of_work(write=False) as uow:
        listed = cycles.list_cycles(uow, SYSTEM).items
    (following,) = [c for c in listed if c.previous_cycle_id == completed]
    assert "The unit&#39;s next cycle has started:" in page
    assert f'<a href="/cycles/{following.id}">Cycle 2 of the unit</a>' in page
    assert "It no longer waits to start" not in page


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"start_on": "2020-01-01", "title": "T"}, "start_on", "cannot start in the past"),
        ({"start_on": "", "title": "T"}, "start_on", "Fill this in."),
        ({"start_on": "soon", "title": "T"}, "start_on", "Enter a date."),
        ({"start_on": "2026-04-01", "title": "  "}, "title", "Fill this in."),
        ({"start_on": "2026-04-01", "title": "x" * 501}, "title", "Use at most 500"),
    ],
)
def test_a_bad_change_is_refused_at_its_field(browser, driver, completed, form, field, message):
    pia = browser("pia")
    pia.get(f"/cycles/{completed}")
    response = pia.post(f"/cycles/{completed}/next-cycle", form)
    assert response.status_code == 422
    page = text_of(response)
    assert "Nothing was changed. Correct the fields marked below." in page
    error = page.split(f'id="plan-{field}-error-1">')[1].split("</p>")[0]
    assert message in error
    assert f'aria-describedby="plan-{field}-error-1' in page
    assert plan_record(driver, completed)["title"] == "Faster permits, round 2"


def test_calling_off_needs_a_reason(browser, driver, completed):
    pia = browser("pia")
    pia.get(f"/cycles/{completed}")
    response = pia.post(f"/cycles/{completed}/next-cycle/cancel", {"reason": " "})
    assert response.status_code == 422
    assert 'id="plan-reason-error-1">Fill this in.</p>' in text_of(response)
    assert driver.events(completed)[-1].type == "next_cycle_scheduled"


def test_only_those_who_may_start_the_units_cycles_see_the_forms(browser, driver, completed):
    page = text_of(browser("audrey").get(f"/cycles/{completed}"))
    assert "Planned: \u2068Faster permits, round 2\u2069" in page
    assert CHANGE.format(completed) not in page
    response = browser("audrey").post(f"/cycles/{completed}/next-cycle/cancel", {"reason": "x"})
    assert response.status_code == 403

    roads = ensure_unit(driver.engine, "Roads")
    with driver.engine.unit_of_work() as uow:
        users.add_user(uow, SYSTEM, "rob", "member", [], memberships=[("PI Unit", roads)])
    rob = browser("rob")
    response = rob.post(f"/cycles/{completed}/next-cycle", {"start_on": "2026-05-01", "title": "x"})
    assert response.status_code == 404
    assert driver.events(completed)[-1].type == "next_cycle_scheduled"


def test_forged_and_out_of_date_posts(browser, driver, completed):
    pia = browser("pia")
    pia.get(f"/cycles/{completed}")
    forged = pia.post(f"/cycles/{completed}/next-cycle/cancel", {"reason": "x"}, csrf=False)
    assert forged.status_code == 400
    running = driver.start(unit="Roads")
    response = pia.post(f"/cycles/{running}/next-cycle", {"start_on": "2026-05-01", "title": "x"})
    assert response.status_code == 409
    assert "Only a completed cycle" in text_of(response)
    assert CHANGE.format(running) not in text_of(pia.get(f"/cycles/{running}"))


def test_the_plan_speaks_the_users_language(browser, completed):
    pia = browser("pia")
    pia.post("/language", {"language": "nl", "next": f"/cycles/{completed}"})
    page = text_of(pia.get(f"/cycles/{completed}"))
    assert "Volgende cyclus" in page and "De volgende cyclus afblazen" in page
