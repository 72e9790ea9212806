"""Steps for features/units.feature, in the users' words, through the HTTP API."""

from __future__ import annotations

import pytest
from picycle.api import create_app
from picycle.engine.actors import SYSTEM
from picycle.engine.services import units, users
from pytest_bdd import given, parsers, scenarios, then, when

scenarios("units.feature")

MINISTRY = "Ministry of Public Works"
PLANNING = "Directorate of Planning"
FINANCE = "Directorate of Finance"


@pytest.fixture
def org(driver):
    """The units' ids, the people's tokens, each directorate's cycle, and an API client."""
    app = create_app({"PICYCLE_ENGINE": driver.engine, "TESTING": True})
    return {"units": {}, "tokens": {}, "cycles": {}, "client": app.test_client(), "seen": None}


def call(org, who: str, method: str, path: str, **kwargs):
    headers = {"Authorization": f"Bearer {org['tokens'][who]}"}
    return getattr(org["client"], method)("/api/v1" + path, headers=headers, **kwargs)


def gap_analysis(driver, org, unit: str) -> str:
    return driver.task(org["cycles"][unit], "identify_gaps").id


@given("the Ministry of Public Works with the Directorates of Planning and of Finance below it")
def ministry(driver, org):
    with driver.engine.unit_of_work() as uow:
        org["units"][MINISTRY] = units.add_unit(uow, SYSTEM, MINISTRY).id
    for name in (PLANNING, FINANCE):
        with driver.engine.unit_of_work() as uow:
            directorate = units.find_unit(uow, name).id
            units.update_unit(uow, SYSTEM, directorate, parent_id=org["units"][MINISTRY])
        org["units"][name] = directorate


@given("these people:", target_fixture="people")
def people(driver, org, datatable):
    header, *rows = datatable
    for row in rows:
        person = dict(zip(header, row, strict=True))
        held = [(person["group"], org["units"][person["unit"]])]
        with driver.engine.unit_of_work() as uow:
            added = users.add_user(uow, SYSTEM, person["name"], "member", [], held)
        org["tokens"][person["name"]] = added.token
    with driver.engine.unit_of_work() as uow:
        org["tokens"]["ada"] = users.issue_token(uow, SYSTEM, "ada").token


@given("each directorate has a cycle running")
def cycles_running(driver, org):
    for unit in (PLANNING, FINANCE):
        response = call(org, "paula", "post", "/cycles", json={"unit": unit, "title": "Permits"})
        assert response.status_code == 201, response.json
        org["cycles"][unit] = response.json["id"]


@given("each directorate has assessed its performance")
def assessed(driver, org):
    for unit in (PLANNING, FINANCE):
        driver.assess(org["cycles"][unit])


@given("the Directorate of Planning has designed its microprojects")
def designed(driver, org, clock):
    cycle_id = org["cycles"][PLANNING]
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, clock().date())


@when(parsers.parse("{who} opens her inbox"))
def opens_inbox(org, who):
    response = call(org, who, "get", "/tasks")
    assert response.status_code == 200
    org["seen"] = response.json["items"]


def seen_cycles(org, title: str) -> set[int]:
    return {task["cycle_id"] for task in org["seen"] if task["title"] == title}


@then("she sees the gap analysis of the Directorate of Planning only")
def sees_planning_only(org):
    assert seen_cycles(org, "Identify gaps") == {org["cycles"][PLANNING]}
    assert len(org["seen"]) == 1


@then("she completes the gap analysis of the Directorate of Planning")
def completes_planning(driver, org):
    task = call(org, "dina", "get", f"/tasks/{gap_analysis(driver, org, PLANNING)}").json
    analysed = [
        {**gap, "cause_category": "capacity", "cause": "Short staffed", "impact": 4, "effort": 2}
        for gap in task["form_data"]["gaps"]
    ]
    done = call(
        org, "dina", "post", f"/tasks/{task['id']}/complete", json={"data": {"gaps": analysed}}
    )
    assert done.status_code == 200, done.json
    assert done.json["completed_by"] == "dina"


@then(
    "the gap analysis of the Directorate of Finance is not found for her, to read, claim or "
    "complete"
)
def finance_not_found(driver, org):
    task_id = gap_analysis(driver, org, FINANCE)
    attempts = [
        ("get", f"/tasks/{task_id}", {}),
        ("post", f"/tasks/{task_id}/claim", {}),
        ("post", f"/tasks/{task_id}/complete", {"json": {"data": {"gaps": []}}}),
    ]
    for method, path, kwargs in attempts:
        assert call(org, "dina", method, path, **kwargs).status_code == 404, path
    assert driver.task(org["cycles"][FINANCE], "identify_gaps").claimed_by is None


@then("she sees the assessment of the Directorate of Planning and of the Directorate of Finance")
def sees_both(org):
    assert seen_cycles(org, "Assess performance") == set(org["cycles"].values())


@then("the ministry's cycles are those of both directorates")
def ministry_cycles(org):
    listed = call(org, "paula", "get", f"/cycles?unit={MINISTRY}").json
    assert {cycle["id"] for cycle in listed["items"]} == set(org["cycles"].values())


@when("leila approves the design of the Directorate of Planning")
def leila_approves(driver, org):
    task_id = driver.task(org["cycles"][PLANNING], "leadership_approval").id
    body = {"data": {"approved": True, "comment": "Go ahead"}}
    response = call(org, "leila", "post", f"/tasks/{task_id}/complete", json=body)
    assert response.status_code == 200, response.json


@then("the cycle of the Directorate of Planning moves on to implementing its microprojects")
def implementing(driver, org):
    assert len(driver.open_tasks(org["cycles"][PLANNING], "implement_microproject")) == 2


@given("dina sees the gap analysis of the Directorate of Planning")
def dina_sees(driver, org):
    task_id = gap_analysis(driver, org, PLANNING)
    assert call(org, "dina", "get", f"/tasks/{task_id}").status_code == 200


@when("an admin removes dina's membership of the Department Team in the Directorate of Planning")
def membership_removed(org):
    response = call(org, "ada", "patch", "/users/dina", json={"memberships": []})
    assert response.status_code == 200, response.json
    assert response.json["memberships"] == []


@then("on her next request the gap analysis of the Directorate of Planning is not found for her")
def no_longer_found(driver, org):
    task_id = gap_analysis(driver, org, PLANNING)
    assert call(org, "dina", "get", f"/tasks/{task_id}").status_code == 404


@then("her inbox is empty")
def inbox_empty(org):
    assert call(org, "dina", "get", "/tasks").json["total"] == 0
