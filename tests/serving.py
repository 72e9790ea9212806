"""Running ``picycle serve`` in a process of its own, as the serving and crash tests do."""

from __future__ import annotations

import http.client
import socket
import sys
import time
from pathlib import Path

PICYCLE = str(Path(sys.executable).parent / "picycle")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def health(port: int) -> int | None:
    """The health endpoint's status, or None while nothing answers."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/api/v1/health")
        status = connection.getresponse().status
        connection.close()
        return status
    except OSError:
        return None


def eventually(check, what: str):
    """``check()``'s first true answer, polled; a failure after a generous while."""
    for _ in range(600):
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"never: {what}")
