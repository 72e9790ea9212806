"""``picycle deploy``: validate and publish a bundle of BPMN/DMN/form files.

Problems and warnings go to stderr, each once; what was deployed goes to stdout."""

from __future__ import annotations

from pathlib import Path

import click
from picycle.engine import Engine
from picycle.engine.bundles import read_bundle
from picycle.engine.errors import InvalidModel, PicycleError
from picycle.engine.services import definitions

from .common import acting_as, as_option
from .render import echo, shown


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate only; deploy nothing.")
@as_option
@click.pass_obj
def deploy(engine: Engine, path: Path, dry_run: bool, as_user: str | None) -> None:
    """Validate and deploy the BPMN/DMN/form files in PATH (a folder)."""
    deploy_bundle(engine, as_user, path, dry_run)


def deploy_bundle(
    engine: Engine,
    as_user: str | None,
    path: Path,
    dry_run: bool = False,
    *,
    first_install: bool = False,
) -> None:
    """Deploy the bundle at ``path``. On a ``first_install`` nobody is in any group yet, as
    expected: the lanes' missing groups are one note rather than a warning each."""
    bundle = read_bundle(path)
    with engine.unit_of_work() as uow:
        actor = acting_as(uow, as_user)
        try:
            deployed = definitions.deploy(uow, actor, bundle, dry_run)
        except InvalidModel as invalid:
            raise _refusal(invalid) from invalid
    missing = [w.group for w in deployed.warnings if w.group] if first_install else []
    for warning in deployed.warnings:
        if warning.group not in missing:
            echo(_problem_line(warning.as_dict()), err=True)
    if missing:
        groups = ", ".join(shown(group) for group in dict.fromkeys(missing))
        echo(f"note: no user is in group(s) {groups} yet; add users with --group", err=True)
    for definition in deployed.definitions:
        echo(f"deployed {shown(definition.process_id)} version {definition.version}")
    if deployed.dry_run:
        click.echo("valid: nothing deployed (dry run)")
    elif deployed.unchanged:
        click.echo("unchanged: these files are already the latest versions")


def _refusal(invalid: InvalidModel) -> PicycleError:
    """Each problem on a line of its own, then the summary as the error."""
    for problem in invalid.problems:
        echo(_problem_line(problem), err=True)
    errors = [p for p in invalid.problems if p["severity"] == "error"]
    files = {p["file"] for p in errors}
    warnings = len(invalid.problems) - len(errors)
    also = f" (and {_count(warnings, 'warning')})" if warnings else ""
    return PicycleError(
        f"deploy refused: {_count(len(errors), 'problem')} in {_count(len(files), 'file')}{also}; "
        "nothing deployed"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _problem_line(problem: dict) -> str:
    """``error: pi_cycle.bpmn:75 [approved_flow]: message``."""
    where = shown(problem["file"]) + (f":{problem['line']}" if problem["line"] else "")
    element = f" [{shown(problem['element_id'])}]" if problem["element_id"] else ""
    return f"{problem['severity']}: {where}{element}: {shown(problem['message'])}"
