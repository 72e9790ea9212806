"""The admin pages of process models: the list, what changed between two versions (on
both diagrams and as lists), and moving running cycles onto another version; for admins
only, each move audited."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle
from picycle.engine.services import definitions

from tests.pages.conftest import text_of

PREVIOUS_MODEL = Path(__file__).parents[1] / "data" / "pi_cycle_v1"


@pytest.fixture
def previous(driver) -> int:
    """The model before "Plan the next cycle", deployed after the shipped one (version 1):
    new cycles start on it."""
    with driver.engine.unit_of_work() as uow:
        (deployed,) = definitions.deploy(uow, SYSTEM, read_bundle(PREVIOUS_MODEL)).definitions
    return deployed.version


def checkboxes(page: str) -> list[str]:
    return re.findall(r'name="cycles" value="(\d+)"', page)


def test_the_list_links_each_process_to_its_changes_and_its_migration(browser, previous):
    page = text_of(browser("ada").get("/models"))
    assert "/models/pi_cycle/diff?from=1&amp;to=2" in page
    assert "/models/pi_cycle/migrate" in page
    assert 'href="/models"' in page  # the admin navigation


def test_the_diff_lists_elements_rules_and_form_fields(browser, previous):
    ada = browser("ada")
    page = text_of(ada.get("/models/pi_cycle/diff?from=2&to=1"))
    added = re.findall(r'<tr class="change-added" data-element="([^"]+)"', page)
    assert "plan_next_cycle" in added
    assert 'data-xml="/models/pi_cycle/versions/2/diagram"' in page
    assert 'data-xml="/models/pi_cycle/versions/1/diagram"' in page
    marks = ada.get("/models/pi_cycle/diff/marks?from=2&to=1&side=new").get_json()
    assert "plan_next_cycle" in marks["added"]
    old = ada.get("/models/pi_cycle/diff/marks?from=2&to=1&side=old").get_json()
    assert set(old) == {"removed", "changed"} and "plan_next_cycle" not in old["removed"]
    diagram = ada.get("/models/pi_cycle/versions/1/diagram")
    assert diagram.mimetype == "application/xml" and b"plan_next_cycle" in diagram.data
    assert diagram.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_the_diff_without_versions_compares_the_last_two(browser, previous):
    page = text_of(browser("ada").get("/models/pi_cycle/diff"))
    assert "From version 1 to version 2." in page


def test_an_unknown_process_or_version_is_not_found(browser, previous):
    ada = browser("ada")
    assert ada.get("/models/nothing/diff").status_code == 404
    assert ada.get("/models/pi_cycle/diff?from=1&to=9").status_code == 404
    assert ada.get("/models/pi_cycle/versions/9/diagram").status_code == 404
    assert ada.get("/models/pi_cycle/diff/marks?side=old").status_code == 404


def test_migrate_lists_who_can_move_and_moves_the_chosen(browser, driver, clock, previous):
    waiting = driver.start()  # at the first task: can move to version 1
    other = driver.start(unit="Roads")
    ada = browser("ada")
    page = text_of(ada.get("/models/pi_cycle/migrate?to=1"))
    assert checkboxes(page) == [str(waiting), str(other)]
    response = ada.post("/models/pi_cycle/migrate", {"to": "1", "cycles": [str(waiting)]})
    assert response.status_code == 200
    done = text_of(response)
    assert f"Cycle #{waiting} moved from version 2 to version 1." in done
    assert checkboxes(done) == [str(other)]
    assert driver.cycle(waiting).version == 1
    assert driver.cycle(other).version == 2
    moved = [e for e in driver.events(waiting) if e.type == "cycle_migrated"]
    assert [(e.actor, e.data["from_version"], e.data["to_version"]) for e in moved] == [
        ("ada", 2, 1)
    ]


def test_a_cycle_that_cannot_move_is_listed_with_its_reasons(browser, driver, clock, previous):
    """The shipped model lacks the previous one's 'implement_microproject'."""
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, clock.now.date())
    driver.approve(cycle_id)
    page = text_of(browser("ada").get("/models/pi_cycle/migrate?to=1"))
    assert checkboxes(page) == []
    blocked = page.split("Cycles that cannot move")[1]
    assert f"#{cycle_id} Faster permits" in blocked
    assert "version 1 lacks elements the cycle has reached: " in blocked
    assert "implement_microproject" in blocked
    response = browser("ada").post("/models/pi_cycle/migrate", {"to": "1", "cycles": [cycle_id]})
    assert "did not move" in text_of(response)
    assert driver.cycle(cycle_id).version == previous


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"to": "1"}, "cycles", "choose at least one cycle to move"),
        ({"to": "1", "cycles": ["999"]}, "cycles", "not a running cycle of pi_cycle: #999"),
        ({"to": "1", "cycles": ["x"]}, "cycles", "Choose cycles."),
        ({"to": "9", "cycles": ["1"]}, "target", "Choose a version."),
    ],
)
def test_a_bad_choice_is_named_at_its_field_and_moves_nothing(
    browser, driver, previous, form, field, message
):
    cycle_id = driver.start()
    ada = browser("ada")
    events = len(driver.events())
    response = ada.post("/models/pi_cycle/migrate", form)
    assert response.status_code == 422
    page = text_of(response)
    assert f'id="{field}-error-1"' in page and message in page
    assert driver.cycle(cycle_id).version == previous
    assert len(driver.events()) == events


@pytest.mark.parametrize("name", ["pia", "audrey"])
def test_every_page_and_post_is_for_admins_only(browser, driver, previous, name):
    cycle_id = driver.start()
    someone = browser(name)
    for path in (
        "/models",
        "/models/pi_cycle/diff?from=1&to=2",
        "/models/pi_cycle/versions/1/diagram",
        "/models/pi_cycle/diff/marks?from=1&to=2",
        "/models/pi_cycle/migrate",
    ):
        assert someone.get(path).status_code == 403, path
    response = someone.post("/models/pi_cycle/migrate", {"to": "1", "cycles": [str(cycle_id)]})
    assert response.status_code == 403
    assert driver.cycle(cycle_id).version == previous
    assert 'href="/models"' not in text_of(someone.get("/"))


def test_a_post_without_its_csrf_token_moves_nothing(browser, driver, previous):
    cycle_id = driver.start()
    ada = browser("ada")
    form = {"to": "1", "cycles": [str(cycle_id)]}
    assert ada.post("/models/pi_cycle/migrate", form, csrf=False).status_code == 400
    assert driver.cycle(cycle_id).version == previous
