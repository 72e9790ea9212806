"""Free-text checks and seeding the next cycle from the previous one's results."""

from __future__ import annotations

import pytest
from picycle.engine.errors import ValidationFailed
from picycle.engine.inputs import require_text
from picycle.engine.services.cycles import next_baselines


def test_free_text_is_checked_for_emptiness_length_and_nul():
    require_text(unit=("Planning", 10))
    with pytest.raises(ValidationFailed) as refused:
        require_text(unit=(" ", 10), title=("x" * 11, 10), reason=("a\x00b", 10))
    assert refused.value.errors == {
        "unit": ["must not be empty"],
        "title": ["must be at most 10 characters, not 11"],
        "reason": ["must not contain NUL characters"],
    }


def test_the_next_cycle_starts_from_the_latest_actuals():
    previous = {
        "indicators": [{"key": "a", "baseline": 1, "target": 5}, {"key": "b", "baseline": 9}],
        "measurements": [{"indicator": "a", "actual": 4}],
    }
    assert next_baselines(previous) == [
        {"key": "a", "baseline": 4, "target": 5},
        {"key": "b", "baseline": 9},
    ]


def test_odd_previous_data_is_left_out_rather_than_failing():
    previous = {"indicators": [{"x": 1}, "text", {"key": "a"}], "measurements": [{"y": 2}]}
    assert next_baselines(previous) == [{"key": "a", "baseline": None}]
