"""``picycle task``: the inbox; show, claim and complete tasks."""

from __future__ import annotations

import json
from pathlib import Path

import click
from picycle.engine import Engine
from picycle.engine.errors import ValidationFailed
from picycle.engine.services import tasks
from picycle.engine.services.inbox import SCOPES, InboxQuery, list_inbox
from picycle.engine.vocabulary import InboxScope

from .common import acting_as, as_option
from .render import print_task, print_tasks


@click.group()
def task() -> None:
    """List, claim and complete tasks."""


@task.command("list")
@as_option
@click.option(
    "--scope",
    type=click.Choice(SCOPES),
    default=None,
    help="mine (default with --as) or all (default without).",
)
@click.option("--cycle", "cycle_id", type=int)
@click.pass_obj
def task_list(engine: Engine, as_user: str | None, scope: str | None, cycle_id: int | None):
    scope = scope or ("mine" if as_user else "all")
    query = InboxQuery(scope=InboxScope(scope), cycle_id=cycle_id, limit=200)
    with engine.unit_of_work(write=False) as uow:
        page = list_inbox(uow, acting_as(uow, as_user), query)
    print_tasks(page)


@task.command("show")
@click.argument("task_id")
@as_option
@click.pass_obj
def task_show(engine: Engine, task_id: str, as_user: str | None) -> None:
    with engine.unit_of_work(write=False) as uow:
        found = tasks.get_task(uow, acting_as(uow, as_user), task_id)
    print_task(found)


@task.command("claim")
@click.argument("task_id")
@click.option("--as", "as_user", metavar="NAME", required=True, help="Act as this user.")
@click.pass_obj
def task_claim(engine: Engine, task_id: str, as_user: str) -> None:
    with engine.unit_of_work() as uow:
        claimed = tasks.claim_task(uow, acting_as(uow, as_user), task_id)
    click.echo(f"{as_user} holds '{claimed.title}'")


@task.command("complete")
@click.argument("task_id")
@click.option("--as", "as_user", metavar="NAME", required=True, help="Act as this user.")
@click.option(
    "--data",
    "data_text",
    required=True,
    help="The form data as JSON, or @FILE to read it from a file.",
)
@click.pass_obj
def task_complete(engine: Engine, task_id: str, as_user: str, data_text: str) -> None:
    data = _read_json(data_text)
    with engine.unit_of_work() as uow:
        done = tasks.complete_task(uow, acting_as(uow, as_user), task_id, data)
    click.echo(f"completed '{done.title}'")


def _read_json(text: str):
    try:
        return json.loads(Path(text[1:]).read_text() if text.startswith("@") else text)
    except (OSError, ValueError) as error:
        message = f"--data is not readable JSON: {error}"
        raise ValidationFailed(message, {"data": [str(error)]}) from error
