"""Process-model administration through the API: deploying bundles (and refusing broken or
hostile ones), reading and comparing versions, moving running cycles onto a new version."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from picycle.api import create_app
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.db.models import AuditEvent, Deployment
from picycle.engine.spiff.limits import ModelLimits
from sqlalchemy import func, select

from tests.api.conftest import assert_problem, audit_events

FORM = "forms/assess-performance.schema.json"
GAPS_FORM = "forms/identify-gaps.schema.json"


# --- helpers -----------------------------------------------------------------------------


@pytest.fixture
def shipped() -> dict[str, bytes]:
    return read_bundle(shipped_processes())


def revised(bundle: dict[str, bytes], **changes: bytes) -> dict[str, bytes]:
    return {**bundle, **changes}


def form_change(bundle, name, change) -> dict[str, bytes]:
    schema = json.loads(bundle[name])
    change(schema)
    return revised(bundle, **{name: json.dumps(schema, indent=2).encode()})


def with_text(bundle, name, old, new) -> dict[str, bytes]:
    text = bundle[name].decode()
    assert old in text, old
    return {**bundle, name: text.replace(old, new).encode()}


def retitled(bundle) -> dict[str, bytes]:
    """A new version: the assessment form has a new title."""
    return form_change(bundle, FORM, lambda s: s.update(title="Assess performance (revised)"))


def line_of(bundle, text: str, name: str = "pi_cycle.bpmn") -> int:
    lines = bundle[name].decode().splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def multipart(bundle: dict[str, bytes]) -> dict:
    return {"files": [(io.BytesIO(content), name) for name, content in bundle.items()]}


def zipped(bundle: dict[str, bytes], folder: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in bundle.items():
            archive.writestr(folder + name, content)
    return buffer.getvalue()


@pytest.fixture
def deploy(api):
    """``deploy(bundle)``: upload the bundle as multipart parts, as ada unless told."""

    def upload(bundle, who="ada", query="", **kwargs):
        return api.post(
            who,
            "/process-definitions" + query,
            data=multipart(bundle),
            content_type="multipart/form-data",
            **kwargs,
        )

    return upload


def deployments(engine) -> int:
    with engine.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(Deployment))


def events(engine) -> int:
    with engine.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(AuditEvent))


# --- deploying ---------------------------------------------------------------------------


def test_a_changed_bundle_deploys_as_a_new_version(deploy, engine, shipped):
    response = deploy(retitled(shipped))
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["valid"], body["dry_run"], body["unchanged"]) == (True, False, False)
    assert body["definitions"] == [
        {
            "process_id": "pi_cycle",
            "version": 2,
            "name": "Performance-improvement cycle",
            "deployed_at": "2026-03-02T09:00:00+00:00",
            "deployed_by": "ada",
        }
    ]
    assert body["warnings"] == []
    (event,) = audit_events(engine, "definition_deployed")[1:]
    assert (event.actor, event.data["process_id"], event.data["version"]) == ("ada", "pi_cycle", 2)
    assert FORM in event.data["files"]


def test_a_zip_deploys_as_the_body_or_as_an_archive_part(api, shipped, engine):
    as_body = api.post(
        "ada",
        "/process-definitions",
        data=zipped(retitled(shipped)),
        content_type="application/zip",
    )
    assert as_body.status_code == 201, as_body.json
    assert as_body.json["definitions"][0]["version"] == 2
    # One folder around everything, as zipping a folder makes it, is left out.
    again = form_change(shipped, GAPS_FORM, lambda s: s.update(title="Gaps"))
    as_part = api.post(
        "ada",
        "/process-definitions",
        data={"archive": (io.BytesIO(zipped(again, "processes/")), "v3.zip")},
        content_type="multipart/form-data",
    )
    assert as_part.status_code == 201, as_part.json
    assert as_part.json["definitions"][0]["version"] == 3
    assert deployments(engine) == 3


def test_a_dry_run_validates_and_deploys_nothing(deploy, engine, shipped):
    before = events(engine)
    response = deploy(retitled(shipped), query="?dry_run=true")
    assert response.status_code == 200
    assert response.json == {
        "valid": True,
        "dry_run": True,
        "unchanged": False,
        "definitions": [],
        "warnings": [],
    }
    assert (deployments(engine), events(engine)) == (1, before)


def test_the_same_files_deploy_once(deploy, engine, shipped):
    before = events(engine)
    response = deploy(shipped)
    assert response.status_code == 200
    assert response.json["unchanged"] is True
    assert [
        (d["process_id"], d["version"], d["deployed_by"]) for d in response.json["definitions"]
    ] == [("pi_cycle", 1, "system")]
    assert (deployments(engine), events(engine)) == (1, before)
    assert deploy(retitled(shipped)).status_code == 201
    assert deploy(retitled(shipped)).json["unchanged"] is True


def test_an_older_versions_files_deployed_again_roll_the_process_back(deploy, api, engine, shipped):
    assert deploy(retitled(shipped)).status_code == 201  # version 2
    rolled_back = deploy(shipped)  # version 1's files
    assert rolled_back.status_code == 201
    assert rolled_back.json["unchanged"] is False
    assert [(d["process_id"], d["version"]) for d in rolled_back.json["definitions"]] == [
        ("pi_cycle", 3)
    ]
    assert rolled_back.json["definitions"][0]["deployed_by"] == "ada"
    latest = api.get("ada", "/process-definitions").json
    assert [(d["process_id"], d["version"]) for d in latest["items"]] == [("pi_cycle", 3)]
    assert deployments(engine) == 3
    # Now the latest again, the same files change nothing.
    assert deploy(shipped).json["unchanged"] is True


def test_warnings_come_with_the_deployment(deploy, shipped):
    response = deploy(revised(retitled(shipped), **{"notes.json": b"{}"}))
    assert response.status_code == 201
    (warning,) = response.json["warnings"]
    assert (warning["severity"], warning["file"]) == ("warning", "notes.json")
    assert "ignored" in warning["message"]


def test_a_broken_draft_lists_every_problem_and_deploys_nothing(deploy, engine, shipped):
    draft = with_text(shipped, "pi_cycle.bpmn", "approved == True", "${approved}")
    draft = with_text(
        draft,
        "pi_cycle.bpmn",
        'value="leadership-approval.schema.json"',
        'value="missing.schema.json"',
    )
    draft = with_text(
        draft,
        "pi_cycle.bpmn",
        '<bpmn:userTask id="evaluate_results"',
        '<bpmn:userTask id="orphan_task" name="Orphan" /><bpmn:userTask id="evaluate_results"',
    )
    before = events(engine)
    for query in ("", "?dry_run=true"):
        body = assert_problem(
            deploy(draft, query=query), 422, type="urn:picycle:problem:validation-failed"
        )
        found = {(p["element_id"], p["severity"]): p for p in body["problems"]}
        juel = found[("flow_approved", "error")]
        assert (juel["file"], juel["line"]) == (
            "pi_cycle.bpmn",
            line_of(draft, "${approved}"),
        )
        assert "JUEL" in juel["message"]
        missing = found[("leadership_approval", "error")]
        assert "missing.schema.json" in missing["message"]
        assert missing["line"] == line_of(draft, "missing.schema.json")
        orphan = found[("orphan_task", "error")]
        assert (
            "cannot be reached"
            in body["errors"][f"pi_cycle.bpmn:{orphan['line']} (orphan_task)"][-1]
        )
        assert ("orphan_task", "warning") in found  # nobody can claim it either: warnings too
        assert f"pi_cycle.bpmn:{juel['line']} (flow_approved)" in body["errors"]
        assert "nothing was deployed" in body["detail"]
    assert (deployments(engine), events(engine)) == (1, before)


RECORDED = "implemented_microproject = dict(microproject, status=status, report=report)"


@pytest.mark.parametrize(
    ("call", "refusal"),
    [
        ("open('/etc/passwd').read()", "'open' is not available in model scripts"),
        ("getattr(report, 'upper')()", "'getattr' is not available in model scripts"),
        ("type(report).__name__", "names starting with '_' are not allowed"),
        ("str(type(report))", "'type' is not available in model scripts"),
        ("'{0}'.format(report)", "'.format()' is not allowed in model scripts"),
        ("date.today().isoformat()", "'.today()' cannot run in model scripts"),
    ],
    ids=["open", "getattr", "type-dunder", "type", "format", "date-today"],
)
def test_a_dry_run_names_a_call_the_sandbox_would_refuse(deploy, engine, shipped, call, refusal):
    """These compile, so they used to pass the dry run and then fail every time they ran."""
    script = f"{RECORDED}\nnote = {call}"
    draft = with_text(shipped, "pi_cycle.bpmn", RECORDED, script)
    before = events(engine)
    for query in ("", "?dry_run=true"):
        body = assert_problem(deploy(draft, query=query), 422)
        (problem,) = body["problems"]
        assert (problem["file"], problem["element_id"]) == (
            "pi_cycle.bpmn",
            "record_implementation",
        )
        assert problem["line"] == line_of(draft, RECORDED) + 1
        assert "Line 2: " + refusal in problem["message"]
    assert (deployments(engine), events(engine)) == (1, before)


def test_the_size_limits_of_a_model_are_configurable(deploy, engine, shipped, monkeypatch):
    # An engine reads the limits when it starts.
    monkeypatch.setenv("PICYCLE_MODEL_MAX_ELEMENTS", "10")
    monkeypatch.setattr(engine, "limits", ModelLimits.from_environment())
    body = assert_problem(deploy(shipped, query="?dry_run=true"), 422)
    (problem,) = body["problems"]
    assert problem["element_id"] == "pi_cycle"
    assert "a process may have at most 10 (PICYCLE_MODEL_MAX_ELEMENTS)" in problem["message"]
    monkeypatch.setenv("PICYCLE_MODEL_MAX_ELEMENTS", "500")
    monkeypatch.setattr(engine, "limits", ModelLimits.from_environment())
    assert deploy(shipped, query="?dry_run=true").status_code == 200


def test_only_admins_deploy(deploy, engine, shipped):
    for who in ("pia", "audrey"):
        body = assert_problem(
            deploy(retitled(shipped), who=who), 403, type="urn:picycle:problem:permission-denied"
        )
        assert "admin" in body["detail"]
    assert deployments(engine) == 1
    refused = audit_events(engine, "access_denied")
    assert [(e.actor, e.data["action"]) for e in refused] == [
        ("pia", "POST /api/v1/process-definitions"),
        ("audrey", "POST /api/v1/process-definitions"),
    ]


def test_a_bundle_has_no_body_limit_of_one_mib(deploy, api, shipped):
    padded = form_change(shipped, FORM, lambda s: s.update(description="x" * 1_500_000))
    assert deploy(padded).status_code == 201
    # Other requests keep the API's limit.
    big = {"unit": "U", "title": "T", "data": {"x": "y" * 1_100_000}}
    assert_problem(api.post("pia", "/cycles", json=big), 413)


def test_the_upload_limit_is_configurable(engine, tokens, shipped):
    app = create_app(
        {"PICYCLE_ENGINE": engine, "TESTING": True, "PICYCLE_MAX_UPLOAD_LENGTH": 10_000}
    )
    response = app.test_client().post(
        "/api/v1/process-definitions",
        data=multipart(shipped),
        content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {tokens['ada']}"},
    )
    assert "10,000 bytes" in assert_problem(response, 413)["detail"]
    assert deployments(engine) == 1


# --- hostile uploads ---------------------------------------------------------------------

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE bpmn:definitions [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="p" name="&secret;" isExecutable="true" />
</bpmn:definitions>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<definitions>&lol3;</definitions>"""


def _slip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("pi_cycle.bpmn", b"<x/>")
        archive.writestr("../../etc/cron.d/evil.bpmn", b"<x/>")
    return buffer.getvalue()


def _bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(3):
            archive.writestr(f"forms/f{n}.json", b"0" * (8 * 1024 * 1024))
    return buffer.getvalue()


def _lying_sizes() -> bytes:
    """A member that declares 10 bytes and inflates to a megabyte."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("pi_cycle.bpmn", b"<" * 1024 * 1024)
    content = bytearray(buffer.getvalue())
    for header, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = content.find(header) + offset
        content[at : at + 4] = (10).to_bytes(4, "little")
    return bytes(content)


def _bzip2_bomb() -> bytes:
    """A bzip2 member of 16 MiB that says it holds 10 bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("pi_cycle.bpmn", b"\0" * (16 * 1024 * 1024))
    content = bytearray(buffer.getvalue())
    for header, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = content.find(header) + offset
        content[at : at + 4] = (10).to_bytes(4, "little")
    return bytes(content)


def _files(**named: bytes):
    return lambda: {"data": multipart(named), "content_type": "multipart/form-data"}


def _zip_body(content: bytes):
    return lambda: {"data": content, "content_type": "application/zip"}


def _parts(**parts):
    """Multipart fields as given: (content, filename) for a file, a string for a field."""

    def make():
        data = {
            k: (io.BytesIO(v[0]), v[1]) if isinstance(v, tuple) else v for k, v in parts.items()
        }
        return {"data": data, "content_type": "multipart/form-data"}

    return make


HOSTILE = {
    "xxe": (_files(**{"pi_cycle.bpmn": XXE}), 422, "DOCTYPE"),
    "billion laughs": (_files(**{"pi_cycle.bpmn": LAUGHS}), 422, "DOCTYPE"),
    "not xml": (_files(**{"pi_cycle.bpmn": b"this is { not xml"}), 422, "not well-formed XML"),
    "binary": (_files(**{"pi_cycle.bpmn": bytes(range(256)) * 4}), 422, "not UTF-8"),
    "latin-1": (
        _files(**{"pi_cycle.bpmn": '<?xml version="1.0"?><a n="é"/>'.encode("latin-1")}),
        422,
        "not UTF-8",
    ),
    "nul bytes": (_files(**{"notes.json": b"{}\x00"}), 422, "NUL"),
    "empty multipart": (_parts(), 422, "empty"),
    "empty zip": (_zip_body(zipped({})), 422, "no .bpmn file"),
    "not a zip": (_zip_body(b"PK not really"), 422, "not a readable zip"),
    "zip slip": (_zip_body(_slip()), 422, "unsafe path"),
    "zip bomb": (_zip_body(_bomb()), 422, "100 times its compressed size"),
    "bzip2 bomb": (_zip_body(_bzip2_bomb()), 422, "compressed with bzip2"),
    "lying zip": (_zip_body(_lying_sizes()), 422, "cannot be unpacked"),
    "climbing name": (_files(**{"../pi_cycle.bpmn": b"<x/>"}), 422, "relative path"),
    "absolute name": (_files(**{"/etc/pi_cycle.bpmn": b"<x/>"}), 422, "relative path"),
    "other folder": (_files(**{"docs/pi_cycle.bpmn": b"<x/>"}), 422, "only forms and translations"),
    "other suffix": (_files(**{"run.sh": b"rm -rf /"}), 422, ".bpmn and .dmn"),
    # Shown as forms/live.json.schema: the override turns the rest of the name around.
    "direction override in a name": (
        _files(**{"forms/\u202enosj.evil.schema.json": b"{}"}),
        422,
        "U+202E RIGHT-TO-LEFT OVERRIDE",
    ),
    "zero-width space in a name": (
        _files(**{"pi_cycle\u200b.bpmn": b"<x/>"}),
        422,
        "U+200B ZERO WIDTH SPACE",
    ),
    "too big": (_zip_body(b"0" * (20 * 1024 * 1024 + 1)), 413, "larger than"),
    "json body": (lambda: {"json": {"files": []}}, 415, "multipart/form-data"),
    "unknown part": (_parts(bundle=(b"x", "a.bpmn")), 422, "not a bundle"),
    "files part without a filename": (_parts(files="<x/>"), 422, "not a bundle"),
    "files and an archive": (
        _parts(files=(b"<x/>", "a.bpmn"), archive=(b"PK", "a.zip")),
        422,
        "not a bundle",
    ),
}


def test_translations_are_the_other_folder_a_bundle_may_hold(api, deploy, shipped):
    assert {"translations/nl.json", "translations/ar.json"} <= set(shipped)
    response = deploy(retitled(shipped))
    assert response.status_code == 201, response.json
    version = api.get("audrey", "/process-definitions/pi_cycle/versions/2").json
    assert "translations/nl.json" in {file["name"] for file in version["files"]}
    refused = deploy(revised(shipped, **{"translations/nl/extra.bpmn": b"<x/>"}))
    assert_problem(refused, 422)
    assert "hold .json files" in refused.get_data(as_text=True)


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_uploads_are_refused_and_deploy_nothing(api, engine, kind):
    request, status, says = HOSTILE[kind]
    before = events(engine)
    response = api.post("ada", "/process-definitions", **request())
    body = assert_problem(response, status)
    text = response.get_data(as_text=True)
    assert says in text, text
    assert "root:" not in text
    if status == 422:
        assert body["errors"]
    assert (deployments(engine), events(engine)) == (1, before)


def test_an_archive_member_refused_is_named(api):
    response = api.post("ada", "/process-definitions", **_zip_body(_bomb())())
    body = assert_problem(response, 422)
    assert [p["file"] for p in body["problems"]] == ["forms/f0.json"]


def test_a_form_reaching_outside_the_bundle_is_refused_with_its_line(
    deploy, engine, shipped, tmp_path
):
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"const": "secret-0b7e"}))
    bundle = form_change(
        shipped, FORM, lambda s: s["properties"].update(note={"$ref": secret.as_uri()})
    )
    response = deploy(bundle)
    body = assert_problem(response, 422)
    assert "secret-0b7e" not in response.get_data(as_text=True)
    [problem] = [p for p in body["problems"] if p["file"] == FORM]
    assert problem["line"] == line_of(bundle, secret.as_uri(), FORM)
    assert "points outside the form" in problem["message"]
    assert deployments(engine) == 1


def test_a_form_that_is_not_an_object_is_refused(deploy, engine, shipped):
    response = deploy(revised(shipped, **{FORM: b"true"}))
    body = assert_problem(response, 422)
    assert [p["file"] for p in body["problems"] if p["severity"] == "error"] == [FORM]
    assert deployments(engine) == 1


def test_upload_problems_name_the_file(api):
    upload = _files(**{"docs/x.bpmn": b"<x/>", "forms/x.bpmn": b"<x/>"})
    response = api.post("ada", "/process-definitions", **upload())
    body = assert_problem(response, 422)
    assert sorted(p["file"] for p in body["problems"]) == ["docs/x.bpmn", "forms/x.bpmn"]
    assert set(body["errors"]) == {"docs/x.bpmn", "forms/x.bpmn"}


# --- reading -----------------------------------------------------------------------------


def test_definitions_versions_and_files_are_readable_by_everyone(deploy, api, shipped):
    assert deploy(retitled(shipped)).status_code == 201
    listing = api.get("pia", "/process-definitions").json
    assert listing["total"] == 1
    assert [(d["process_id"], d["version"], d["deployed_by"]) for d in listing["items"]] == [
        ("pi_cycle", 2, "ada")
    ]
    versions = api.get("audrey", "/process-definitions/pi_cycle/versions").json
    assert [(v["version"], v["deployed_by"]) for v in versions["items"]] == [
        (1, "system"),
        (2, "ada"),
    ]
    detail = api.get("dana", "/process-definitions/pi_cycle/versions/2").json
    assert (detail["version"], detail["name"]) == (2, "Performance-improvement cycle")
    assert len(detail["content_hash"]) == 64
    names = [f["name"] for f in detail["files"]]
    assert names == sorted(shipped)
    by_name = {f["name"]: f for f in detail["files"]}
    bpmn = by_name["pi_cycle.bpmn"]
    assert bpmn["url"] == "/api/v1/process-definitions/pi_cycle/versions/2/files/pi_cycle.bpmn"
    assert bpmn["media_type"] == "application/xml"
    assert bpmn["size"] == len(shipped["pi_cycle.bpmn"])

    download = api.get("pia", bpmn["url"].removeprefix("/api/v1"))
    assert download.status_code == 200
    assert download.mimetype == "application/xml"
    assert download.data == shipped["pi_cycle.bpmn"]
    form = api.get("pia", by_name[FORM]["url"].removeprefix("/api/v1"))
    assert form.mimetype == "application/json"
    assert form.json["title"] == "Assess performance (revised)"
    first = api.get("pia", f"/process-definitions/pi_cycle/versions/1/files/{FORM}")
    assert first.data == shipped[FORM]


@pytest.mark.parametrize(
    "path",
    [
        "/process-definitions/nope/versions",
        "/process-definitions/nope/versions/1",
        "/process-definitions/pi_cycle/versions/9",
        "/process-definitions/pi_cycle/versions/1/files/forms/nope.schema.json",
        "/process-definitions/pi_cycle/versions/1/files/%00.bpmn",
        "/process-definitions/%01x/versions",
        "/process-definitions/pi_cycle/diff?from=1&to=9",
    ],
)
def test_what_is_not_there_is_a_404(api, path):
    assert_problem(api.get("pia", path), 404, type="urn:picycle:problem:not-found")


def test_the_diff_shows_a_changed_form_and_a_changed_decision_rule(deploy, api, shipped):
    draft = form_change(
        shipped,
        FORM,
        lambda s: s["properties"].update(source={"type": "string", "title": "Data source"}),
    )
    draft = with_text(draft, "gap_priority.dmn", '<text>"medium"</text>', '<text>"high"</text>')
    assert deploy(draft).status_code == 201
    response = api.get("pia", "/process-definitions/pi_cycle/diff?from=1&to=2")
    assert response.status_code == 200
    diff = response.json
    assert (diff["process_id"], diff["from_version"], diff["to_version"]) == ("pi_cycle", 1, 2)
    (form,) = diff["forms"]["changed"]
    assert (form["file"], form["fields_added"]) == (FORM, ["source"])
    changed_rules = [r["id"] for r in diff["decision_rules"]["changed"]]
    assert "rule_3" in changed_rules
    assert diff["elements"] == {"added": [], "removed": [], "changed": []}
    assert_problem(api.get("pia", "/process-definitions/pi_cycle/diff?from=1"), 422)
    assert_problem(api.get("pia", "/process-definitions/pi_cycle/diff?from=1&to=2&x=1"), 422)


# --- migrating ---------------------------------------------------------------------------


def test_a_running_cycle_moves_to_a_new_version(deploy, api, engine, start_cycle, shipped):
    cycle = start_cycle()
    assert deploy(retitled(shipped)).status_code == 201
    path = f"/cycles/{cycle['id']}/migrate"

    dry = api.post("ada", path, json={"to_version": 2, "dry_run": True})
    assert dry.status_code == 200
    assert dry.json == {
        "cycle_id": cycle["id"],
        "from_version": 1,
        "to_version": 2,
        "possible": True,
        "problems": [],
        "migrated": False,
    }
    assert api.get("pia", f"/cycles/{cycle['id']}").json["version"] == 1

    moved = api.post("ada", path, json={})  # the latest version
    assert moved.status_code == 200
    assert (moved.json["migrated"], moved.json["to_version"]) == (True, 2)
    assert api.get("pia", f"/cycles/{cycle['id']}").json["version"] == 2
    (event,) = audit_events(engine, "cycle_migrated")
    assert (event.actor, event.cycle_id, event.data["from_version"], event.data["to_version"]) == (
        "ada",
        cycle["id"],
        1,
        2,
    )
    # Already there: nothing to do.
    again = assert_problem(api.post("ada", path, json={"to_version": 2}), 409)
    assert again["reasons"] == ["the cycle already runs on version 2"]


def test_a_cycle_waiting_at_a_removed_step_is_refused_with_the_reasons(
    deploy, api, engine, start_cycle, shipped
):
    cycle = start_cycle()
    draft = with_text(shipped, "pi_cycle.bpmn", "assess_performance", "assess_indicators")
    draft = with_text(
        draft, "pi_cycle.bpmn", 'value="assess_indicators"', 'value="assess_performance"'
    )
    assert deploy(draft).status_code == 201
    path = f"/cycles/{cycle['id']}/migrate"
    body = assert_problem(
        api.post("ada", path, json={"to_version": 2}), 409, type="urn:picycle:problem:conflict"
    )
    (reason,) = body["reasons"]
    assert "'assess_performance'" in reason and "'assess_performance'" in body["detail"]
    dry = api.post("ada", path, json={"to_version": 2, "dry_run": True})
    assert dry.status_code == 200
    assert (dry.json["possible"], dry.json["problems"]) == (False, [reason])
    assert api.get("pia", f"/cycles/{cycle['id']}").json["version"] == 1
    assert audit_events(engine, "cycle_migrated") == []


def test_bulk_migration_moves_what_it_can_and_says_why_not_for_the_rest(
    deploy, api, walker, start_cycle, shipped
):
    waiting = start_cycle()
    analysing = walker(unit="Directorate of Finance")
    analysing.assess()
    draft = form_change(
        shipped,
        GAPS_FORM,
        lambda s: s["properties"]["gaps"]["items"]["properties"]["gap"].update(maximum=5),
    )
    assert deploy(draft).status_code == 201

    dry = api.post("ada", "/process-definitions/pi_cycle/migrate", json={"dry_run": True})
    assert dry.status_code == 200
    assert (dry.json["migrated_count"], dry.json["blocked_count"]) == (0, 1)

    response = api.post("ada", "/process-definitions/pi_cycle/migrate", json={"to_version": None})
    assert response.status_code == 200
    body = response.json
    assert (body["process_id"], body["to_version"], body["dry_run"]) == ("pi_cycle", 2, False)
    plans = {p["cycle_id"]: p for p in body["plans"]}
    assert plans[waiting["id"]]["migrated"] is True
    blocked = plans[analysing.cycle_id]
    assert blocked["migrated"] is False
    assert "breaks the target's form at gaps.0.gap" in blocked["problems"][0]
    assert (body["migrated_count"], body["blocked_count"]) == (1, 1)
    assert api.get("pia", f"/cycles/{waiting['id']}").json["version"] == 2
    assert api.get("pia", f"/cycles/{analysing.cycle_id}").json["version"] == 1


@pytest.mark.parametrize(
    "path",
    ["/cycles/12345/migrate", "/process-definitions/nope/migrate"],
)
def test_migrating_what_is_not_there_is_a_404(api, path):
    assert_problem(api.post("ada", path, json={}), 404)


def test_migrating_to_a_version_that_is_not_there_is_a_404(api, start_cycle):
    cycle = start_cycle()
    assert_problem(api.post("ada", f"/cycles/{cycle['id']}/migrate", json={"to_version": 7}), 404)
    assert_problem(
        api.post("ada", "/process-definitions/pi_cycle/migrate", json={"to_version": 7}), 404
    )


def test_only_admins_migrate(api, engine, start_cycle):
    cycle = start_cycle()
    for who in ("pia", "audrey"):
        for path in (f"/cycles/{cycle['id']}/migrate", "/process-definitions/pi_cycle/migrate"):
            assert_problem(
                api.post(who, path, json={"dry_run": True}),
                403,
                type="urn:picycle:problem:permission-denied",
            )
    assert len(audit_events(engine, "access_denied")) == 4
    assert audit_events(engine, "cycle_migrated") == []


def test_migration_bodies_are_checked(api, start_cycle):
    cycle = start_cycle()
    path = f"/cycles/{cycle['id']}/migrate"
    body = assert_problem(api.post("ada", path, json={"to_version": 0, "extra": 1}), 422)
    assert set(body["errors"]) == {"to_version", "extra"}
    assert_problem(api.post("ada", path, data="x", content_type="text/plain"), 415)
