"""Reading bundle folders and uploaded archives safely, and telling what changed between
two versions."""

from __future__ import annotations

import io
import json
import re
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


def resaved(content: bytes) -> bytes:
    """The file as another modeler might save it: other namespace prefixes (BPMN's as the
    default namespace), one more namespace declared, no indentation."""
    text = content.decode()
    text = text.replace("bpmn:", "").replace("xmlns:bpmn=", "xmlns=")
    text = text.replace("spiffworkflow:", "spiff:").replace("xmlns:spiff=", "xmlns:spiff=")
    text = text.replace("xmlns:spiffworkflow=", 'xmlns:extra="urn:example" xmlns:spiff=')
    return re.sub(r">\s+<", "><", text).encode()


def test_a_file_saved_again_by_another_modeler_has_no_differences():
    bundle = read_bundle(shipped_processes())
    again = changed(bundle, "pi_cycle.bpmn", resaved)
    assert b"<spiff:instructionsForEndUser>" in again["pi_cycle.bpmn"]
    diff = diff_bundles(bundle, again)
    assert diff["elements"] == {"added": [], "removed": [], "changed": []}
    edited = changed(
        again, "pi_cycle.bpmn", lambda b: b.replace(b'value="PI Unit"', b'value="Leadership"', 1)
    )
    assert len(diff_bundles(bundle, edited)["elements"]["changed"]) == 1


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


# --- zip bombs: sizes are counted while unpacking, whatever the directory says -------------


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _lying(content: bytes, declared: int) -> bytes:
    """The archive with every member's sizes in both headers replaced by ``declared``."""
    patched = bytearray(content)
    for header, offset in ((b"PK\x03\x04", 18), (b"PK\x01\x02", 20)):
        at = patched.find(header)
        while at >= 0:
            # compressed size, then uncompressed size
            patched[at + offset + 4 : at + offset + 8] = declared.to_bytes(4, "little")
            at = patched.find(header, at + 4)
    return bytes(patched)


def refused_by(content: bytes) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as refused:
        read_zip(content)
    return refused.value


@pytest.mark.parametrize(
    ("method", "name"), [(zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "lzma")]
)
def test_bzip2_and_lzma_members_are_refused_before_unpacking(method, name, monkeypatch):
    bomb = _lying(_zip({"pi_cycle.bpmn": b"\0" * (8 * 1024 * 1024)}, method), 10)
    assert len(bomb) < 10_000
    opened: list[str] = []
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda _, member, *a: opened.append(member))
    refused = refused_by(bomb)
    assert refused.errors == {
        "pi_cycle.bpmn": [
            f"is compressed with {name}; "
            "zip the bundle with the usual deflate compression (or none)"
        ]
    }
    assert opened == []


def test_a_member_over_the_ratio_is_refused_by_name():
    bomb = _zip({"pi_cycle.bpmn": b"<x/>", "forms/f.schema.json": b" " * (2 * 1024 * 1024)})
    refused = refused_by(bomb)
    assert list(refused.errors) == ["forms/f.schema.json"]
    assert "100 times its compressed size" in str(refused)


def test_a_member_lying_about_its_size_is_measured_not_believed():
    # It declares 4 GB compressed and unpacked; it is refused for what it really unpacks to.
    bomb = _lying(_zip({"pi_cycle.bpmn": b"\0" * (3 * 1024 * 1024)}), 2**32 - 1)
    refused = refused_by(bomb)
    assert list(refused.errors) == ["pi_cycle.bpmn"]


def test_a_member_over_the_file_limit_is_refused_by_name():
    big = _zip({"pi_cycle.bpmn": b"<x/>", "forms/big.json": b"x" * (5 * 1024 * 1024 + 1)}, 0)
    refused = refused_by(big)
    assert refused.errors == {
        "forms/big.json": ["unpacks to more than 5,242,880 bytes (PICYCLE_MODEL_MAX_FILE_BYTES)"]
    }


def test_members_over_the_total_are_refused_naming_the_one_that_crosses_it():
    members = {f"forms/f{n}.json": bytes([65 + n]) * (4 * 1024 * 1024) for n in range(6)}
    refused = refused_by(_zip({"pi_cycle.bpmn": b"<x/>", **members}, zipfile.ZIP_STORED))
    assert refused.errors == {
        "forms/f4.json": [
            "takes the archive past 20,971,520 bytes unpacked (PICYCLE_MODEL_MAX_BUNDLE_BYTES)"
        ]
    }
