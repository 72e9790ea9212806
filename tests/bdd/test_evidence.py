"""Steps for features/evidence.feature, in the PI unit's and the auditor's words, through
the HTTP API."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from picycle.api import create_app
from picycle.engine import Engine
from picycle.engine.actors import SYSTEM
from picycle.engine.evidence_store import FileStore
from picycle.engine.services import users
from pytest_bdd import given, parsers, scenarios, then, when

from tests.support import Driver

scenarios("evidence.feature")

SHEET = b"indicator,baseline,target\npermits,55,80\nbacklog,120,60\n"
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2
PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(300)


@pytest.fixture
def driver(engine, database_url, clock, tmp_path):
    """The people, on an engine keeping evidence files in this scenario's own folder."""
    made = Driver(lambda: Engine(database_url, clock, FileStore(tmp_path / "kept")))
    made.add_people()
    with made.engine.unit_of_work() as uow:
        users.add_user(uow, SYSTEM, "pim", "member", ["PI Unit"])
    yield made
    made.engine.dispose()


@pytest.fixture
def desk(driver):
    """An API client, the people's tokens, and what the last answer was."""
    app = create_app({"PICYCLE_ENGINE": driver.engine, "TESTING": True})
    return {"client": app.test_client(), "tokens": {}, "answer": None, "attached": None}


def call(driver, desk, who: str, method: str, path: str, **kwargs):
    if who not in desk["tokens"]:
        with driver.engine.unit_of_work() as uow:
            desk["tokens"][who] = users.issue_token(uow, SYSTEM, who).token
    headers = {"Authorization": f"Bearer {desk['tokens'][who]}"}
    return getattr(desk["client"], method)("/api/v1" + path, headers=headers, **kwargs)


def assessment(driver, cycle) -> str:
    return f"/tasks/{driver.task(cycle['id'], 'assess_performance').id}/evidence"


def attach(driver, desk, cycle, who: str, content: bytes, name: str):
    path = assessment(driver, cycle)
    desk["answer"] = answer = call(
        driver, desk, who, "post", path, data={"file": (io.BytesIO(content), name)}
    )
    if answer.status_code == 201:
        desk["attached"] = answer.json
    return answer


def listed(driver, desk, cycle) -> list[dict]:
    return call(driver, desk, "pia", "get", assessment(driver, cycle)).json["items"]


def refusal(desk) -> str:
    answer = desk["answer"]
    assert answer.status_code == 422, answer.get_data(as_text=True)
    (message,) = answer.json["errors"]["file"]
    return message


@given(parsers.parse('Pia has attached the measurement sheet "{name}" to the assessment'))
@when(parsers.parse('Pia attaches the measurement sheet "{name}" to the assessment'))
def attach_sheet(driver, desk, cycle, name):
    attach(driver, desk, cycle, "pia", SHEET, name)


@given(parsers.parse('Pia has attached the photo "{name}" to the assessment'))
def attach_photo(driver, desk, cycle, name):
    assert attach(driver, desk, cycle, "pia", PHOTO, name).status_code == 201


@when(parsers.parse('Pia attaches a program named "{name}" to the assessment'))
def attach_program(driver, desk, cycle, name):
    attach(driver, desk, cycle, "pia", PROGRAM, name)


@given(parsers.parse("evidence files may be at most {limit:d} bytes"))
def size_limit(driver, limit):
    driver.engine.evidence = replace(driver.engine.evidence, max_bytes=limit)


@when(parsers.parse("Pia attaches a photo of {size:d} bytes to the assessment"))
def attach_large_photo(driver, desk, cycle, size):
    attach(driver, desk, cycle, "pia", (PHOTO * (size // len(PHOTO) + 1))[:size], "photo.png")


@when(parsers.parse('Pim attaches the same photo as "{name}"'))
def attach_again(driver, desk, cycle, name):
    attach(driver, desk, cycle, "pim", PHOTO, name)


@then(parsers.parse('the assessment lists "{name}" with its size and fingerprint'))
def lists_it(driver, desk, cycle, name):
    (found,) = listed(driver, desk, cycle)
    assert found["name"] == name
    assert found["size"] == len(SHEET)
    assert found["sha256"] == desk["attached"]["sha256"] and len(found["sha256"]) == 64


@then(
    parsers.parse(
        'the audit trail records that Pia attached "{name}", with its size, type and fingerprint'
    )
)
def audited(driver, desk, cycle, name):
    (event,) = [e for e in driver.events(cycle["id"]) if e.type == "evidence_attached"]
    assert event.actor == "pia"
    attached = desk["attached"]
    assert event.data == {
        "evidence_id": attached["id"],
        "name": name,
        "size": len(SHEET),
        "media_type": "text/plain",
        "sha256": attached["sha256"],
    }


@then("an auditor downloads exactly the sheet that was attached")
def auditor_downloads(driver, desk, cycle):
    path = f"{assessment(driver, cycle)}/{desk['attached']['id']}"
    got = call(driver, desk, "audrey", "get", path)
    assert got.status_code == 200
    assert got.data == SHEET


@then("she is told the file is a program, which is not kept as evidence")
def told_program(desk):
    assert refusal(desk).startswith("is application/x-msdownload; accepted: PDF, PNG")


@then(parsers.parse("she is told the file is larger than {limit}"))
def told_too_large(desk, limit):
    assert refusal(desk) == f"larger than {limit}"


@then(parsers.parse('he is told it is attached already as "{name}"'))
def told_twice(desk, name):
    assert f"attached to the task already, as '{name}'" in refusal(desk)


@then("nothing is attached to the assessment")
def nothing_attached(driver, desk, cycle):
    assert listed(driver, desk, cycle) == []
    assert not [e for e in driver.events(cycle["id"]) if e.type == "evidence_attached"]


@then(parsers.parse('the assessment lists only "{name}"'))
def lists_only(driver, desk, cycle, name):
    assert [found["name"] for found in listed(driver, desk, cycle)] == [name]


@when("Lena of leadership asks for that file by its number")
def lena_asks(driver, desk, cycle):
    path = f"{assessment(driver, cycle)}/{desk['attached']['id']}"
    desk["answer"] = call(driver, desk, "lena", "get", path)


@then("she is refused and receives nothing")
def refused(desk):
    answer = desk["answer"]
    assert answer.status_code == 403
    assert answer.mimetype == "application/problem+json"
    assert PHOTO not in answer.data


@given("the record verifies as intact")
def intact(driver, desk):
    assert call(driver, desk, "audrey", "get", "/audit/verify").json["intact"] is True


@when(parsers.parse("someone {tampers} the stored sheet behind the application's back"))
def tamper(tmp_path, desk, tampers):
    sha256 = desk["attached"]["sha256"]
    stored = tmp_path / "kept" / sha256[:2] / sha256
    stored.chmod(0o640)
    if tampers == "deletes":
        stored.unlink()
    else:
        stored.write_bytes(SHEET.replace(b"55", b"65"))


@then("verification says the record is no longer intact")
def not_intact(driver, desk):
    desk["answer"] = call(driver, desk, "audrey", "get", "/audit/verify")
    assert desk["answer"].json["intact"] is False


@then(parsers.parse('it names "{name}", the assessment and the cycle, as {found}'))
def names_it(driver, desk, cycle, name, found):
    (damaged,) = desk["answer"].json["damaged_evidence"]
    assert damaged["name"] == name
    assert damaged["task_id"] == driver.task(cycle["id"], "assess_performance").id
    assert damaged["cycle_id"] == cycle["id"]
    assert found in damaged["reason"]
