"""How long a step's task data may grow is judged on what it is now, whichever way the
engine measured it: whole, or by the variables that differ from its parent's with the
parent's length as it was kept."""

from __future__ import annotations

from types import SimpleNamespace
from uuid import uuid4

import pytest
from picycle.engine.errors import ModelError
from picycle.engine.spiff.runner import _normalise_data_since
from SpiffWorkflow.util.task import TaskState

LIMIT = 1000


def task(element_id: str, data: dict, parent=None, *, ran: bool, state=TaskState.COMPLETED):
    return SimpleNamespace(
        id=uuid4(),
        parent=parent,
        data=data,
        state=state,
        last_state_change=10.0 if ran else 0.0,
        task_spec=SimpleNamespace(bpmn_id=element_id),
    )


def workflow(*tasks, subprocesses=(), data=None, completed=False) -> SimpleNamespace:
    return SimpleNamespace(
        tasks={t.id: t for t in tasks},
        subprocesses={uuid4(): flow for flow in subprocesses},
        data=data or {},
        completed=completed,
    )


def test_a_size_kept_from_before_does_not_stand_for_data_that_grew_since():
    # A task still running came to hold its parent's data, whose length this instance never
    # measured; the length it had before must not bound its child's.
    parent = task("gather", {"notes": "n" * 900}, ran=False)
    running = task("each", dict(parent.data), parent, ran=False, state=TaskState.STARTED)
    child = task("report", {**parent.data, "summary": "s" * 50}, running, ran=True)
    sizes = {running.id: 20}
    with pytest.raises(ModelError, match="'report' is 9[0-9]{2} characters as JSON"):
        # 950 characters and more: over a limit the stale length would have let through.
        _normalise_data_since(
            workflow(parent, running, child), 5.0, 950, sizes, unshare_running=False
        )


def test_a_variable_that_differs_is_made_plain_and_counted_onto_its_parent():
    parent = task("start", {"notes": "n" * 100}, ran=True)
    child = task(
        "write", {"notes": "n" * 100, "pair": (1, 2), "count": {1: "one"}}, parent, ran=True
    )
    sizes: dict = {}
    _normalise_data_since(workflow(parent, child), 5.0, LIMIT, sizes, unshare_running=False)
    assert child.data == {"notes": "n" * 100, "pair": [1, 2], "count": {"1": "one"}}
    assert type(child.data["pair"]) is list
    assert sizes[child.id] >= len(
        '{"notes": "' + "n" * 100 + '", "pair": [1, 2], "count": {"1": "one"}}'
    )


def test_a_process_s_data_is_made_plain_while_a_run_can_write_it():
    # Finished in this run, still running (a nested subprocess's task may write it), and
    # finished before it with none of its tasks run since: only the last is left as it was.
    finished_now = workflow(task("end", {}, ran=True), data={"pair": (1, 2)}, completed=True)
    running = workflow(task("wait", {}, ran=False), data={"pair": (3, 4)})
    finished_before = workflow(task("end", {}, ran=False), data={"pair": [5, 6]}, completed=True)
    kept = finished_before.data
    top = workflow(subprocesses=(finished_now, running, finished_before))
    _normalise_data_since(top, 5.0, LIMIT, {}, unshare_running=False)
    assert finished_now.data == {"pair": [1, 2]} and type(finished_now.data["pair"]) is list
    assert running.data == {"pair": [3, 4]} and type(running.data["pair"]) is list
    assert finished_before.data is kept
