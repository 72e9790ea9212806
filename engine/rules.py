"""The method's rules that a JSON Schema cannot say, by the name a model gives them
(``picycleRules`` on a user task). Each takes the submitted data and the context and
returns the data to apply, or raises ValidationFailed naming the offending fields."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .errors import ValidationFailed
from .user_names import normalised

MICROPROJECT_MAX_DAYS = 90
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
            errors.add(f"indicators.{n}.key", f"indicator key '{indicator['key']}' is used twice")
        seen.add(indicator["key"])
    errors.raise_if_any("the assessment cannot be recorded")
    return data


def identify_gaps(data: dict[str, Any], context: RuleContext) -> dict[str, Any]:
    """The team adds causes and scores; the computed figures stay the process's own."""
    computed = {gap["indicator"]: gap for gap in context.task_data.get("gaps", [])}
    errors = _Errors()
    merged = []
    for n, gap in enumerate(data["gaps"]):
        original = computed.get(gap.get("indicator"))
        if original is None:
            errors.add(
                f"gaps.{n}.indicator", f"'{gap.get('indicator')}' is not an assessed indicator"
            )
            continue
        merged.append({**gap, **{k: original[k] for k in original if k in _COMPUTED_GAP_FIELDS}})
    missing = sorted(set(computed) - {g.get("indicator") for g in data["gaps"]})
    for key in missing:
        errors.add("gaps", f"the gap of indicator '{key}' needs its cause, impact and effort")
    errors.raise_if_any("the gap analysis is incomplete")
    return {**data, "gaps": merged}


_COMPUTED_GAP_FIELDS = ("name", "unit", "direction", "baseline", "target", "gap")


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
        if project["gap"] not in known_gaps:
            errors.add(
                f"microprojects.{n}.gap",
                f"microproject '{title}' targets '{project['gap']}', which is not one of this "
                f"cycle's gaps ({', '.join(sorted(known_gaps))})",
            )
        if project["owner"] not in users:
            errors.add(
                f"microprojects.{n}.owner",
                f"microproject '{title}' names owner '{project['owner']}', who is not an "
                "active user able to work its tasks: choose a member or an admin (auditors "
                "only read)",
            )
        due = date.fromisoformat(project["due"])
        if due < context.today:
            errors.add(f"microprojects.{n}.due", f"microproject '{title}' is due in the past")
        elif due > latest_due:
            errors.add(
                f"microprojects.{n}.due",
                f"microproject '{title}' is too big: due {due}, {(due - context.today).days} "
                f"days away; a microproject must finish within {MICROPROJECT_MAX_DAYS} days "
                f"(by {latest_due}); split it into smaller ones",
            )
    errors.raise_if_any("the design has microprojects that are not small enough or incomplete")
    return data


def evaluate_results(data: dict[str, Any], context: RuleContext) -> dict[str, Any]:
    known = _indicator_keys(context.task_data)
    errors = _Errors()
    measured: set[str] = set()
    for n, measurement in enumerate(data["measurements"]):
        key = measurement["indicator"]
        if key not in known:
            errors.add(
                f"measurements.{n}.indicator", f"'{key}' is not one of this cycle's indicators"
            )
        elif key in measured:
            errors.add(f"measurements.{n}.indicator", f"'{key}' is measured twice")
        measured.add(key)
    for key in known:
        if key not in measured:
            errors.add("measurements", f"indicator '{key}' has no measurement")
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
        errors.add(
            "new_due",
            f"the due date of '{project['title']}' was moved {moves} times already; record "
            "what was done and leave the date, or let the evaluation show it was not done",
        )
    elif due <= context.today:
        errors.add("new_due", f"the new due date {due} must lie after today ({context.today})")
    elif due > latest_due:
        errors.add(
            "new_due",
            f"the new due date {due} is {(due - context.today).days} days away; a microproject "
            f"must finish within {MICROPROJECT_MAX_DAYS} days (by {latest_due})",
        )
    errors.raise_if_any("the new due date cannot be agreed")
    return data


def plan_next_cycle(data: dict[str, Any], context: RuleContext) -> dict[str, Any]:
    start = date.fromisoformat(data["next_cycle_start"])
    latest = context.today + timedelta(days=NEXT_CYCLE_MAX_DAYS)
    errors = _Errors()
    if start < context.today:
        errors.add("next_cycle_start", f"the next cycle cannot start in the past ({start})")
    elif start > latest:
        errors.add(
            "next_cycle_start",
            f"the next cycle should start within a year, by {latest}: a habit needs a rhythm",
        )
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
