"""The process model pages (admins): the list, a version's files and bundle, Check and
Deploy over the same service as the API, the form preview; and what they refuse."""

from __future__ import annotations

import io
import re
import zipfile
from html import unescape

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.decision_table_edits import read_table
from picycle.engine.services import audit, definitions

from tests.pages.conftest import text_of

VERSION_1 = "/models/pi_cycle/versions/1"
JUEL = b"${approved == true}"
PYTHON_CONDITION = b"approved == True"


def shipped() -> dict[str, bytes]:
    return read_bundle(shipped_processes())


def with_juel() -> bytes:
    bpmn = shipped()["pi_cycle.bpmn"]
    assert bpmn.count(PYTHON_CONDITION) == 1
    return bpmn.replace(PYTHON_CONDITION, JUEL)


def post_files(browser, path: str, files: dict[str, bytes], *, json: bool = False, **form):
    data = {"csrf_token": browser.token, **form}
    data["files"] = [(io.BytesIO(content), name) for name, content in files.items()]
    headers = {"Accept": "application/json"} if json else {}
    return browser.client.post(path, data=data, headers=headers, content_type="multipart/form-data")


def versions(driver) -> list[int]:
    with driver.engine.unit_of_work() as uow:
        return [v.version for v in definitions.versions_of(uow, "pi_cycle")]


def test_an_admin_sees_the_models_their_versions_and_files(browser):
    ada = browser("ada")
    listed = text_of(ada.get("/models"))
    assert "/models/pi_cycle" in listed and "/models/pi_cycle/versions/1" in listed
    assert "/models/pi_cycle/versions/1" in text_of(ada.get("/models/pi_cycle"))
    page = text_of(ada.get(VERSION_1))
    assert 'data-model="pi_cycle.bpmn"' in page
    for name in shipped():
        assert f">{name}</a>" in page
    assert (
        'method="post" enctype="multipart/form-data" action="/models/pi_cycle/versions/1/deploy"'
        in page
    )
    assert 'formaction="/models/pi_cycle/versions/1/check"' in page
    served = ada.get(f"{VERSION_1}/files/pi_cycle.bpmn")
    assert served.data == shipped()["pi_cycle.bpmn"]
    assert "sandbox" in served.headers["Content-Security-Policy"]


def test_the_bundle_download_is_the_bundle_deployed(browser):
    response = browser("ada").client.get(f"{VERSION_1}/bundle.zip")
    assert response.mimetype == "application/zip"
    assert "pi_cycle-1.zip" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert {name: archive.read(name) for name in archive.namelist()} == shipped()


@pytest.mark.parametrize("name", ["pia", "audrey"])
def test_only_admins_see_the_model_pages(browser, name):
    someone = browser(name)
    for path in ("/models", "/models/pi_cycle", VERSION_1, f"{VERSION_1}/bundle.zip"):
        assert someone.get(path).status_code == 403, path


@pytest.mark.parametrize("action", ["check", "deploy"])
def test_a_non_admin_cannot_check_or_deploy(browser, driver, action):
    pia = browser("pia")
    response = post_files(pia, f"{VERSION_1}/{action}", {"pi_cycle.bpmn": with_juel()})
    assert response.status_code == 403
    assert versions(driver) == [1]


def test_a_post_without_its_csrf_token_changes_nothing(browser, driver):
    ada = browser("ada")
    data = {"files": [(io.BytesIO(shipped()["pi_cycle.bpmn"] + b"\n"), "pi_cycle.bpmn")]}
    response = ada.client.post(f"{VERSION_1}/deploy", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert versions(driver) == [1]


def test_check_pins_a_juel_condition_on_its_flow(browser, driver):
    ada = browser("ada")
    ada.get(VERSION_1)
    response = post_files(ada, f"{VERSION_1}/check", {"pi_cycle.bpmn": with_juel()}, json=True)
    answer = response.get_json()
    assert answer["valid"] is False
    juel = [p for p in answer["problems"] if "JUEL" in p["message"]]
    assert [p["element_id"] for p in juel] == ["flow_approved"]
    assert "without ${ }" in juel[0]["message"] and "write True" in juel[0]["message"]
    assert versions(driver) == [1]


def test_check_without_script_lists_the_problems_on_the_page(browser):
    ada = browser("ada")
    ada.get(VERSION_1)
    response = post_files(ada, f"{VERSION_1}/check", {"pi_cycle.bpmn": with_juel()})
    page = text_of(response)
    assert response.status_code == 200
    assert 'data-element="flow_approved"' in page and "JUEL" in page


def test_deploy_publishes_a_new_version_with_the_other_files_carried_over(browser, driver):
    ada = browser("ada")
    ada.get(VERSION_1)
    edited = shipped()["pi_cycle.bpmn"].replace(b'name="Leadership approval"', b'name="Approve"')
    response = post_files(ada, f"{VERSION_1}/deploy", {"pi_cycle.bpmn": edited}, json=True)
    assert response.get_json() == {
        "valid": True,
        "unchanged": False,
        "url": "/models/pi_cycle/versions/2",
    }
    assert versions(driver) == [1, 2]
    with driver.engine.unit_of_work() as uow:
        deployed = definitions.bundle_files(uow, "pi_cycle", 2)
        filters = audit.EventFilter(type="definition_deployed", actor="ada")
        events = audit.list_events(uow, SYSTEM, filters).items
    assert deployed == {**shipped(), "pi_cycle.bpmn": edited}
    assert [event.data["version"] for event in events] == [2]


def test_a_refused_deploy_says_why_and_deploys_nothing(browser, driver):
    ada = browser("ada")
    ada.get(VERSION_1)
    response = post_files(ada, f"{VERSION_1}/deploy", {"pi_cycle.bpmn": with_juel()})
    assert response.status_code == 422
    assert "JUEL" in text_of(response)
    assert versions(driver) == [1]


def test_an_uploaded_archive_deploys_as_a_whole_bundle(browser, driver):
    ada = browser("ada")
    ada.get(VERSION_1)
    bundle = {**shipped(), "pi_cycle.bpmn": shipped()["pi_cycle.bpmn"] + b"\n"}
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as packed:
        for name, content in bundle.items():
            packed.writestr(name, content)
    archive.seek(0)
    response = ada.client.post(
        f"{VERSION_1}/deploy",
        data={"csrf_token": ada.token, "archive": (archive, "bundle.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert response.location.endswith("/models/pi_cycle/versions/2")
    assert "Deployed as version 2" in text_of(ada.get(response.location))


def test_xml_with_entities_is_refused_and_nothing_expands(browser, driver):
    ada = browser("ada")
    ada.get(VERSION_1)
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><x>&b;</x>'
    )
    answer = post_files(ada, f"{VERSION_1}/check", {"pi_cycle.bpmn": laughs}, json=True).get_json()
    assert answer["valid"] is False
    assert any("DOCTYPE" in p["message"] for p in answer["problems"])


def test_a_bundle_over_the_upload_limit_is_refused(app, browser, driver):
    app.extensions["picycle"] = app.extensions["picycle"].__class__(
        **{**vars(app.extensions["picycle"]), "max_upload_length": 100_000}
    )
    ada = browser("ada")
    ada.get(VERSION_1)
    response = post_files(ada, f"{VERSION_1}/check", {"pi_cycle.bpmn": b" " * 200_000})
    assert response.status_code == 413
    assert versions(driver) == [1]


def test_names_and_messages_from_a_model_are_shown_as_text(browser):
    ada = browser("ada")
    ada.get(VERSION_1)
    hostile = shipped()["pi_cycle.bpmn"].replace(
        b"approved == True", b"&lt;script&gt;alert(1)&lt;/script&gt;"
    )
    page = text_of(post_files(ada, f"{VERSION_1}/check", {"pi_cycle.bpmn": hostile}))
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)" in page


def test_the_form_preview_draws_the_form_or_says_what_is_wrong(browser):
    ada = browser("ada")
    ada.get(VERSION_1)
    schema = (
        '{"type": "object", "properties": {"why": {"type": "string", "title": "Why?"},'
        ' "done": {"type": "boolean", "title": "Done?"}}}'
    )
    drawn = ada.post("/models/form-preview", {"schema": schema})
    assert drawn.status_code == 200
    assert 'for="f-why"' in text_of(drawn) and "Why?" in text_of(drawn)
    assert 'for="f-done"' in text_of(drawn) and "None" not in text_of(drawn)  # no description
    broken = ada.post("/models/form-preview", {"schema": '{"type": "object", '})
    assert broken.status_code == 422
    assert 'id="form-schema-problems"' in text_of(broken)
    assert browser("pia").post("/models/form-preview", {"schema": schema}).status_code == 403


def table_fields(html: str) -> dict[str, str]:
    """The decision table's inputs as the editor posts them."""
    found = re.findall(
        r'<input(?: type="hidden")? (?:id="[^"]*" )?name="([^"]+)" value="([^"]*)"', html
    )
    return {name: unescape(value) for name, value in found}


def test_the_decision_table_is_drawn_and_its_edits_written_back(browser):
    ada = browser("ada")
    ada.get(VERSION_1)
    dmn = shipped()["gap_priority.dmn"].decode()
    opened = ada.post("/models/decision-table", {"dmn": dmn}).get_json()
    assert opened["html"].count("<tr>") == 1 + 8  # the heading's row and a row per rule
    fields = table_fields(opened["html"])
    assert fields["rules"] == "8" and fields["rule.1.in.1"] == "4 <= ? <= 5"
    edited = {**fields, "rule.1.out.0": '"medium"', "add_rule": "1"}
    answer = ada.post("/models/decision-table", {"dmn": dmn, **edited}).get_json()
    table = read_table(answer["xml"].encode())
    assert table.rules[1].outputs == ['"medium"'] and len(table.rules) == 9
    assert answer["html"].count("<tr>") == 1 + 9


def test_the_decision_table_editor_refuses_what_it_cannot_edit(browser):
    ada = browser("ada")
    ada.get(VERSION_1)
    laughs = '<!DOCTYPE d [<!ENTITY a "a">]><definitions>&a;</definitions>'
    refused = ada.post("/models/decision-table", {"dmn": laughs})
    assert refused.status_code == 422
    assert "DOCTYPE" in refused.get_json()["html"] and refused.get_json()["xml"] is None
    dmn = shipped()["gap_priority.dmn"].decode()
    too_many = ada.post("/models/decision-table", {"dmn": dmn, "rules": "99999"})
    assert too_many.status_code == 422
    assert browser("pia").post("/models/decision-table", {"dmn": dmn}).status_code == 403


def test_a_process_name_with_markup_is_shown_as_text(browser, driver):
    hostile = shipped()["pi_cycle.bpmn"].replace(
        b'name="Performance-improvement cycle"', b'name="&lt;img src=x onerror=alert(1)&gt;"'
    )
    with driver.engine.unit_of_work() as uow:
        definitions.deploy(uow, SYSTEM, {**shipped(), "pi_cycle.bpmn": hostile})
    ada = browser("ada")
    for path in ("/models", "/models/pi_cycle", "/models/pi_cycle/versions/2"):
        page = text_of(ada.get(path))
        assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page, path


def test_a_process_id_with_control_characters_names_nothing(browser):
    ada = browser("ada")
    assert ada.get("/models/pi%00cycle").status_code == 404
    assert ada.get("/models/pi%00cycle/versions/1/bundle.zip").status_code == 404
