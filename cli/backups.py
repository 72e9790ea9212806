"""``picycle backup`` and ``picycle restore``: the whole database to a file and back, each
followed by a verification of the audit trail."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from picycle.engine import Engine
from picycle.engine.services import backup as backups
from picycle.engine.services.health import readiness

FILE = click.Path(dir_okay=False, path_type=Path)


@click.command()
@click.argument("file", type=FILE)
@click.pass_obj
def backup(engine: Engine, file: Path) -> None:
    """Back the database up to FILE while it is in use (SQLite's backup API, or pg_dump),
    then verify the audit trail it holds."""
    verified = backups.backup(engine, file)
    click.echo(f"backed up to {file}")
    _say_verified(verified)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that is not empty.")
@click.pass_obj
def restore(engine: Engine, file: Path, force: bool) -> None:
    """Replace the database with the backup in FILE (SQLite's backup API, or pg_restore),
    then verify the audit trail. A database that is not empty is replaced only with
    --force."""
    verified = backups.restore(engine, file, force)
    click.echo(f"restored from {file}")
    found = readiness(engine)
    if not found.schema_current:
        click.echo(f"the schema is at {found.schema}, not {found.head}: run `picycle init`")
    _say_verified(verified)


def _say_verified(verified) -> None:
    click.echo(
        f"audit trail: checked {verified.events_checked} events in {verified.chains_checked} chains"
    )
    if not verified.intact:
        first = verified.first_break
        reason = first.reason if first else f"unsealed heads: {verified.unsealed_heads[0]}"
        click.echo(f"audit trail NOT intact: {reason} (see `picycle audit verify`)")
        sys.exit(1)
    click.echo("audit trail intact")
