"""Engine objects as the plain data the response schemas dump."""

from __future__ import annotations

from typing import Any

from picycle.engine.db.models import Comment, Cycle, Task
from picycle.engine.forms import Form
from picycle.engine.services import cycles

# What a cycle has recorded, shown when present in its data.
CYCLE_RECORDS = ("indicators", "gaps", "microprojects", "evaluation", "targets_met")


def cycle(found: Cycle) -> dict[str, Any]:
    return {
        "id": found.id,
        "status": found.status,
        "unit": found.unit,
        "title": found.title,
        "cycle_number": found.cycle_number,
        "previous_cycle_id": found.previous_cycle_id,
        "process_id": found.process_id,
        "version": found.definition.version,
        "started_at": found.started_at,
        "started_by": found.started_by,
        "ended_at": found.ended_at,
    }


def cycle_detail(uow, found: Cycle) -> dict[str, Any]:
    records = {key: found.data[key] for key in CYCLE_RECORDS if key in found.data}
    return {
        **cycle(found),
        "open_tasks": [task(t) for t in cycles.open_tasks(uow, found.id)],
        **records,
    }


def task(found: Task) -> dict[str, Any]:
    return {
        "id": found.id,
        "cycle_id": found.cycle_id,
        "element_id": found.element_id,
        "title": found.title,
        "candidate_group": found.candidate_group,
        "assignee": found.assignee,
        "claimed_by": found.claimed_by,
        "state": found.state,
        "created_at": found.created_at,
        "due_at": found.due_at,
    }


def task_detail(found: Task, form: Form | None) -> dict[str, Any]:
    return {
        **task(found),
        "instructions": found.instructions,
        "ended_at": found.ended_at,
        "completed_by": found.completed_by,
        "form_schema": form.schema if form else None,
        "form_data": found.form_data,
    }


def comment(found: Comment) -> dict[str, Any]:
    return {
        "id": found.id,
        "task_id": found.task_id,
        "author": found.author,
        "text": found.text,
        "created_at": found.created_at,
    }
