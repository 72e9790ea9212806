"""Plain-text output of cycles and tasks for the terminal."""

from __future__ import annotations

import json

import click
from picycle.engine.read_models import CycleDetail, CycleSummary, Page, TaskDetail, TaskSummary


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
