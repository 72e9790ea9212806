"""``picycle deploy``: validate and publish a bundle of BPMN/DMN/form files."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click
from picycle.engine import Engine
from picycle.engine.bundles import read_bundle
from picycle.engine.errors import InvalidModel
from picycle.engine.services import definitions

from .common import acting_as, as_option


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate only; deploy nothing.")
@as_option
@click.pass_obj
def deploy(engine: Engine, path: Path, dry_run: bool, as_user: str | None) -> None:
    """Validate and deploy the BPMN/DMN/form files in PATH (a folder)."""
    deploy_bundle(engine, as_user, path, dry_run)


def deploy_bundle(engine: Engine, as_user: str | None, path: Path, dry_run: bool = False) -> None:
    bundle = read_bundle(path)
    with engine.unit_of_work() as uow:
        actor = acting_as(uow, as_user)
        try:
            deployed = definitions.deploy(uow, actor, bundle, dry_run)
        except InvalidModel as invalid:
            for problem in invalid.problems:
                click.echo(_problem_line(problem), err=True)
            raise
    for warning in deployed.warnings:
        click.echo(_problem_line(asdict(warning)))
    for definition in deployed.definitions:
        click.echo(f"deployed {definition.process_id} version {definition.version}")
    if deployed.dry_run:
        click.echo("valid: nothing deployed (dry run)")
    elif deployed.unchanged:
        click.echo("unchanged: these files are already deployed")


def _problem_line(problem: dict) -> str:
    where = problem["file"] + (f":{problem['line']}" if problem["line"] else "")
    element = f" [{problem['element_id']}]" if problem["element_id"] else ""
    return f"{problem['severity']}: {where}{element}: {problem['message']}"
