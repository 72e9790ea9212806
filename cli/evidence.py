"""``picycle evidence``: attach files to tasks, list and save them, clean the store."""

from __future__ import annotations

import click
from picycle.engine import Engine
from picycle.engine.services import evidence

from .common import ID, acting_as, as_option, as_required, echo_json, json_option
from .render import table, when


@click.group("evidence")
def evidence_group() -> None:
    """Attach files to tasks as evidence; list and save them."""


@evidence_group.command("attach")
@click.argument("task_id")
@click.argument("file", type=click.File("rb"))
@as_required
@click.option("--name", help="The name to keep it under (default: the file's own).")
@click.pass_obj
def evidence_attach(engine: Engine, task_id: str, file, as_user: str, name: str | None) -> None:
    """Attach FILE to a task (whoever may read it, auditors excepted); its SHA-256 goes
    into the audit trail."""
    with engine.unit_of_work() as uow:
        attached = evidence.attach_evidence(
            uow, acting_as(uow, as_user), task_id, name or file.name, file
        )
    click.echo(
        f"evidence {attached.id}: {attached.name} ({attached.media_type}, {attached.size} "
        f"bytes, sha256 {attached.sha256})"
    )


@evidence_group.command("list")
@click.argument("task_id")
@as_option
@json_option
@click.pass_obj
def evidence_list(engine: Engine, task_id: str, as_user: str | None, as_json: bool) -> None:
    """The task's evidence, oldest first."""
    with engine.unit_of_work(write=False) as uow:
        found = evidence.list_evidence(uow, acting_as(uow, as_user), task_id)
    if as_json:
        echo_json(found)
        return
    table(
        ("id", "name", "type", "bytes", "by", "when", "sha256"),
        [
            (e.id, e.name, e.media_type, e.size, e.attached_by, when(e.attached_at), e.sha256)
            for e in found
        ],
    )


@evidence_group.command("save")
@click.argument("task_id")
@click.argument("evidence_id", type=ID)
@click.option("--output", "-o", type=click.File("wb"), required=True, help="Write it here.")
@as_option
@click.pass_obj
def evidence_save(engine: Engine, task_id: str, evidence_id: int, output, as_user) -> None:
    """Save one evidence file of a task, as it was attached."""
    with engine.unit_of_work(write=False) as uow:
        found = evidence.open_evidence(uow, acting_as(uow, as_user), task_id, evidence_id)
    output.write(found.content)


@evidence_group.command("clean")
@as_option
@click.pass_obj
def evidence_clean(engine: Engine, as_user: str | None) -> None:
    """Remove kept files no evidence refers to (admins): left by a crash before the
    attaching transaction committed."""
    with engine.unit_of_work() as uow:
        removed = evidence.clean_store(uow, acting_as(uow, as_user))
    click.echo(f"removed {removed} unreferenced files")
