"""Installed, picycle is one import name: a host application keeps its own ``api`` and
``engine`` packages and mounts picycle beside them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE_FOLDERS = {"api", "cli", "engine", "pages", "processes"}


def test_every_package_folder_is_installed():
    """pyproject.toml lists the subpackages explicitly (they are remapped), so a new folder
    with an __init__.py must be listed there too, or an installed picycle lacks it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {"picycle"} | {
        "picycle." + ".".join(init.parent.relative_to(ROOT).parts)
        for folder in SOURCE_FOLDERS
        for init in (ROOT / folder).rglob("__init__.py")
    }
    assert set(config["packages"]) == on_disk
    assert {name for name in config["package-dir"]} <= on_disk


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("picycle-*.whl")
    return built


def test_the_wheel_adds_only_picycle(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        scripts = archive.read(entry_points).decode()
    top_level = {name.split("/")[0] for name in names}
    assert {name for name in top_level if not name.endswith(".dist-info")} == {"picycle"}
    assert "picycle = picycle.cli.main:main" in scripts
    for shipped in (
        "picycle/processes/pi_cycle.bpmn",
        "picycle/processes/forms/assess-performance.schema.json",
        "picycle/engine/migrations/env.py",
    ):
        assert shipped in names


HOST_APP = """
from pathlib import Path

from flask import Flask

import api
import engine
import picycle
from picycle.api import init_picycle
from picycle.engine.uow import Engine

app = Flask("host")
app.register_blueprint(api.blueprint, url_prefix="/api")
picycle_engine = Engine("sqlite:///" + {database!r})
picycle_engine.upgrade_schema()
init_picycle(app, picycle_engine, url_prefix="/picycle")

client = app.test_client()
print(client.get("/api/hello").get_json()["from"], engine.NAME)
print(client.get("/picycle/api/v1/health").status_code)
print(Path(picycle.__file__).parent.parent == Path({installed!r}))
"""


def test_a_host_app_with_its_own_api_and_engine_packages_mounts_picycle(wheel, tmp_path):
    installed = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-t", str(installed), wheel],
        check=True,
        capture_output=True,
    )
    host = tmp_path / "host"
    (host / "api").mkdir(parents=True)
    (host / "engine").mkdir()
    (host / "api" / "__init__.py").write_text(
        textwrap.dedent(
            """
            from flask import Blueprint

            blueprint = Blueprint("host_api", __name__)

            @blueprint.get("/hello")
            def hello():
                return {"from": "the host's api"}
            """
        )
    )
    (host / "engine" / "__init__.py").write_text('NAME = "the host\'s engine"\n')
    (host / "app.py").write_text(
        HOST_APP.format(database=str(tmp_path / "picycle.db"), installed=str(installed))
    )
    # The installed wheel comes first, ahead of this checkout's editable install.
    ran = subprocess.run(
        [sys.executable, "app.py"],
        cwd=host,
        env={"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == [
        "the host's api the host's engine",
        "200",
        "True",
    ]
