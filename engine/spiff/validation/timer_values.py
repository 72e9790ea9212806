"""Timer values written as literals ("P14D") are checked the way SpiffWorkflow will read them.

A timer expression is Python that must produce ISO 8601 text; computed ones (due + 'T17:00')
can only be checked when they run, but a literal can be checked now.
"""

from __future__ import annotations

import ast

from ..limits import ModelLimits
from ..timer_values import timer_value_problem


def literal_timer_problem(kind: str, source: str, limits: ModelLimits) -> str | None:
    """What is wrong with a literal timer value; None when it is fine or computed."""
    try:
        value = ast.literal_eval(source.strip())
    except Exception:  # not a literal: it is computed from task data when the timer starts
        return None
    return timer_value_problem(kind, value, limits)
