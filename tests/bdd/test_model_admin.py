"""Steps for features/model_admin.feature, in the admin's words, through the HTTP API."""

from __future__ import annotations

import io
import json

import pytest
from picycle.api import create_app
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.services import users
from pytest_bdd import given, parsers, scenarios, then, when

from tests.support import INDICATORS

scenarios("model_admin.feature")

PLANNING = "Directorate of Planning"
FINANCE = "Directorate of Finance"
ASSESSMENT_FORM = "forms/assess-performance.schema.json"


@pytest.fixture
def admin(driver):
    """What the admin works with and has seen."""
    return {"client": None, "headers": None, "cycles": {}, "draft": None, "answer": None}


def _call(admin, method: str, path: str, **kwargs):
    send = getattr(admin["client"], method)
    return send("/api/v1" + path, headers=admin["headers"], **kwargs)


def _upload(admin, bundle: dict[str, bytes]):
    parts = [(io.BytesIO(content), name) for name, content in bundle.items()]
    return _call(
        admin,
        "post",
        "/process-definitions",
        data={"files": parts},
        content_type="multipart/form-data",
    )


def _edit(bundle: dict[str, bytes], name: str, old: str, new: str) -> dict[str, bytes]:
    text = bundle[name].decode()
    assert old in text, old
    return {**bundle, name: text.replace(old, new).encode()}


def _cycle(admin, unit: str) -> dict:
    response = _call(admin, "get", f"/cycles/{admin['cycles'][unit]}")
    assert response.status_code == 200
    return response.json


# --- background --------------------------------------------------------------------------


@given("I am an admin with an API token")
def with_token(driver, admin):
    with driver.engine.unit_of_work() as uow:
        token = users.issue_token(uow, SYSTEM, "ada").token
    app = create_app({"PICYCLE_ENGINE": driver.engine, "TESTING": True})
    admin["client"] = app.test_client()
    admin["headers"] = {"Authorization": f"Bearer {token}"}


@given("the Directorate of Planning is assessing its performance")
def planning_assesses(driver, admin):
    admin["cycles"][PLANNING] = driver.start(unit=PLANNING)


@given("the Directorate of Finance is identifying its gaps")
def finance_identifies(driver, admin):
    cycle_id = driver.start(unit=FINANCE)
    driver.assess(cycle_id)
    admin["cycles"][FINANCE] = cycle_id


# --- a changed form and rule -------------------------------------------------------------


@given(
    "I have drafted a new version: the assessment asks where each indicator's data comes "
    "from, and a high-impact gap that takes much effort becomes high priority"
)
def drafted(admin):
    bundle = read_bundle(shipped_processes())
    form = json.loads(bundle[ASSESSMENT_FORM])
    form["properties"]["indicators"]["items"]["properties"]["source"] = {
        "type": "string",
        "title": "Data source",
        "description": "Where the figures come from, e.g. the permit register.",
        "maxLength": 200,
    }
    bundle[ASSESSMENT_FORM] = json.dumps(form, indent=2).encode()
    # rule_3: impact 4-5, effort 4-5 was "medium".
    admin["draft"] = _edit(
        bundle,
        "gap_priority.dmn",
        '<outputEntry id="rule_3_output_priority">\n          <text>"medium"</text>',
        '<outputEntry id="rule_3_output_priority">\n          <text>"high"</text>',
    )


@when(
    "I upload the draft with a JUEL condition, a form that does not exist and a task nobody "
    "can reach"
)
def upload_broken(admin):
    broken = _edit(admin["draft"], "pi_cycle.bpmn", "approved == True", "${approved}")
    broken = _edit(
        broken,
        "pi_cycle.bpmn",
        'value="leadership-approval.schema.json"',
        'value="leadership-decision.schema.json"',
    )
    broken = _edit(
        broken,
        "pi_cycle.bpmn",
        '<bpmn:userTask id="evaluate_results"',
        '<bpmn:userTask id="check_twice" name="Check twice" /><bpmn:userTask id="evaluate_results"',
    )
    admin["answer"] = _upload(admin, broken)


@then("the upload is refused, naming each mistake with its file, line and element")
def refused_with_problems(admin):
    response = admin["answer"]
    assert response.status_code == 422
    errors = [p for p in response.json["problems"] if p["severity"] == "error"]
    found = {p["element_id"]: p for p in errors}
    assert "JUEL" in found["flow_approved"]["message"]
    assert "leadership-decision.schema.json" in found["leadership_approval"]["message"]
    unreachable = [p for p in errors if "cannot be reached" in p["message"]]
    assert [p["element_id"] for p in unreachable] == ["check_twice"]
    for problem in errors:
        assert problem["file"] == "pi_cycle.bpmn" and problem["line"] > 0


@then("nothing new is deployed")
def nothing_deployed(admin):
    versions = _call(admin, "get", "/process-definitions/pi_cycle/versions").json["items"]
    assert [v["version"] for v in versions] == [1]


@when("I fix the draft and deploy it")
def deploy_fixed(admin):
    admin["answer"] = _upload(admin, admin["draft"])


@then("version 2 of the PI cycle is deployed")
def version_2(admin):
    response = admin["answer"]
    assert response.status_code == 201, response.json
    assert [(d["process_id"], d["version"]) for d in response.json["definitions"]] == [
        ("pi_cycle", 2)
    ]
    listing = _call(admin, "get", "/process-definitions").json["items"]
    assert [(d["process_id"], d["version"], d["deployed_by"]) for d in listing] == [
        ("pi_cycle", 2, "ada")
    ]


@then(
    "the difference from version 1 shows the changed assessment form and the changed priority rule"
)
def difference(admin):
    diff = _call(admin, "get", "/process-definitions/pi_cycle/diff?from=1&to=2").json
    assert [(f["file"], f["fields_changed"]) for f in diff["forms"]["changed"]] == [
        (ASSESSMENT_FORM, ["indicators"])
    ]
    (rule,) = diff["decision_rules"]["changed"]
    assert rule["id"] == "rule_3" and '"high"' in rule["name"]
    assert diff["elements"] == {"added": [], "removed": [], "changed": []}


@when("I move the running cycles onto the latest version")
def move_all(admin):
    admin["answer"] = _call(admin, "post", "/process-definitions/pi_cycle/migrate", json={})


@then("both cycles run on version 2")
def both_moved(admin):
    body = admin["answer"].json
    assert (body["migrated_count"], body["blocked_count"]) == (2, 0)
    assert {_cycle(admin, unit)["version"] for unit in (PLANNING, FINANCE)} == {2}


@then("the Directorate of Planning can record where each indicator's data comes from")
def record_sources(driver, admin):
    sourced = [{**indicator, "source": "Permit register"} for indicator in INDICATORS]
    driver.assess(admin["cycles"][PLANNING], indicators=sourced)
    recorded = _cycle(admin, PLANNING)["indicators"]
    assert [i["source"] for i in recorded] == ["Permit register", "Permit register"]


@then("the Directorate of Finance's high-impact gap that takes much effort is high priority")
def new_priority(driver, admin):
    cycle_id = admin["cycles"][FINANCE]
    gaps = driver.task(cycle_id, "identify_gaps").form_data["gaps"]
    analysed = [
        {**gap, "cause_category": "capacity", "cause": "Two staff", "impact": 5, "effort": 5}
        for gap in gaps
    ]
    driver.complete("dana", cycle_id, "identify_gaps", {"gaps": analysed})
    assert {g["priority"] for g in _cycle(admin, FINANCE)["gaps"]} == {"high"}


@then(
    "the audit trail shows that I deployed version 2 and then moved each cycle from version 1 to 2"
)
def audited(driver, admin):
    trail = [
        (e.type, e.actor, e.cycle_id, e.data.get("version"), e.data.get("from_version"))
        for e in driver.events()
        if e.type in ("definition_deployed", "cycle_migrated") and e.actor == "ada"
    ]
    assert trail == [
        ("definition_deployed", "ada", None, 2, None),
        ("cycle_migrated", "ada", admin["cycles"][PLANNING], None, 1),
        ("cycle_migrated", "ada", admin["cycles"][FINANCE], None, 1),
    ]
    moves = [e for e in driver.events() if e.type == "cycle_migrated"]
    assert {e.data["to_version"] for e in moves} == {2}


# --- a move refused ----------------------------------------------------------------------


@given("I have deployed a version 2 that renames the assessment step")
def renamed_step(admin):
    bundle = read_bundle(shipped_processes())
    renamed = _edit(bundle, "pi_cycle.bpmn", "assess_performance", "assess_indicators")
    # The step's rules keep their name: only the element is renamed.
    renamed = _edit(
        renamed, "pi_cycle.bpmn", 'value="assess_indicators"', 'value="assess_performance"'
    )
    assert _upload(admin, renamed).status_code == 201


@when("I move the Directorate of Planning's cycle onto version 2")
def move_planning(admin):
    cycle_id = admin["cycles"][PLANNING]
    admin["answer"] = _call(admin, "post", f"/cycles/{cycle_id}/migrate", json={"to_version": 2})


@then(parsers.parse('the move is refused because the cycle waits at "{element_id}"'))
def move_refused(admin, element_id):
    response = admin["answer"]
    assert response.status_code == 409
    (reason,) = response.json["reasons"]
    assert f"'{element_id}'" in reason


@then("the Directorate of Planning's cycle still runs on version 1")
def still_on_1(admin):
    assert _cycle(admin, PLANNING)["version"] == 1


@then("the audit trail shows no move")
def no_move(driver):
    assert not [e for e in driver.events() if e.type == "cycle_migrated"]
