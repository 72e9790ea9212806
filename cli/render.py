"""Plain-text output of cycles and tasks for the terminal."""

from __future__ import annotations

import json

import click
from picycle.engine.db.models import Cycle, Task
from picycle.engine.forms import Form

# What a cycle has recorded so far, in the order the method produces it.
CYCLE_RECORD = (
    "indicators",
    "gaps",
    "microprojects",
    "implemented_microprojects",
    "evaluation",
    "targets_met",
    "lessons_learned",
)


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def print_cycles(rows: list[Cycle], total: int) -> None:
    click.echo(f"{total} cycle(s)")
    for cycle in rows:
        click.echo(
            f"#{cycle.id}  {cycle.unit}  cycle {cycle.cycle_number}  {cycle.status}  "
            f"{cycle.title}  (started {_when(cycle.started_at)})"
        )


def print_cycle(cycle: Cycle, open_tasks: list[Task]) -> None:
    click.echo(f"cycle #{cycle.id}: {cycle.title}")
    click.echo(f"  unit: {cycle.unit}, cycle {cycle.cycle_number}, {cycle.status}")
    click.echo(f"  process: {cycle.process_id} version {cycle.definition.version}")
    for key in CYCLE_RECORD:
        if key in cycle.data:
            click.echo(f"  {key}: {json.dumps(cycle.data[key])}")
    click.echo(f"  open tasks: {len(open_tasks)}")
    for task in open_tasks:
        click.echo(f"    {_task_line(task)}")


def _task_line(task: Task) -> str:
    who = task.claimed_by or task.assignee or task.candidate_group or "-"
    due = f"  due {_when(task.due_at)}" if task.due_at else ""
    return f"{task.id}  {task.title}  [{who}]{due}"


def print_tasks(rows: list[Task], total: int) -> None:
    click.echo(f"{total} open task(s)")
    for task in rows:
        click.echo(f"cycle #{task.cycle_id}  {_task_line(task)}")


def print_task(task: Task, form: Form | None) -> None:
    click.echo(_task_line(task))
    click.echo(f"  state: {task.state}, created {_when(task.created_at)}")
    if task.instructions:
        click.echo(f"  instructions: {task.instructions}")
    if form:
        click.echo(f"  form ({form.name}) fields: {', '.join(form.fields)}")
    click.echo(f"  starting data: {json.dumps(task.form_data)}")
