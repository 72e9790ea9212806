"""The sandbox's compile checks, behind a size limit, then the calls that would fail when run.

Nothing a modeller writes in one script or expression needs more than MAX_SOURCE_CHARS, and
the sandbox's hint patterns take time that grows with the square of a line's length.
"""

from __future__ import annotations

from ..sandbox import check_expression, check_script
from .calls import call_problems

MAX_SOURCE_CHARS = 20_000


def expression_problems(source: str) -> list[str]:
    return _too_long(source) or check_expression(source) or call_problems(source, "eval")


def script_problems(source: str) -> list[str]:
    return _too_long(source) or check_script(source) or call_problems(source, "exec")


def _too_long(source: str) -> list[str]:
    if len(source) <= MAX_SOURCE_CHARS:
        return []
    return [f"it is {len(source):,} characters long; at most {MAX_SOURCE_CHARS:,}: split it up"]
