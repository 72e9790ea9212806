"""picycle: performance-improvement cycles on BPMN, as one importable package.

The repository keeps its parts in top-level folders (``engine/``, ``api/``, ``cli/``,
``processes/``); installed, they are ``picycle.engine``, ``picycle.api``, ``picycle.cli``
and ``picycle.processes`` (``pyproject.toml`` maps them), so a host application's own
``api`` or ``engine`` packages never collide with them.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("picycle")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
