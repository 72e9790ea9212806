"""Plain-text output of cycles and tasks for the terminal."""

from __future__ import annotations

import json

import click
from picycle.engine.read_models import (
    CycleDetail,
    CycleSummary,
    IncidentView,
    Page,
    TaskDetail,
    TaskSummary,
)


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def print_cycles(page: Page[CycleSummary]) -> None:
    click.echo(f"{page.total} cycle(s)")
    for cycle in page.items:
        click.echo(
            f"#{cycle.id}  {cycle.unit}  cycle {cycle.cycle_number}  {cycle.status}  "
            f"{cycle.title}  (started {_when(cycle.started_at)})"
        )


def print_cycle(cycle: CycleDetail) -> None:
    click.echo(f"cycle #{cycle.id}: {cycle.title}")
    click.echo(f"  unit: {cycle.unit}, cycle {cycle.cycle_number}, {cycle.status}")
    click.echo(f"  process: {cycle.process_id} version {cycle.version}")
    # What the cycle has recorded so far, in the order the method produces it.
    for key, value in cycle.records.items():
        click.echo(f"  {key}: {json.dumps(value)}")
    click.echo(f"  open tasks: {len(cycle.open_tasks)}")
    for task in cycle.open_tasks:
        click.echo(f"    {_task_line(task)}")


def _task_line(task: TaskSummary) -> str:
    who = task.claimed_by or task.assignee or task.candidate_group or "-"
    due = f"  due {_when(task.due_at)}" if task.due_at else ""
    return f"{task.id}  {task.title}  [{who}]{due}"


def print_tasks(page: Page[TaskSummary]) -> None:
    click.echo(f"{page.total} open task(s)")
    for task in page.items:
        click.echo(f"cycle #{task.cycle_id}  {_task_line(task)}")


def print_task(task: TaskDetail) -> None:
    click.echo(_task_line(task))
    click.echo(f"  state: {task.state}, created {_when(task.created_at)}")
    if task.instructions:
        click.echo(f"  instructions: {task.instructions}")
    if task.form_name is not None:
        fields = (task.form_schema or {}).get("properties", {})
        click.echo(f"  form ({task.form_name}) fields: {', '.join(fields)}")
    click.echo(f"  starting data: {json.dumps(task.form_data)}")


def print_incidents(page: Page[IncidentView]) -> None:
    click.echo(f"{page.total} incident(s)")
    for incident in page.items:
        state = incident.resolution or "open"
        click.echo(
            f"#{incident.id}  cycle #{incident.cycle_id}  {incident.element_id or '-'}  "
            f"{incident.action}  {state}  failed {incident.failures}x, last "
            f"{_when(incident.last_failed_at)}"
        )


def print_incident(incident: IncidentView) -> None:
    click.echo(f"incident #{incident.id} of cycle #{incident.cycle_id}: {incident.action}")
    click.echo(f"  step: {incident.element_id or '-'}  task: {incident.task_id or '-'}")
    click.echo(f"  attempted by {incident.attempted_by}; failed {incident.failures} time(s)")
    click.echo(f"  first {_when(incident.raised_at)}, last {_when(incident.last_failed_at)}")
    click.echo(f"  why: {incident.message}")
    if incident.budget_limit:
        click.echo(f"  limit: {incident.budget_limit}")
    if incident.resolved_at:
        reason = f": {incident.reason}" if incident.reason else ""
        click.echo(
            f"  {incident.resolution} by {incident.resolved_by} "
            f"on {_when(incident.resolved_at)}{reason}"
        )
