"""The README's tour and curl walkthrough, run as written on a fresh machine's defaults.

Each ```sh block right after a ``<!-- runs in tests/e2e/test_readme.py: NAME -->`` line is
run by bash from the repository folder, stopping at the first command that fails, with a
home folder of its own (so the default SQLite database is new) and nothing of picycle's
configuration in the environment. The walkthrough's port is swapped for a free one.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(
    r"<!-- runs in tests/e2e/test_readme\.py: (?P<name>[\w-]+) -->\n```sh\n(?P<script>.*?)```",
    re.DOTALL,
)
WALKTHROUGH_PORT = "8080"
# What each script must have shown a reader along the way.
TOUR_SAYS = (
    "started cycle 1",
    "Identify gaps",
    "cancelled",
    "intact",
)
WALKTHROUGH_SAYS = ("1\n", '"status": 422', '"completed_by":"pia"', '"type":"task_completed"')


def readme_scripts() -> dict[str, str]:
    return {m["name"]: m["script"] for m in MARKER.finditer((ROOT / "README.md").read_text())}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_as_written(script: str, home: Path) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PICYCLE_")}
    environment.update(HOME=str(home), VIRTUAL_ENV="")
    # Its own process group: a server the script left running is stopped with it.
    process = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_the_readme_marks_its_runnable_scripts():
    assert set(readme_scripts()) == {"tour", "walkthrough"}


@pytest.fixture
def home(tmp_path) -> Path:
    if not (ROOT / ".venv" / "bin" / "picycle").exists():
        pytest.fail("the README's set-up command makes .venv in the repository folder; run it")
    return tmp_path


def test_the_command_line_tour_runs_as_written(home):
    result = run_as_written(readme_scripts()["tour"], home)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert (home / ".local" / "share" / "picycle" / "picycle.db").exists()
    for said in TOUR_SAYS:
        assert said in result.stdout, f"{said!r} not in:\n{result.stdout}"


def test_the_curl_walkthrough_runs_as_written(home):
    script = readme_scripts()["walkthrough"].replace(WALKTHROUGH_PORT, str(free_port()))
    result = run_as_written(script, home)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    for said in WALKTHROUGH_SAYS:
        assert said in result.stdout, f"{said!r} not in:\n{result.stdout}"


def test_ci_runs_the_readmes_test_command_verbatim():
    readme = (ROOT / "README.md").read_text()
    command = readme.split("# 2. ", 1)[1].split("```", 1)[0].strip().splitlines()[-1]
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci == command
