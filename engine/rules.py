"""The method's rules that a JSON Schema cannot say, by the name a model gives them
(``picycleRules`` on a user task). Each takes the submitted data and the context and
returns the data to apply, or raises ValidationFailed naming the offending fields."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .errors import Message, ValidationFailed
from .inputs import title_problems
from .user_names import normalised

MAX_TITLE_LENGTH = 500  # a cycle's title, as the plan task's form allows it

MICROPROJECT_MAX_DAYS = 90
MICROPROJECT_TITLE_LENGTH = 120  # as the design form allows it
# A microproject's due date moves at most this often: each move restarts its owner's task.
MAX_DUE_DATE_MOVES = 3
NEXT_CYCLE_MAX_DAYS = 366


@dataclass(frozen=True)
class RuleContext:
    task_data: dict[str, Any]
    today: date
    # Which of the given names are active users able to work tasks (auditors only read):
    # asked once per submission.
    existing_users: Callable[[Collection[str]], set[str]]


Rule = Callable[[dict[str, Any], RuleContext], dict[str, Any]]


class _Errors:
    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def raise_if_any(self, summary: str) -> None:
        if self.fields:
            first = next(iter(self.fields.values()))[0]
            raise ValidationFailed(f"{summary}: {first}", self.fields)


def _indicator_keys(task_data: dict[str, Any]) -> list[str]:
    return [i["key"] for i in task_data.get("indicators", [])]


def _open_gaps(task_data: dict[str, Any]) -> set[str]:
    """Indicators whose target is not yet reached: the gaps a microproject can close."""
    return {g["indicator"] for g in task_data.get("gaps", []) if g.get("gap", 0) > 0}


def assess_performance(data: dict[str, Any], context: RuleContext) -> dict[str, Any]:
    errors = _Errors()
    seen: set[str] = set()
    for n, indicator in enumerate(data["indicators"]):
        if indicator["key"] in seen:
            text = f"indicator key '{indicator['key']}' is used twice"
            errors.add(f"indicators.{n}.key", Message(text, "key_twice", key=indicator["key"]))
        seen.add(indicator["key"])
    errors.raise_if_any("the assessment cannot be recorded")
    return data


def identify_gaps(data: dict[str, Any], context: RuleContext) -> dict[str, Any]:
    """The team adds causes and scores to each gap above 0; the computed figures stay the
    process's own."""
    computed = {gap["indicator"]: gap for gap in context.task_data.get("gaps", [])}
    errors = _Errors()
    merged = []
    for n, gap in enumerate(data["gaps"]):
        original = computed.get(gap.get("indicator"))
        if original is None:
            text = f"'{gap.get('indicator')}' is not an assessed indicator"
            errors.add(
                f"gaps.{n}.indicator", Message(text, "not_assessed", key=gap.get("indicator"))
            )
            continue
        if original.get("gap", 0) > 0:
            for field in _ANALYSIS_FIELDS:
                if gap.get(field) is None:
                    required = Message("this field is required", "required")
                    errors.add(f"gaps.{n}.{field}", required)
        merged.append({**gap, **{k: original[k] for k in original if k in _COMPUTED_GAP_FIELDS}})
    missing = sorted(set(computed) - {g.get("indicator") for g in data["gaps"]})
    for key in missing:
        text = f"the gap of indicator '{key}' needs its cause, impact and effort"
        errors.add("gaps", Message(text, "gap_missing", key=key))
    errors.raise_if_any("the gap analysis is incomplete")
    return {**data, "gaps": merged}


_COMPUTED_GAP_FIELDS = ("name", "unit", "direction", "baseline", "target", "gap")
# What the team fills in for a gap above 0; a target already met has no cause to name.
_ANALYSIS_FIELDS = ("cause_category", "cause", "impact", "effort")


def design_microprojects(data: dict[str, Any], context: RuleContext) -> dict[str, Any]:
    """A microproject is small: one existing owner, one known gap, due within 90 days."""
    known_gaps = _open_gaps(context.task_data)
    latest_due = context.today + timedelta(days=MICROPROJECT_MAX_DAYS)
    errors = _Errors()
    for project in data["microprojects"]:
        # As user names are kept: 'Dana' and a fullwidth 'ｄａｎａ' are dana.
        project["owner"] = normalised(project["owner"])
    users = context.existing_users({project["owner"] for project in data["microprojects"]})
    for n, project in enumerate(data["microprojects"]):
        title = project["title"]
        # It names the owner's task: one line that reads as written.
        for message in title_problems(title=(title, MICROPROJECT_TITLE_LENGTH)).get("title", []):
            errors.add(f"microprojects.{n}.title", message)
        if project["gap"] not in known_gaps:
            gaps = ", ".join(sorted(known_gaps))
            text = (
                f"microproject '{title}' targets '{project['gap']}', which is not one of this "
                f"cycle's gaps ({gaps})"
            )
            errors.add(f"microprojects.{n}.gap", Message(text, "not_a_gap", gaps=gaps))
        if project["owner"] not in users:
            text = (
                f"microproject '{title}' names owner '{project['owner']}', who is not an "
                "active user able to work its tasks: choose a member or an admin (auditors "
                "only read)"
            )
            owner = Message(text, "owner_unable", owner=project["owner"])
            errors.add(f"microprojects.{n}.owner", owner)
        due = date.fromisoformat(project["due"])
        if due < context.today:
            text = f"microproject '{title}' is due in the past"
            errors.add(f"microprojects.{n}.due", Message(text, "due_in_past"))
        elif due > latest_due:
            text = (
                f"microproject '{title}' is too big: due {due}, {(due - context.today).days} "
                f"days away; a microproject must finish within {MICROPROJECT_MAX_DAYS} days "
                f"(by {latest_due}); split it into smaller ones"
            )
            too_far = Message(text, "due_too_far", days=MICROPROJECT_MAX_DAYS, latest=latest_due)
            errors.add(f"microprojects.{n}.due", too_far)
    errors.raise_if_any("the design has microprojects that are not small enough or incomplete")
    return data


def evaluate_results(data: dict[str, Any], context: RuleContext) -> dict[str, Any]:
    known = _indicator_keys(context.task_data)
    errors = _Errors()
    measured: set[str] = set()
    for n, measurement in enumerate(data["measurements"]):
        key = measurement["indicator"]
        if key not in known:
            text = f"'{key}' is not one of this cycle's indicators"
            errors.add(f"measurements.{n}.indicator", Message(text, "not_an_indicator", key=key))
        elif key in measured:
            text = f"'{key}' is measured twice"
            errors.add(f"measurements.{n}.indicator", Message(text, "measured_twice", key=key))
        measured.add(key)
    for key in known:
        if key not in measured:
            text = f"indicator '{key}' has no measurement"
            errors.add("measurements", Message(text, "not_measured", key=key))
    errors.raise_if_any("the evaluation is incomplete")
    return data


def follow_up_overdue(data: dict[str, Any], context: RuleContext) -> dict[str, Any]:
    """A new due date lies ahead, keeps the microproject small, and is not the fourth."""
    project = context.task_data["microproject"]
    new_due = data.get("new_due", project["due"])
    if new_due == project["due"]:
        return data
    errors = _Errors()
    due = date.fromisoformat(new_due)
    latest_due = context.today + timedelta(days=MICROPROJECT_MAX_DAYS)
    moves = project.get("due_moves", 0)
    if moves >= MAX_DUE_DATE_MOVES:
        text = (
            f"the due date of '{project['title']}' was moved {moves} times already; record "
            "what was done and leave the date, or let the evaluation show it was not done"
        )
        errors.add("new_due", Message(text, "moved_too_often", moves=moves))
    elif due <= context.today:
        text = f"the new due date {due} must lie after today ({context.today})"
        errors.add("new_due", Message(text, "due_not_ahead"))
    elif due > latest_due:
        text = (
            f"the new due date {due} is {(due - context.today).days} days away; a microproject "
            f"must finish within {MICROPROJECT_MAX_DAYS} days (by {latest_due})"
        )
        too_far = Message(text, "due_too_far", days=MICROPROJECT_MAX_DAYS, latest=latest_due)
        errors.add("new_due", too_far)
    errors.raise_if_any("the new due date cannot be agreed")
    return data


def next_cycle_start_problem(start: date, today: date) -> Message | None:
    """Why the next cycle cannot start on ``start``: today at the earliest, within a year;
    None when it can. Planning it and moving the plan later share the rule."""
    latest = today + timedelta(days=NEXT_CYCLE_MAX_DAYS)
    if start < today:
        return Message(f"the next cycle cannot start in the past ({start})", "start_in_past")
    if start > latest:
        text = f"the next cycle should start within a year, by {latest}: a habit needs a rhythm"
        return Message(text, "start_too_far", latest=latest)
    return None


def plan_next_cycle(data: dict[str, Any], context: RuleContext) -> dict[str, Any]:
    """The next cycle starts within a year, under a title it can be started with."""
    errors = _Errors()
    problem = next_cycle_start_problem(date.fromisoformat(data["next_cycle_start"]), context.today)
    if problem is not None:
        errors.add("next_cycle_start", problem)
    title = (data.get("next_cycle_title") or "", MAX_TITLE_LENGTH)
    for message in title_problems(next_cycle_title=title).get("next_cycle_title", []):
        errors.add("next_cycle_title", message)
    errors.raise_if_any("the next cycle cannot be planned")
    return data


RULES: dict[str, Rule] = {
    "assess_performance": assess_performance,
    "identify_gaps": identify_gaps,
    "design_microprojects": design_microprojects,
    "evaluate_results": evaluate_results,
    "follow_up_overdue": follow_up_overdue,
    "plan_next_cycle": plan_next_cycle,
}


def apply_rules(name: str | None, data: dict[str, Any], context: RuleContext) -> dict[str, Any]:
    if name is None:
        return data
    return RULES[name](data, context)
