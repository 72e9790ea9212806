"""The installed ``picycle`` command in a shell pipeline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PICYCLE = Path(sys.executable).with_name("picycle")


def test_an_export_read_only_in_part_ends_quietly(tmp_path):
    environment = {**os.environ, "PICYCLE_DATA_DIR": str(tmp_path)}
    environment.pop("PICYCLE_DATABASE_URL", None)
    subprocess.run([PICYCLE, "demo"], env=environment, check=True, capture_output=True)
    environment["PICYCLE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.db'}"
    piped = subprocess.run(
        ["bash", "-c", f"'{PICYCLE}' audit export --format xes | head -c 100 > /dev/null"],
        env=environment,
        capture_output=True,
        text=True,
    )
    assert piped.stderr == ""
