"""Evidence through the API: multipart upload, list, download as an attachment that no
browser runs; refusals as problem documents naming the file."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace

import pytest
from picycle.engine import Engine
from picycle.engine.evidence_store import FileStore

from tests.api.conftest import assert_problem, audit_count
from tests.api.test_body_limits import MiB, Unreadable, declared

SHEET = b"indicator,actual\npermits,82\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


@pytest.fixture
def engine(database_url, clock, tmp_path):
    """The API's engine, keeping evidence files in this test's own folder."""
    instance = Engine(database_url, clock, FileStore(tmp_path / "kept"))
    yield instance
    instance.dispose()


@pytest.fixture
def task(assessment_task) -> str:
    return f"/tasks/{assessment_task['id']}/evidence"


def upload(api, who: str, path: str, content: bytes, name: str = "sheet.csv", field="file"):
    return api.post(who, path, data={field: (io.BytesIO(content), name)})


def test_a_file_is_attached_listed_and_downloaded_as_it_was(api, task):
    sent = upload(api, "pia", task, SHEET, "März.csv")
    assert sent.status_code == 201, sent.json
    attached = sent.json
    assert (attached["name"], attached["media_type"], attached["size"]) == (
        "März.csv",
        "text/plain",
        len(SHEET),
    )
    assert attached["sha256"] == hashlib.sha256(SHEET).hexdigest()
    assert api.get("pia", task).json["items"] == [attached]
    got = api.get("audrey", f"{task}/{attached['id']}")
    assert got.status_code == 200
    assert got.data == SHEET
    assert got.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''M%C3%A4rz.csv" in got.headers["Content-Disposition"]
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in got.headers["Content-Security-Policy"]


def test_an_uploaded_page_is_served_as_text_to_save_never_run(api, task):
    page = b"<html><script>fetch('/api/v1/users')</script></html>"
    attached = upload(api, "pia", task, page, "report.html").json
    assert attached["media_type"] == "text/plain"
    got = api.get("pia", f"{task}/{attached['id']}")
    assert got.mimetype == "text/plain"
    assert got.headers["Content-Disposition"].startswith("attachment;")


def test_a_body_over_the_evidence_limit_is_refused_unread(client, tokens, task):
    path = "/api/v1" + task
    body = assert_problem(declared(client, "POST", path, 21 * MiB, tokens["pia"]), 413)
    assert "21,037,056 bytes" in body["detail"]  # 20 MiB and the multipart around it
    assert Unreadable.reads == 0


def test_a_file_larger_than_other_bodies_is_taken(api, task):
    big = PNG * (2 * MiB // len(PNG))
    assert upload(api, "pia", task, big, "photo.png").status_code == 201


def test_a_file_over_the_limit_within_the_body_limit_is_refused_naming_the_file(api, task, engine):
    engine.evidence = replace(engine.evidence, max_bytes=1000)
    body = assert_problem(upload(api, "pia", task, PNG * 2, "photo.png"), 422)
    assert body["errors"] == {"file": ["larger than 1,000 bytes"]}


def test_a_program_named_like_a_picture_is_refused_and_nothing_changes(api, engine, task):
    before = audit_count(engine)
    body = assert_problem(upload(api, "pia", task, b"MZ\x90\x00" + bytes(300), "photo.png"), 422)
    assert "application/x-msdownload" in body["errors"]["file"][0]
    assert api.get("pia", task).json["items"] == []
    assert audit_count(engine) == before


def test_the_same_file_twice_is_refused(api, task):
    first = upload(api, "pia", task, PNG, "photo.png").json
    body = assert_problem(upload(api, "pim", task, PNG, "copy.png"), 422)
    assert f"evidence {first['id']}" in body["errors"]["file"][0]


@pytest.mark.parametrize(
    ("send", "status", "field"),
    [
        (lambda api, path: api.post("pia", path, json={"file": "x"}), 415, None),
        (lambda api, path: upload(api, "pia", path, SHEET, field="attachment"), 422, "attachment"),
        (
            lambda api, path: api.post(
                "pia", path, data={"note": "no file"}, content_type="multipart/form-data"
            ),
            422,
            "file",
        ),
    ],
    ids=["json", "unknown-part", "no-file"],
)
def test_a_body_that_is_not_one_file_is_a_problem_naming_it(api, task, send, status, field):
    body = assert_problem(send(api, task), status)
    if field:
        assert field in body["errors"]


def test_who_may_not_read_the_task_is_refused(api, task, assessment_task, start_cycle):
    attached = upload(api, "pia", task, SHEET).json
    assert_problem(upload(api, "lena", task, PNG), 403)
    assert_problem(api.get("lena", task), 403)
    assert_problem(api.get("lena", f"{task}/{attached['id']}"), 403)
    assert_problem(upload(api, "audrey", task, PNG), 403)
    (other,) = start_cycle(unit="Roads")["open_tasks"]
    assert_problem(api.get("pia", f"/tasks/{other['id']}/evidence/{attached['id']}"), 404)
    assert_problem(api.get("pia", f"{task}/999"), 404)


def test_verify_names_a_changed_file(api, task, tmp_path):
    attached = upload(api, "pia", task, SHEET).json
    assert api.get("audrey", "/audit/verify").json["damaged_evidence"] == []
    stored = tmp_path / "kept" / attached["sha256"][:2] / attached["sha256"]
    stored.chmod(0o640)
    stored.write_bytes(b"indicator,actual\npermits,99\n")
    verified = api.get("audrey", "/audit/verify").json
    assert verified["intact"] is False
    (damaged,) = verified["damaged_evidence"]
    assert (damaged["evidence_id"], damaged["task_id"], damaged["cycle_id"]) == (
        attached["id"],
        attached["task_id"],
        attached["cycle_id"],
    )
    assert_problem(api.get("pia", f"{task}/{attached['id']}"), 409)


def test_the_openapi_document_describes_the_upload(client):
    document = client.get("/api/v1/openapi.json").json
    operations = document["paths"]["/api/v1/tasks/{task_id}/evidence"]
    upload_body = operations["post"]["requestBody"]["content"]["multipart/form-data"]
    assert upload_body["schema"]["required"] == ["file"]
    assert {"201", "413", "415", "422"} <= set(operations["post"]["responses"])
    download = document["paths"]["/api/v1/tasks/{task_id}/evidence/{evidence_id}"]["get"]
    assert "application/octet-stream" in download["responses"]["200"]["content"]
