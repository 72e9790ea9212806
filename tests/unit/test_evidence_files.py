"""What an evidence file is judged to be by its content, the name it is kept under, and the
settings that choose where and how large."""

from __future__ import annotations

from pathlib import Path

import pytest
from picycle.engine.errors import ConfigurationError
from picycle.engine.evidence_files import ACCEPTED, EXTENSIONS, safe_name, sniffed_type
from picycle.engine.evidence_store import DatabaseStore, EvidenceSettings, FileStore


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"%PDF-1.7\n" + bytes(100), "application/pdf"),
        (b"\xff\xd8\xff\xe0" + bytes(100), "image/jpeg"),
        (b"indicator;waarde\nvergunningen;82\n", "text/plain"),
        ("\ufeffالمؤشر,القيمة\n".encode(), "text/plain"),  # a BOM and Arabic are text
        (b"<svg onload='alert(1)'/>", "text/plain"),  # kept, but only ever as text
        (b"MZ\x90\x00" + bytes(100), None),  # a Windows program
        (b"\x7fELF" + bytes(100), None),  # a Linux one
        (b"PK\x03\x04" + bytes(100), None),  # a zip that is no office file
        (b"#!/bin/sh\x00rm -rf /", None),  # text with a NUL is not text
        (b"\xc3\x28", None),  # not UTF-8
    ],
)
def test_the_type_comes_from_the_content(content, kind):
    assert sniffed_type(content) == kind


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.mark.parametrize(
    ("sent", "media_type", "kept"),
    [
        ("baselines.xlsx", XLSX, "baselines.xlsx"),
        ("../../../etc/passwd", "text/plain", "passwd.txt"),
        ("a\x00b\r\n.csv", "text/plain", "ab.csv"),
        ("\u202efdp.exe", "application/pdf", "fdp.exe.pdf"),
        ("...", "text/plain", "evidence.txt"),
        ("x" * 300 + ".xlsx", XLSX, "x" * 195 + ".xlsx"),
        ("x" * 300 + ".js", "text/plain", "x" * 196 + ".txt"),
        # Named for what it is: text a double click would run keeps a text extension.
        ("checklist.js", "text/plain", "checklist.js.txt"),
        ("Run.BAT", "text/plain", "Run.BAT.txt"),
        ("Photo.JPEG", "image/jpeg", "Photo.JPEG"),
        ("scan", "image/png", "scan.png"),
    ],
)
def test_names_lose_folders_controls_and_excess_and_say_what_they_are(sent, media_type, kept):
    assert safe_name(sent, media_type) == kept


def test_the_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PICYCLE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PICYCLE_EVIDENCE_DIR", raising=False)
    settings = EvidenceSettings.from_environment()
    assert (settings.directory, settings.max_bytes) == (tmp_path / "evidence", 20 * 1024 * 1024)
    assert isinstance(settings.store(), FileStore)
    monkeypatch.setenv("PICYCLE_EVIDENCE_STORAGE", "Database")
    monkeypatch.setenv("PICYCLE_EVIDENCE_DIR", "/srv/evidence")
    monkeypatch.setenv("PICYCLE_EVIDENCE_MAX_BYTES", "5000")
    settings = EvidenceSettings.from_environment()
    assert (settings.directory, settings.max_bytes) == (Path("/srv/evidence"), 5000)
    assert isinstance(settings.store(), DatabaseStore)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PICYCLE_EVIDENCE_STORAGE", "s3"),
        ("PICYCLE_EVIDENCE_MAX_BYTES", "20MB"),
        ("PICYCLE_EVIDENCE_MAX_BYTES", "0"),
    ],
)
def test_a_bad_setting_is_named(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=variable):
        EvidenceSettings.from_environment()


def test_every_kept_type_has_its_extensions():
    assert EXTENSIONS.keys() == ACCEPTED.keys()
