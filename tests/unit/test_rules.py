"""The method's rules: small microprojects, known gaps and owners, complete evaluations."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from picycle.engine.errors import ValidationFailed
from picycle.engine.rules import RuleContext, apply_rules, next_cycle_start_problem

TODAY = date(2026, 3, 2)
INDICATORS = [{"key": "permits"}, {"key": "backlog"}]
GAPS = [
    {
        "indicator": "permits",
        "name": "Permits",
        "unit": "%",
        "direction": "increase",
        "baseline": 55,
        "target": 80,
        "gap": 25,
    },
    {
        "indicator": "backlog",
        "name": "Backlog",
        "unit": "cases",
        "direction": "decrease",
        "baseline": 50,
        "target": 60,
        "gap": 0,
    },
]


def context(**task_data) -> RuleContext:
    data = {"indicators": INDICATORS, "gaps": GAPS, **task_data}
    return RuleContext(
        task_data=data, today=TODAY, existing_users=lambda names: set(names) & {"dana"}
    )


def microproject(**changes) -> dict:
    return {
        "title": "Digital intake",
        "gap": "permits",
        "owner": "dana",
        "due": "2026-04-01",
        "deliverable": "Form online",
        **changes,
    }


def design(*projects) -> dict:
    return apply_rules("design_microprojects", {"microprojects": list(projects)}, context())


def test_a_small_microproject_is_accepted():
    assert design(microproject())["microprojects"][0]["title"] == "Digital intake"


def test_ninety_days_is_the_limit():
    assert design(microproject(due="2026-05-31"))
    with pytest.raises(ValidationFailed, match="too big") as refused:
        design(microproject(), microproject(title="Big data city", due="2026-06-01"))
    message = refused.value.errors["microprojects.1.due"][0]
    assert "Big data city" in message and "91 days" in message and "split it" in message


def test_a_microproject_due_in_the_past_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        design(microproject(due="2026-03-01"))
    assert refused.value.errors["microprojects.0.due"] == [
        "microproject 'Digital intake' is due in the past"
    ]


def test_the_owner_must_be_a_user_and_the_gap_an_open_one():
    with pytest.raises(ValidationFailed) as refused:
        design(microproject(owner="nobody", gap="backlog"))
    assert set(refused.value.errors) == {"microprojects.0.owner", "microprojects.0.gap"}
    (message,) = refused.value.errors["microprojects.0.owner"]
    assert "'nobody', who is not an active user able to work" in message


@pytest.mark.parametrize("written", ["Dana", "DANA", "\uff44\uff41\uff4e\uff41"])
def test_an_owner_is_kept_as_user_names_are(written):
    assert design(microproject(owner=written))["microprojects"][0]["owner"] == "dana"


def test_indicator_keys_must_be_unique():
    data = {"indicators": [{"key": "a"}, {"key": "b"}, {"key": "a"}]}
    with pytest.raises(ValidationFailed) as refused:
        apply_rules("assess_performance", data, context())
    assert list(refused.value.errors) == ["indicators.2.key"]


def test_gap_analysis_keeps_the_computed_figures():
    submitted = [
        {
            **GAPS[0],
            "gap": 1,
            "baseline": 0,
            "cause_category": "capacity",
            "cause": "c",
            "impact": 3,
            "effort": 2,
        },
        {**GAPS[1], "cause_category": "motives", "cause": "m", "impact": 1, "effort": 1},
    ]
    result = apply_rules("identify_gaps", {"gaps": submitted}, context())
    assert [(g["gap"], g["baseline"], g["cause"]) for g in result["gaps"]] == [
        (25, 55, "c"),
        (0, 50, "m"),
    ]


def test_gap_analysis_must_cover_every_gap_and_no_other():
    with pytest.raises(ValidationFailed) as refused:
        apply_rules("identify_gaps", {"gaps": [{**GAPS[0], "indicator": "ghost"}]}, context())
    assert set(refused.value.errors) == {"gaps.0.indicator", "gaps"}


def test_a_target_already_met_needs_no_cause_and_a_gap_above_0_does():
    met = {"indicator": "backlog"}  # gap 0: nothing to analyse
    open_but_blank = {"indicator": "permits", "cause": "Paper files"}
    with pytest.raises(ValidationFailed) as refused:
        apply_rules("identify_gaps", {"gaps": [open_but_blank, met]}, context())
    assert sorted(refused.value.errors) == [
        "gaps.0.cause_category",
        "gaps.0.effort",
        "gaps.0.impact",
    ]
    assert refused.value.errors["gaps.0.impact"][0].code == "required"
    analysed = {**open_but_blank, "cause_category": "capacity", "impact": 3, "effort": 2}
    result = apply_rules("identify_gaps", {"gaps": [analysed, met]}, context())
    assert [(g["indicator"], g["gap"], g.get("cause")) for g in result["gaps"]] == [
        ("permits", 25, "Paper files"),
        ("backlog", 0, None),
    ]


def test_an_evaluation_measures_every_indicator_once():
    measurements = [
        {"indicator": "permits", "actual": 70},
        {"indicator": "permits", "actual": 71},
        {"indicator": "ghost", "actual": 1},
    ]
    with pytest.raises(ValidationFailed) as refused:
        apply_rules("evaluate_results", {"measurements": measurements}, context())
    assert refused.value.errors == {
        "measurements.1.indicator": ["'permits' is measured twice"],
        "measurements.2.indicator": ["'ghost' is not one of this cycle's indicators"],
        "measurements": ["indicator 'backlog' has no measurement"],
    }


def test_no_rules_named_means_the_data_passes_unchanged():
    assert apply_rules(None, {"x": 1}, context()) == {"x": 1}


def test_the_next_cycle_starts_between_today_and_a_year_from_now():
    today = date(2026, 3, 2)
    assert next_cycle_start_problem(today, today) is None
    assert next_cycle_start_problem(today + timedelta(days=366), today) is None
    assert next_cycle_start_problem(today - timedelta(days=1), today).code == "start_in_past"
    too_far = next_cycle_start_problem(today + timedelta(days=367), today)
    assert (too_far.code, too_far.params) == ("start_too_far", {"latest": date(2027, 3, 3)})
