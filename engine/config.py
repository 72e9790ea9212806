"""Where picycle keeps its data, read from the environment."""

from __future__ import annotations

import os
from datetime import time
from pathlib import Path

from .errors import ConfigurationError

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


AUDIT_KEY = "PICYCLE_AUDIT_KEY"
AUDIT_KEY_FILE = "PICYCLE_AUDIT_KEY_FILE"
MIN_AUDIT_KEY_BYTES = 32


def audit_key() -> bytes | None:
    """The secret that seals the audit chains' heads: ``PICYCLE_AUDIT_KEY``, or the content
    of the file ``PICYCLE_AUDIT_KEY_FILE`` names (surrounding white space stripped); None
    when neither is set. At least 32 bytes, e.g. ``openssl rand -hex 32``."""
    text, path = os.environ.get(AUDIT_KEY), os.environ.get(AUDIT_KEY_FILE)
    if text and path:
        raise ConfigurationError(f"set {AUDIT_KEY} or {AUDIT_KEY_FILE}, not both")
    if path:
        try:
            key = Path(path).read_bytes().strip()
        except OSError as error:
            raise ConfigurationError(
                f"{AUDIT_KEY_FILE}: cannot read the audit key from {path}: {error.strerror}"
            ) from error
        source = f"{AUDIT_KEY_FILE} ({path})"
    elif text:
        key, source = text.strip().encode(), AUDIT_KEY
    else:
        return None
    if len(key) < MIN_AUDIT_KEY_BYTES:
        raise ConfigurationError(
            f"{source}: the audit key has {len(key)} bytes, at least {MIN_AUDIT_KEY_BYTES} "
            "are needed; make one with `openssl rand -hex 32`"
        )
    return key


BASE_URL = "PICYCLE_BASE_URL"


def base_url() -> str:
    """Where users open the pages (``PICYCLE_BASE_URL``), for the links in e-mails."""
    url = os.environ.get(BASE_URL, "http://127.0.0.1:8080").strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"{BASE_URL}: '{url}' is not an http:// or https:// URL")
    return url


DIGEST_AT = "PICYCLE_DIGEST_AT"


def digest_time() -> time:
    """When the daily digests go out (``PICYCLE_DIGEST_AT``, HH:MM in UTC; 07:00)."""
    text = os.environ.get(DIGEST_AT, "07:00").strip()
    try:
        hours, minutes = (int(part) for part in text.split(":"))
        return time(hours, minutes)
    except ValueError:
        raise ConfigurationError(f"{DIGEST_AT}: '{text}' is not a time of day as HH:MM") from None
