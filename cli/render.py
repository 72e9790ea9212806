"""Plain-text output for the terminal: cycles, tasks, users, history and incidents.

A cycle is named by its id, which every command takes ("cycle 7"); the unit's own count of
its cycles is always said as such ("cycle 2 of the unit")."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from typing import Any

import click
from picycle.engine.read_models import (
    AuditEventView,
    CommentView,
    CycleDetail,
    CycleSummary,
    IncidentView,
    Page,
    TaskDetail,
    TaskSummary,
    TokenView,
    UserView,
)

SHORT = 100  # characters of an event's data shown in a history line


def when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "") -> None:
    """Rows under their headers, each column as wide as its widest cell on the screen."""
    cells = [list(headers)] + [["-" if c is None or c == "" else str(c) for c in r] for r in rows]
    widths = [max(columns(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        shown = [_isolated(c) for c in row]
        padded = (s + " " * (w - columns(c)) for s, c, w in zip(shown, row, widths, strict=True))
        line = "  ".join(padded).rstrip()
        click.echo(indent + (LEFT_TO_RIGHT + line if shown != row else line))


# For a terminal that lays text out in both directions: a row stays left to right whatever
# its first letter, and a cell with right-to-left letters or direction controls is kept
# apart from its neighbours (two Arabic cells side by side would otherwise swap places, and
# an override left open in one cell would turn the rest of the row around). Invisible, and
# only where needed.
LEFT_TO_RIGHT = "\u200e"
_ISOLATE, _END_ISOLATE = "\u2068", "\u2069"
_TURNING = frozenset({"R", "AL", "RLE", "LRE", "RLO", "LRO", "PDF", "RLI", "LRI", "FSI", "PDI"})


def _isolated(cell: str) -> str:
    turning = any(unicodedata.bidirectional(c) in _TURNING for c in cell)
    return _ISOLATE + cell + _END_ISOLATE if turning else cell


def shown(value: object) -> str:
    """A value from the data set into a line: isolated, as a table's cell is, when it holds
    right-to-left letters or direction controls. Print the line with ``echo``."""
    return _isolated(str(value))


def echo(line: str, err: bool = False) -> None:
    """Print a line that may hold ``shown`` values: one that does starts left to right,
    as a table's row does."""
    click.echo(LEFT_TO_RIGHT + line if _ISOLATE in line else line, err=err)


def columns(text: str) -> int:
    """How many columns a terminal gives ``text``: two for each wide East Asian character,
    none for a combining mark (an Arabic vowel sign, an accent written apart) nor for an
    invisible format character (a direction mark, a zero-width joiner)."""
    return sum(
        0
        if unicodedata.combining(c) or unicodedata.category(c) == "Cf"
        else 2
        if unicodedata.east_asian_width(c) in "WF"
        else 1
        for c in text
    )


def cycle_label(cycle: CycleSummary) -> str:
    return f"cycle {cycle.id} ({shown(cycle.unit)}, cycle {cycle.cycle_number} of the unit)"


def print_cycles(page: Page[CycleSummary]) -> None:
    click.echo(f"{page.total} cycle(s)")
    if page.items:
        table(
            ("cycle", "unit", "of the unit", "status", "started", "title"),
            [
                (c.id, c.unit, c.cycle_number, c.status, when(c.started_at), c.title)
                for c in page.items
            ],
        )


def print_cycle(cycle: CycleDetail) -> None:
    echo(f"{cycle_label(cycle)}: {shown(cycle.title)}")
    ended = f", ended {when(cycle.ended_at)}" if cycle.ended_at else ""
    echo(f"  {cycle.status}: started {when(cycle.started_at)} by {shown(cycle.started_by)}{ended}")
    echo(f"  process: {shown(cycle.process_id)} version {cycle.version}")
    if cycle.previous_cycle_id:
        click.echo(f"  builds on: cycle {cycle.previous_cycle_id}")
    _print_records(cycle.records)
    click.echo(f"  open tasks: {len(cycle.open_tasks)}")
    for task in cycle.open_tasks:
        echo(f"    {_task_line(task)}")


def _print_records(records: dict[str, Any]) -> None:
    """What the cycle has recorded so far, in the order the method produces it."""
    if records.get("indicators"):
        click.echo("  indicators:")
        table(
            ("key", "indicator", "baseline -> target", "unit", "better when"),
            [
                (i.get("key"), i.get("name"), _span(i, "target"), i.get("unit"), _better(i))
                for i in records["indicators"]
            ],
            "    ",
        )
    if records.get("gaps"):
        click.echo("  gaps:")
        table(
            ("priority", "indicator", "gap", "cause", "category"),
            [
                (
                    g.get("priority"),
                    g.get("indicator"),
                    f"{_number(g.get('gap'))} {g.get('unit', '')}".strip(),
                    g.get("cause"),
                    g.get("cause_category"),
                )
                for g in records["gaps"]
            ],
            "    ",
        )
    projects = records.get("implemented_microprojects") or records.get("microprojects")
    if projects:
        click.echo("  microprojects:")
        table(
            ("microproject", "gap", "owner", "due", "status", "deliverable"),
            [
                (
                    p.get("title"),
                    p.get("gap"),
                    p.get("owner"),
                    p.get("due"),
                    p.get("status", "planned"),
                    p.get("deliverable"),
                )
                for p in projects
            ],
            "    ",
        )
    if records.get("evaluation"):
        click.echo("  evaluation:")
        table(
            ("indicator", "baseline -> actual", "target", "unit", "met"),
            [
                (
                    e.get("indicator"),
                    _span(e, "actual"),
                    _number(e.get("target")),
                    e.get("unit"),
                    "yes" if e.get("met") else "no",
                )
                for e in records["evaluation"]
            ],
            "    ",
        )
    if "targets_met" in records:
        click.echo(f"  targets met: {'yes' if records['targets_met'] else 'no'}")
    if records.get("lessons_learned"):
        echo(f"  lessons learned: {shown(records['lessons_learned'])}")


def _number(value) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _span(row: dict, to: str) -> str:
    return f"{_number(row.get('baseline'))} -> {_number(row.get(to))}"


def _better(indicator: dict) -> str:
    direction = indicator.get("direction")
    return {"increase": "higher", "decrease": "lower"}.get(direction, direction)


def _task_line(task: TaskSummary) -> str:
    who = task.claimed_by or task.assignee or task.candidate_group or "-"
    due = f"  due {when(task.due_at)}" if task.due_at else ""
    return f"{task.id}  {shown(task.title)}  [{shown(who)}]{due}"


def print_tasks(page: Page[TaskSummary]) -> None:
    click.echo(f"{page.total} open task(s)")
    for task in page.items:
        echo(f"cycle {task.cycle_id}  {_task_line(task)}")


def print_task(task: TaskDetail) -> None:
    echo(_task_line(task))
    echo(f"  cycle: {task.cycle_id}; step: {shown(task.element_id)}")
    ended = f", ended {when(task.ended_at)}" if task.ended_at else ""
    by = f" by {shown(task.completed_by)}" if task.completed_by else ""
    echo(f"  state: {task.state}, created {when(task.created_at)}{ended}{by}")
    if task.instructions:
        echo(f"  instructions: {shown(task.instructions)}")


def print_comments(comments: Sequence[CommentView]) -> None:
    if comments:
        click.echo(f"  comments: {len(comments)}")
    for comment in comments:
        echo(f"    {when(comment.created_at)}  {shown(comment.author)}: {shown(comment.text)}")


def memberships(user: UserView) -> str:
    """``PI Unit, Department Team in Directorate of Planning``: where each group holds."""
    return ", ".join(
        m.group if m.unit_id is None else f"{m.group} in {m.unit}" for m in user.memberships
    )


def user_line(user: UserView) -> str:
    groups = memberships(user) or "no groups"
    active = "active" if user.active else "deactivated"
    return f"{shown(user.name)}: {user.role}, {active}, groups: {shown(groups)}"


def print_users(users: Sequence[UserView]) -> None:
    click.echo(f"{len(users)} user(s)")
    if users:
        table(
            ("name", "role", "active", "groups"),
            [(u.name, u.role, "yes" if u.active else "no", memberships(u)) for u in users],
        )


def print_tokens(tokens: Sequence[TokenView]) -> None:
    click.echo(f"{len(tokens)} token(s)")
    if tokens:
        table(
            ("id", "issued", "revoked"),
            [(t.id, when(t.created_at), when(t.revoked_at)) for t in tokens],
        )


def print_history(cycle_id: int, events: Sequence[AuditEventView]) -> None:
    click.echo(f"cycle {cycle_id}: {len(events)} event(s)")
    # Only some events name their task's title: the others are told by the task's id.
    titles = {e.task_id: e.data["title"] for e in events if e.task_id and "title" in e.data}
    if events:
        table(
            ("time", "actor", "event", "task", "data"),
            [
                (
                    e.at.strftime("%Y-%m-%d %H:%M:%S"),
                    e.actor,
                    e.type,
                    f"{titles.get(e.task_id, e.task_id)} ({e.element_id})" if e.task_id else None,
                    _short(_event_data(e)),
                )
                for e in events
            ],
        )


def _event_data(event: AuditEventView) -> dict:
    data = {k: v for k, v in event.data.items() if v is not None}
    if event.task_id:
        data.pop("title", None)
    # A completion records the form data under "data": that is what is worth reading.
    return data["data"] if set(data) == {"data"} and isinstance(data["data"], dict) else data


def _short(data: dict) -> str:
    text = json.dumps(data, ensure_ascii=False) if data else ""
    return text if len(text) <= SHORT else text[: SHORT - 3] + "..."


def print_incidents(page: Page[IncidentView]) -> None:
    click.echo(f"{page.total} incident(s)")
    for incident in page.items:
        state = incident.resolution or "open"
        echo(
            f"#{incident.id}  cycle {incident.cycle_id}  {shown(incident.element_id or '-')}  "
            f"{incident.action}  {state}  failed {incident.failures}x, last "
            f"{when(incident.last_failed_at)}"
        )


def print_incident(incident: IncidentView) -> None:
    click.echo(f"incident #{incident.id} of cycle {incident.cycle_id}: {incident.action}")
    echo(f"  step: {shown(incident.element_id or '-')}  task: {incident.task_id or '-'}")
    echo(f"  attempted by {shown(incident.attempted_by)}; failed {incident.failures} time(s)")
    click.echo(f"  first {when(incident.raised_at)}, last {when(incident.last_failed_at)}")
    echo(f"  why: {shown(incident.message)}")
    if incident.budget_limit:
        click.echo(f"  limit: {incident.budget_limit}")
    if incident.resolved_at:
        reason = f": {shown(incident.reason)}" if incident.reason else ""
        echo(
            f"  {incident.resolution} by {shown(incident.resolved_by)} "
            f"on {when(incident.resolved_at)}{reason}"
        )
