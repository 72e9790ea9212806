"""Where picycle keeps its data, read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "picycle"


def data_dir() -> Path:
    return Path(os.environ.get("PICYCLE_DATA_DIR", DEFAULT_DATA_DIR))


def database_url() -> str:
    """``PICYCLE_DATABASE_URL`` if set (PostgreSQL in multi-process deployments), else SQLite."""
    url = os.environ.get("PICYCLE_DATABASE_URL")
    if url:
        return url
    directory = data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / 'picycle.db'}"
