"""``picycle evidence`` and ``picycle audit verify`` over evidence files kept on disk."""

from __future__ import annotations

import hashlib
import json

SHEET = b"indicator,actual\npermits,82\n"


def test_attach_list_save_and_verify_a_file_changed_on_disk(
    picycle, started, tmp_path, monkeypatch
):
    kept = tmp_path / "kept"
    monkeypatch.setenv("PICYCLE_EVIDENCE_DIR", str(kept))
    sheet = tmp_path / "march.csv"
    sheet.write_bytes(SHEET)
    sha256 = hashlib.sha256(SHEET).hexdigest()

    attached = picycle("evidence", "attach", started, str(sheet), "--as", "pia")
    assert attached.stdout == (
        f"evidence 1: march.csv (text/plain, {len(SHEET)} bytes, sha256 {sha256})\n"
    )
    listed = json.loads(picycle("evidence", "list", started, "--as", "pia", "--json").stdout)
    assert [(e["id"], e["name"], e["sha256"]) for e in listed] == [(1, "march.csv", sha256)]
    saved = tmp_path / "saved.csv"
    picycle("evidence", "save", started, "1", "-o", str(saved), "--as", "audrey")
    assert saved.read_bytes() == SHEET
    auditor = picycle("evidence", "attach", started, str(sheet), "--as", "audrey")
    assert auditor.exit_code == 1
    assert auditor.stderr.startswith("error: auditors read but do not change anything")

    assert picycle("audit", "verify").exit_code == 0
    stored = kept / sha256[:2] / sha256
    stored.chmod(0o640)
    stored.write_bytes(SHEET.replace(b"82", b"92"))
    verified = picycle("audit", "verify")
    assert verified.exit_code == 1
    assert (
        f"NOT intact: evidence 1 'march.csv' of task {started} in cycle #1 is changed: its "
        "content no longer has the SHA-256 the trail recorded"
    ) in verified.stdout.splitlines()
    stored.unlink()
    assert "is missing from the evidence store" in picycle("audit", "verify").stdout


def test_a_disguised_program_is_refused_naming_what_it_is(picycle, started, tmp_path):
    program = tmp_path / "photo.png"
    program.write_bytes(b"MZ\x90\x00" + bytes(200))
    refused = picycle("evidence", "attach", started, str(program), "--as", "pia")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: the file is application/x-msdownload, which is not")
