"""A unit's page: its cycles, the units below it, and the form that starts its next cycle,
showing beforehand what the cycle is seeded with; attacked as a hostile and a clumsy user."""

from __future__ import annotations

import re

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.db.models import Cycle
from picycle.engine.services import cycles, units, users
from picycle.pages.views import units as unit_views
from sqlalchemy import func, select

from tests.pages.conftest import text_of
from tests.support import UNIT, ensure_unit

NUMBER = re.compile(r'name="number" value="(\d+)"')


@pytest.fixture
def unit_id(driver) -> int:
    return ensure_unit(driver.engine, UNIT)


def cycles_of(driver, unit_id: int) -> int:
    with driver.engine.unit_of_work(write=False) as uow:
        return uow.session.scalar(
            select(func.count()).select_from(Cycle).where(Cycle.unit_id == unit_id)
        )


def start_form(page: str) -> dict:
    """What the page's start form sends, without a title."""
    return {"number": NUMBER.search(page).group(1)}


def test_the_unit_page_lists_its_cycles_units_below_and_results(browser, driver, unit_id):
    with driver.engine.unit_of_work() as uow:
        below = units.add_unit(uow, SYSTEM, "Permits office", parent_id=unit_id).id
    finished = driver.start()
    driver.work_whole_cycle(finished)
    running = driver.start(title="Fewer complaints")
    page = text_of(browser("pia").get(f"/units/{unit_id}"))
    assert f'href="/cycles/{finished}"' in page and f'href="/cycles/{running}"' in page
    assert "Completed" in page and "Running" in page
    assert f'href="/units/{below}"' in page and "Permits office" in page
    assert f'href="/units/{unit_id}/results"' in page
    tree = text_of(browser("pia").get("/units"))
    assert f'href="/units/{unit_id}"' in tree and f'href="/units/{below}"' in tree
    cycle_page = text_of(browser("pia").get(f"/cycles/{finished}"))
    assert f'href="/units/{unit_id}"' in cycle_page


def test_a_first_cycle_starts_afresh(browser, driver, unit_id):
    pia = browser("pia")
    page = text_of(pia.get(f"/units/{unit_id}"))
    assert "This starts cycle 1 of the unit." in page
    assert "starts afresh" in page
    response = pia.post(f"/units/{unit_id}/cycles", {**start_form(page), "title": "First go"})
    assert response.status_code == 302
    cycle_id = int(response.location.rsplit("/", 1)[-1])
    started = driver.cycle(cycle_id)
    assert (started.title, started.cycle_number, started.started_by) == ("First go", 1, "pia")
    assert "Cycle 1 of the unit has started." in text_of(pia.get(response.location))


def test_the_preview_shows_what_the_start_seeds(browser, driver, unit_id):
    first = driver.start()
    driver.work_whole_cycle(first, permits=82, backlog=55)
    cancelled = driver.start(title="Abandoned")
    with driver.engine.unit_of_work() as uow:
        cycles.cancel_cycle(uow, SYSTEM, cancelled, "wrong unit")
    pia = browser("pia")
    page = text_of(pia.get(f"/units/{unit_id}"))
    assert "This starts cycle 3 of the unit." in page
    # Carried on from the last completed cycle (not the cancelled one), actuals as baselines.
    assert f'href="/cycles/{first}"' in page
    rows = re.findall(
        r'<tr><th scope="row"><bdi>([^<]+)</bdi> <span[^>]*>\(<bdi>[^<]*</bdi>\)</span></th>'
        r"\s*<td>([^<]+)</td><td>([^<]+)",
        page,
    )
    assert rows == [
        ("Permits issued within 30 days", "82", "80"),
        ("Open complaints", "55", "60"),
    ]
    response = pia.post(f"/units/{unit_id}/cycles", {**start_form(page), "title": "Round 2"})
    started = int(response.location.rsplit("/", 1)[-1])
    seeded = driver.task(started, "assess_performance").form_data["indicators"]
    assert [(i["name"], i["baseline"], i["target"]) for i in seeded] == [
        ("Permits issued within 30 days", 82, 80),
        ("Open complaints", 55, 60),
    ]


def test_a_form_sent_twice_starts_one_cycle(browser, driver, unit_id):
    pia = browser("pia")
    form = {**start_form(text_of(pia.get(f"/units/{unit_id}"))), "title": "Once"}
    first = pia.post(f"/units/{unit_id}/cycles", form)
    second = pia.post(f"/units/{unit_id}/cycles", form)
    assert first.status_code == second.status_code == 302
    assert first.location == second.location
    assert cycles_of(driver, unit_id) == 1


def test_a_stale_form_starts_nothing(browser, driver, unit_id):
    pia = browser("pia")
    form = {**start_form(text_of(pia.get(f"/units/{unit_id}"))), "title": "Mine"}
    other = driver.start(title="Someone else's")  # started meanwhile, elsewhere
    driver.work_whole_cycle(other)
    response = pia.post(f"/units/{unit_id}/cycles", form)
    assert response.status_code == 409
    page = text_of(response)
    assert "Nothing was started" in page
    assert "This starts cycle 2 of the unit." in page  # the new preview, to try again
    assert 'value="Mine"' in page
    assert cycles_of(driver, unit_id) == 1


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("", "Fill this in."),
        ("   ", "Fill this in."),
        ("x" * 501, "Use at most 500 characters."),
        (
            "Q1 \u202eevil",
            "Remove U+202E RIGHT-TO-LEFT OVERRIDE: it does not show, or turns the text around.",
        ),
    ],
)
def test_a_bad_title_is_refused_at_its_field(browser, driver, unit_id, title, message):
    pia = browser("pia")
    form = {**start_form(text_of(pia.get(f"/units/{unit_id}"))), "title": title}
    response = pia.post(f"/units/{unit_id}/cycles", form)
    assert response.status_code == 422
    page = text_of(response)
    assert f'<p class="error" id="title-error-1">{message}</p>' in page
    assert 'aria-invalid="true" aria-describedby="title-error-1' in page
    assert cycles_of(driver, unit_id) == 0


@pytest.mark.parametrize("number", ["", "0", "-1", "abc", "99999999999", "1e3"])
def test_a_mangled_form_starts_nothing(browser, driver, unit_id, number):
    response = browser("pia").post(f"/units/{unit_id}/cycles", {"number": number, "title": "x"})
    assert response.status_code == 400
    assert cycles_of(driver, unit_id) == 0


def test_a_running_cycle_is_shown_instead_of_the_form(browser, driver, unit_id):
    running = driver.start()
    pia = browser("pia")
    page = text_of(pia.get(f"/units/{unit_id}"))
    assert "still running" in page and f'href="/cycles/{running}"' in page
    assert 'name="title"' not in page
    response = pia.post(f"/units/{unit_id}/cycles", {"number": "2", "title": "Too soon"})
    assert response.status_code == 409
    assert cycles_of(driver, unit_id) == 1


def test_only_those_who_may_start_see_the_form(browser, driver, unit_id):
    other = ensure_unit(driver.engine, "Roads")
    with driver.engine.unit_of_work() as uow:
        users.add_user(uow, SYSTEM, "rob", "member", [], memberships=[("PI Unit", other)])
    for name in ("audrey", "rob"):
        visitor = browser(name)
        page = text_of(visitor.get(f"/units/{unit_id}"))
        assert "Start a cycle" not in page
        response = visitor.post(f"/units/{unit_id}/cycles", {"number": "1", "title": "Mine"})
        assert response.status_code == 403
    assert "Start a cycle" in text_of(browser("rob").get(f"/units/{other}"))
    assert cycles_of(driver, unit_id) == 0


def test_forged_and_missing_things(browser, driver, unit_id):
    pia = browser("pia")
    page = text_of(pia.get(f"/units/{unit_id}"))
    no_token = pia.post(f"/units/{unit_id}/cycles", {**start_form(page), "title": "x"}, csrf=False)
    assert no_token.status_code == 400
    assert pia.get("/units/999999").status_code == 404
    assert pia.post("/units/999999/cycles", {"number": "1", "title": "x"}).status_code == 404
    assert browser().get(f"/units/{unit_id}").status_code == 302  # sign in first
    assert cycles_of(driver, unit_id) == 0


def test_an_inactive_unit_offers_no_start(browser, driver, unit_id):
    with driver.engine.unit_of_work() as uow:
        units.update_unit(uow, SYSTEM, unit_id, active=False)
    pia = browser("pia")
    page = text_of(pia.get(f"/units/{unit_id}"))
    assert "Inactive" in page and 'name="title"' not in page
    response = pia.post(f"/units/{unit_id}/cycles", {"number": "1", "title": "x"})
    assert response.status_code == 409
    assert cycles_of(driver, unit_id) == 0


def test_the_unit_page_speaks_the_users_language(browser, driver, unit_id):
    pia = browser("pia")
    pia.post("/language", {"language": "ar", "next": f"/units/{unit_id}"})
    page = text_of(pia.get(f"/units/{unit_id}"))
    assert '<html lang="ar" dir="rtl">' in page
    assert "بدء دورة" in page and "سيبدأ هذا الدورة 1 للوحدة." in page


def test_the_units_cycles_come_in_pages(browser, driver, unit_id, monkeypatch):
    monkeypatch.setattr(unit_views, "PAGE_SIZE", 1)
    first = driver.start(title="First")
    driver.work_whole_cycle(first)
    driver.start(title="Second")
    pia = browser("pia")
    page_one, page_two = (text_of(pia.get(f"/units/{unit_id}?page={n}")) for n in (1, 2))
    assert "Second" in page_one and f'href="/units/{unit_id}?page=2"' in page_one
    assert "First" in page_two and f'href="/units/{unit_id}?page=1"' in page_two
    assert "Page 2 of 2" in page_two
