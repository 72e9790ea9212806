"""Where a page may send the browser after a form: only somewhere on this site."""

from __future__ import annotations

from urllib.parse import urlsplit


def local_target(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default``. A ``next`` parameter
    naming another site (``//evil.example``, ``https://...``, ``/\\evil.example``) or
    holding control characters would make the sign-in form an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
