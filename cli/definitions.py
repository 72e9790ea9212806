"""``picycle definition``: deployed process definitions and their versions."""

from __future__ import annotations

import json

import click
from picycle.engine import Engine
from picycle.engine.services import definitions


@click.group()
def definition() -> None:
    """Deployed process definitions and their versions."""


@definition.command("list")
@click.argument("process_id", required=False)
@click.pass_obj
def definition_list(engine: Engine, process_id: str | None) -> None:
    """The latest version of each process, or every version of PROCESS_ID."""
    with engine.unit_of_work(write=False) as uow:
        if process_id:
            rows = definitions.versions_of(uow, process_id)
        else:
            rows = definitions.latest_definitions(uow)
        for row in rows:
            click.echo(
                f"{row.process_id} v{row.version}  {row.name}  "
                f"(deployed {row.deployed_at:%Y-%m-%d %H:%M})"
            )


@definition.command("diff")
@click.argument("process_id")
@click.option("--from", "old", type=int, required=True)
@click.option("--to", "new", type=int, required=True)
@click.pass_obj
def definition_diff(engine: Engine, process_id: str, old: int, new: int) -> None:
    """What changed between two versions: elements, decision rules, form fields."""
    with engine.unit_of_work(write=False) as uow:
        click.echo(json.dumps(definitions.diff_versions(uow, process_id, old, new), indent=2))
