"""Vendored front-end files are the published ones, each listed with its version, licence
and source in ``pages/static/vendor/README.md`` (the pages' own) or
``tests/browser/vendor/README.md`` (the browser tests'), and nothing is vendored unlisted."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "pages" / "static" / "vendor"
FOLDERS = [VENDOR, ROOT / "tests" / "browser" / "vendor"]
# | `file` | library | version | licence | source | `sha256` |
ROW = re.compile(r"^\| `([^`]+)` \|([^|]+)\|([^|]+)\|([^|]+)\|([^|]+)\| `([0-9a-f]{64})` \|$")


def listed(readme: str) -> dict[str, dict[str, str]]:
    rows = {}
    for line in readme.splitlines():
        found = ROW.match(line)
        if found:
            name, library, version, licence, source, sha256 = (
                part.strip() for part in found.groups()
            )
            rows[name] = {"version": version, "licence": licence, "source": source, "sha": sha256}
    return rows


def problems(folder: Path) -> list[str]:
    """What is wrong with the folder's table and files; empty when nothing is."""
    rows = listed((folder / "README.md").read_text(encoding="utf-8"))
    found = []
    for name, row in rows.items():
        path = folder / name
        if not path.is_file():
            found.append(f"{name} is listed but missing")
            continue
        if hashlib.sha256(path.read_bytes()).hexdigest() != row["sha"]:
            found.append(f"{name} is not the file listed (its sha256 differs)")
        if not all(row[column] for column in ("version", "licence", "source")):
            found.append(f"{name} lacks a version, licence or source")
        licence = re.search(r"`([^`]+)`", row["licence"])
        if licence and licence.group(1) not in rows:
            found.append(f"{name}'s licence file {licence.group(1)} is not listed")
    if rows and not any(re.search(r"licen[cs]e", name, re.I) for name in rows):
        found.append("no licence file is listed")
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and name != "README.md" and name not in rows:
            found.append(f"{name} is vendored but not listed")
    return found


@pytest.mark.parametrize("folder", FOLDERS, ids=["pages", "browser tests"])
def test_every_vendored_file_is_listed_with_its_licence(folder):
    assert listed((folder / "README.md").read_text(encoding="utf-8")), "the table is empty"
    assert problems(folder) == []


@pytest.fixture
def copy(tmp_path) -> Path:
    """The vendor folder, copied, to break."""
    for path in VENDOR.rglob("*"):
        if path.is_file():
            target = tmp_path / path.relative_to(VENDOR)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    return tmp_path


def test_an_unlisted_changed_or_missing_file_is_named(copy):
    (copy / "bpmn-js" / "extra.js").write_text("// not listed")
    with (copy / "bpmn-js" / "bpmn-js.css").open("a") as css:
        css.write("/* edited */")
    (copy / "bpmn-js" / "diagram-js.css").unlink()
    assert problems(copy) == [
        "bpmn-js/diagram-js.css is listed but missing",
        "bpmn-js/bpmn-js.css is not the file listed (its sha256 differs)",
        "bpmn-js/extra.js is vendored but not listed",
    ]
