"""Reading bundle folders and uploaded archives safely, and telling what changed between
two versions."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from picycle.engine.bundles import read_bundle, read_zip, shipped_processes
from picycle.engine.definition_diff import diff_bundles
from picycle.engine.errors import ValidationFailed


def archive(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for name, content in entries.items():
            zipped.writestr(name, content)
    return buffer.getvalue()


def test_a_zip_of_the_shipped_bundle_reads_like_the_folder():
    folder = read_bundle(shipped_processes())
    assert read_zip(archive(folder)) == folder


@pytest.mark.parametrize("name", ["../evil.bpmn", "/etc/evil.bpmn", "forms/../../x.json"])
def test_paths_leaving_the_archive_are_refused(name):
    with pytest.raises(ValidationFailed, match="unsafe path"):
        read_zip(archive({name: b"<x/>"}))


def test_garbage_is_not_an_archive():
    with pytest.raises(ValidationFailed, match="not a readable zip"):
        read_zip(b"PK\x03\x04 certainly not a zip")


def changed(bundle: dict[str, bytes], name: str, edit) -> dict[str, bytes]:
    return {**bundle, name: edit(bundle[name])}


def test_the_diff_names_changed_elements_rules_and_form_fields():
    old = read_bundle(shipped_processes())
    new = changed(
        old,
        "pi_cycle.bpmn",
        lambda b: b.replace(b'name="Leadership approval"', b'name="Approve the design"'),
    )
    new = changed(new, "gap_priority.dmn", lambda b: b.replace(b'"high"', b'"urgent"', 1))

    def add_field(content: bytes) -> bytes:
        schema = json.loads(content)
        schema["properties"]["budget"] = {"type": "number"}
        return json.dumps(schema).encode()

    new = changed(new, "forms/design-microprojects.schema.json", add_field)
    diff = diff_bundles(old, new)
    assert [e["id"] for e in diff["elements"]["changed"]] == ["leadership_approval"]
    assert diff["elements"]["added"] == diff["elements"]["removed"] == []
    assert len(diff["decision_rules"]["changed"]) == 1
    (form,) = diff["forms"]["changed"]
    assert (form["file"], form["fields_added"]) == (
        "forms/design-microprojects.schema.json",
        ["budget"],
    )


def test_identical_bundles_have_no_differences():
    bundle = read_bundle(shipped_processes())
    diff = diff_bundles(bundle, bundle)
    assert all(
        not diff[k][kind]
        for k in ("elements", "decision_rules", "forms")
        for kind in ("added", "removed", "changed")
    )


def test_a_damaged_member_is_refused_not_crashed_on():
    good = archive({"pi_cycle.bpmn": b"<definitions/>" * 100})
    damaged = good.replace(b"<definitions/>" * 10, b"<broken/!!!>" * 10, 1)
    with pytest.raises(ValidationFailed, match="cannot be unpacked|not a readable zip"):
        read_zip(damaged)


def _copy_of_shipped(tmp_path: Path) -> Path:
    draft = tmp_path / "draft"
    shutil.copytree(shipped_processes(), draft)
    return draft


def test_a_link_leaving_the_bundle_folder_is_refused(tmp_path):
    outside = tmp_path / "outside.json"
    outside.write_text('{"type": "object", "description": "secret-91c2"}')
    draft = _copy_of_shipped(tmp_path)
    form = draft / "forms" / "assess-performance.schema.json"
    form.unlink()
    form.symlink_to(outside)
    with pytest.raises(ValidationFailed) as refused:
        read_bundle(draft)
    assert list(refused.value.errors) == ["forms/assess-performance.schema.json"]
    assert "symbolic link" in str(refused.value) and "secret-91c2" not in str(refused.value)


def test_a_linked_folder_leaving_the_bundle_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    draft = _copy_of_shipped(tmp_path)
    shutil.move(draft / "forms", elsewhere)
    (draft / "forms").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(ValidationFailed) as refused:
        read_bundle(draft)
    assert list(refused.value.errors) == ["forms"]


def test_a_link_within_the_bundle_folder_is_read(tmp_path):
    draft = _copy_of_shipped(tmp_path)
    form = draft / "forms" / "assess-performance.schema.json"
    (draft / "forms" / "kept.txt").write_bytes(form.read_bytes())
    form.unlink()
    form.symlink_to(Path("kept.txt"))
    assert read_bundle(draft) == read_bundle(shipped_processes())
