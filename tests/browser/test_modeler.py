"""The process modeler in a real browser, as an admin: open the PI cycle, add a user task
with a new form and a condition written in JUEL, press Check and see the problem pinned on
that flow, fix it, and deploy version 2. In English and in Arabic (right to left), every
page checked with axe-core under the pages' content security policy."""

from __future__ import annotations

import json

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.decision_table_edits import read_table
from picycle.engine.services import definitions, users
from picycle.engine.spiff.parser import parse_bundle
from picycle.engine.spiff.serializer import dump_spec

from tests.browser.pairs import EACH_DATABASE_IN_A_LANGUAGE
from tests.browser.test_cycle_walk import DESKTOP, PHONE, Person
from tests.pages.conftest import PASSWORD

pytestmark = pytest.mark.browser

VERSION_1 = "/models/pi_cycle/versions/1"
FORM = {
    "title": "Review the design",
    "type": "object",
    "properties": {"clear": {"type": "boolean", "title": "Is the design clear?"}},
    "required": [],
}


def shape(page, element_id: str):
    return page.locator(f"#modeler .djs-element[data-element-id='{element_id}']")


def append(page, action: str) -> None:
    """Append to the selected element from its context pad; leave the label editing."""
    page.click(f".djs-context-pad [data-action='{action}']")
    page.keyboard.press("Escape")


def signed_in_ada(chromium, live, shots, driver, language: str) -> Person:
    """ada, the admin, signed in to the pages in ``language``."""
    with driver.engine.unit_of_work() as uow:
        users.set_password(uow, SYSTEM, "ada", PASSWORD)
    ada = Person(chromium, live, shots, "ada", language)
    ada.sign_in()
    return ada


@EACH_DATABASE_IN_A_LANGUAGE
def test_an_admin_adds_a_task_checks_fixes_and_deploys(chromium, live, camera, driver, language):
    ada = signed_in_ada(chromium, live, camera(f"modeler-{language}"), driver, language)
    page = ada.page
    page.goto("/models")
    ada.look("models")
    page.click("a[href='/models/pi_cycle']")
    ada.look("versions")
    page.click(f"a[href='{VERSION_1}']")
    page.wait_for_selector("#modeler .djs-container svg")
    ada.look("modeler")
    assert ada.fits(360)
    assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "ar" else "ltr")
    assert page.evaluate("getComputedStyle(document.querySelector('.canvas')).direction") == "ltr"

    # A user task after "Design approved?", with a new form, then an end.
    shape(page, "design_approved").click()
    append(page, "append.append-task")
    page.click(".djs-context-pad [data-action='replace']")
    page.click(".djs-popup [data-id='replace-with-user-task']")
    task_id = (
        page.locator(".panel [data-field='name']")
        .evaluate("field => field.previousElementSibling.textContent")
        .split(":")[-1]
        .strip()
    )
    page.fill(".panel [data-field='name'] input", "Review the design")
    page.fill(".panel [data-field='form'] input", "review-design.schema.json")
    page.click(".panel [data-action='edit-form']")
    page.fill("#form-schema", json.dumps(FORM, indent=2))
    page.wait_for_selector(".form-preview label:has-text('Is the design clear?')")
    ada.look("form-editor")
    append(page, "append.end-event")

    # The flow into it gets a condition in JUEL: Check pins the problem on that flow.
    shape(page, "design_approved").click()
    condition = page.locator(".panel [data-field='condition']").last
    flow_id = condition.get_attribute("data-flow")
    condition.locator("input").fill("${approved == true}")
    page.click("[data-action='check']")
    problem = page.locator("#problems li.error", has_text="JUEL")
    problem.wait_for()
    assert page.locator(f".djs-connection.picycle-problem[data-element-id='{flow_id}']").count()
    ada.look("checked")
    problem.locator("button").click()
    assert page.locator(f".panel [data-field='condition'][data-flow='{flow_id}']").count() == 1

    # Fixed in Python, checked clean, deployed as version 2.
    page.fill(f".panel [data-field='condition'][data-flow='{flow_id}'] input", "approved == None")
    page.click("[data-action='check']")
    page.wait_for_function(
        "() => !document.querySelector('#problems li.error') && "
        "!document.querySelector('#problems').hidden"
    )
    page.click("[data-action='deploy']")
    page.wait_for_url("**/models/pi_cycle/versions/2")
    page.wait_for_selector("#modeler .djs-container svg")
    ada.look("version-2")
    with driver.engine.unit_of_work() as uow:
        files = definitions.bundle_files(uow, "pi_cycle", 2)
        before = definitions.bundle_files(uow, "pi_cycle", 1)
    assert json.loads(files["forms/review-design.schema.json"]) == FORM
    bpmn = files["pi_cycle.bpmn"].decode()
    assert f'<bpmn:userTask id="{task_id}" name="Review the design"' in bpmn
    assert 'value="review-design.schema.json"' in bpmn
    assert "approved == None" in bpmn
    carried = {name: before[name] for name in before if name != "pi_cycle.bpmn"}
    assert {name: files[name] for name in carried} == carried  # the files not edited


def test_a_decision_table_is_edited_as_a_table_and_deployed(chromium, live, camera, driver):
    ada = signed_in_ada(chromium, live, camera("modeler-decision-en"), driver, "en")
    page = ada.page
    page.goto(VERSION_1)
    page.wait_for_selector("#modeler .djs-container svg")
    shape(page, "prioritise_gaps").click()
    page.click(".panel [data-action='edit-decision']")
    rows = page.locator(".decision-editor tbody tr")
    rows.nth(7).wait_for()
    assert rows.count() == 8
    page.click(".decision-editor [data-action='add-rule']")
    rows.nth(8).wait_for()
    assert page.evaluate("document.activeElement.name") == "rule.8.in.0"  # the new row
    page.click(".decision-editor tbody tr:nth-child(9) [data-action='remove-rule']")
    page.wait_for_function(
        "() => document.querySelectorAll('.decision-editor tbody tr').length === 8"
    )
    page.get_by_role("textbox", name="1 Priority").fill('"medium"')
    ada.look("decision-table")
    page.click("[data-action='check']")
    page.wait_for_selector("#problems:not([hidden])")
    assert page.locator("#problems li.error").count() == 0
    page.click("[data-action='deploy']")
    page.wait_for_url("**/models/pi_cycle/versions/2")
    with driver.engine.unit_of_work() as uow:
        dmn = definitions.bundle_files(uow, "pi_cycle", 2)["gap_priority.dmn"]
    table = read_table(dmn)
    assert table.rules[0].outputs == ['"medium"'] and len(table.rules) == 8


def test_the_modeler_saves_a_model_as_the_engine_read_it(chromium, live, camera, driver):
    """Opened and deployed unchanged, the file bpmn-js writes is another text of the same
    process: every task, flow, script, condition, timer and spiffworkflow extension the
    engine reads (its serialized spec) is as in the file written on disk."""
    ada = signed_in_ada(chromium, live, camera("modeler-round-trip-en"), driver, "en")
    page = ada.page
    page.goto(VERSION_1)
    page.wait_for_selector("#modeler .djs-container svg")
    page.click("[data-action='deploy']")
    page.wait_for_url("**/models/pi_cycle/versions/2")
    with driver.engine.unit_of_work() as uow:
        before = definitions.bundle_files(uow, "pi_cycle", 1)
        after = definitions.bundle_files(uow, "pi_cycle", 2)
    assert after["pi_cycle.bpmn"] != before["pi_cycle.bpmn"]  # written anew by bpmn-js
    assert engine_reading(after) == engine_reading(before)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_diagram_opens_whole_beside_the_tool_palette(chromium, live, camera, driver, viewport):
    ada = signed_in_ada(chromium, live, camera("modeler-fitted"), driver, "ar")
    page = ada.page
    page.set_viewport_size(viewport)
    page.goto(VERSION_1)
    shape(page, "cycle_opened").wait_for()
    page.wait_for_function("() => !document.querySelector('#modeler').hidden")
    ada.look(f"modeler-{viewport['width']}")
    canvas = page.locator("#modeler .canvas").bounding_box()
    palette = page.locator("#modeler .djs-palette").bounding_box()
    diagram = page.locator("#modeler .djs-container svg .viewport").bounding_box()
    assert diagram["x"] >= palette["x"] + palette["width"]  # the lanes' labels and start
    assert diagram["x"] + diagram["width"] <= canvas["x"] + canvas["width"]
    assert diagram["y"] >= canvas["y"]
    assert diagram["y"] + diagram["height"] <= canvas["y"] + canvas["height"]


def engine_reading(bundle: dict[str, bytes]) -> list[str]:
    return [dump_spec(p.spec, p.subprocess_specs) for p in parse_bundle(bundle)]
