"""``picycle task``: the inbox; show, claim, unclaim, comment on and complete tasks."""

from __future__ import annotations

import json
from pathlib import Path

import click
from picycle.engine import Engine
from picycle.engine.errors import ValidationFailed
from picycle.engine.services import comments, tasks
from picycle.engine.services.inbox import SCOPES, InboxQuery, list_inbox
from picycle.engine.vocabulary import InboxScope

from .common import ID, acting_as, as_option, as_required, echo_json, json_option
from .forms import print_form
from .render import echo, print_comments, print_task, print_tasks, shown


@click.group()
def task() -> None:
    """List, show, claim, unclaim, comment on and complete tasks."""


@task.command("list")
@as_option
@click.option(
    "--scope",
    type=click.Choice(SCOPES),
    default=None,
    help="mine: what you may work (held by you, assigned to you, or waiting for one of "
    "your groups; the default with --as); groups: only what waits for your groups; all: "
    "every open task (admins and auditors; the default without --as).",
)
@click.option("--cycle", "cycle_id", type=ID, help="Only the tasks of this cycle (its id).")
@json_option
@click.option("--ids", "ids_only", is_flag=True, help="Only the task ids, one a line.")
@click.pass_obj
def task_list(engine: Engine, as_user, scope, cycle_id, as_json: bool, ids_only: bool) -> None:
    """Open tasks: the acting user's inbox, or every open task."""
    scope = scope or ("mine" if as_user else "all")
    query = InboxQuery(scope=InboxScope(scope), cycle_id=cycle_id, limit=200)
    with engine.unit_of_work(write=False) as uow:
        page = list_inbox(uow, acting_as(uow, as_user), query)
    if as_json:
        echo_json(page)
    elif ids_only:
        for found in page.items:
            click.echo(found.id)
    else:
        print_tasks(page)


@task.command("show")
@click.argument("task_id")
@as_option
@json_option
@click.pass_obj
def task_show(engine: Engine, task_id: str, as_user: str | None, as_json: bool) -> None:
    """A task: who works it, its instructions, every field of its form, the data it starts
    from, an example --data to fill in, and its comments."""
    with engine.unit_of_work(write=False) as uow:
        actor = acting_as(uow, as_user)
        found = tasks.get_task(uow, actor, task_id)
        said = comments.list_comments(uow, actor, task_id)
    if as_json:
        echo_json({"task": found, "comments": said})
        return
    print_task(found)
    print_form(found)
    print_comments(said)


@task.command("claim")
@click.argument("task_id")
@as_required
@click.pass_obj
def task_claim(engine: Engine, task_id: str, as_user: str) -> None:
    """Hold a task so that colleagues see you work it."""
    with engine.unit_of_work() as uow:
        claimed = tasks.claim_task(uow, acting_as(uow, as_user), task_id)
    echo(f"{shown(claimed.claimed_by)} holds '{shown(claimed.title)}'")


@task.command("unclaim")
@click.argument("task_id")
@as_required
@click.pass_obj
def task_unclaim(engine: Engine, task_id: str, as_user: str) -> None:
    """Give a held task back to its group (its holder, or an admin)."""
    with engine.unit_of_work() as uow:
        given_back = tasks.unclaim_task(uow, acting_as(uow, as_user), task_id)
    to = given_back.candidate_group or given_back.assignee or "its group"
    echo(f"'{shown(given_back.title)}' is back with {shown(to)}; nobody holds it")


@task.command("comment")
@click.argument("task_id")
@as_required
@click.option("--text", required=True, help="The comment, kept in the cycle's history.")
@click.pass_obj
def task_comment(engine: Engine, task_id: str, as_user: str, text: str) -> None:
    """Comment on a task, open or done (whoever may read it, auditors excepted)."""
    with engine.unit_of_work() as uow:
        added = comments.add_comment(uow, acting_as(uow, as_user), task_id, text)
    echo(f"comment #{added.id} by {shown(added.author)} on task {added.task_id}")


@task.command("complete")
@click.argument("task_id")
@as_required
@click.option(
    "--data",
    "data_text",
    required=True,
    help="The form data as a JSON object, or @FILE to read it from a file.",
)
@click.pass_obj
def task_complete(engine: Engine, task_id: str, as_user: str, data_text: str) -> None:
    """Complete a task with its form data; the cycle moves on."""
    data = read_form_data(data_text)
    with engine.unit_of_work() as uow:
        done = tasks.complete_task(uow, acting_as(uow, as_user), task_id, data)
    echo(f"completed '{shown(done.title)}'")


def read_form_data(text: str) -> dict:
    """The JSON object --data gives, inline or from ``@FILE``; one clear error otherwise."""
    given = "--data"
    if text.startswith("@"):
        given = f"--data {text}"
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise _bad_data(f"{given}: cannot read the file ({reason})") from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise _bad_data(f"{given} is not valid JSON: {error.msg} at {where}") from error
    if not isinstance(data, dict):
        raise _bad_data(f"{given} is a JSON {type(data).__name__}, not an object")
    return data


def _bad_data(problem: str) -> ValidationFailed:
    return ValidationFailed(
        f"{problem}; give the form data as a JSON object ('{{\"field\": value}}') or @FILE; "
        "`picycle task show TASK_ID` prints an example"
    )
