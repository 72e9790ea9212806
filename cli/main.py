"""``picycle``: set up, deploy, work cycles and tasks, report, run the timer worker and the
demo.

Errors are one line on stderr and a non-zero exit; data goes to stdout. Each command group
lives in a module of its own; this one gathers them.
"""

from __future__ import annotations

import sys

import click
from picycle.engine import Engine
from picycle.engine.bundles import shipped_processes
from picycle.engine.errors import PicycleError, ValidationFailed
from picycle.engine.services.health import readiness
from sqlalchemy.exc import SQLAlchemyError

from .audit import audit_group
from .backups import backup, restore
from .cycles import cycle
from .definitions import definition
from .demo import fresh_demo_database, run_demo
from .demo_serve import serve_demo
from .deploying import deploy, deploy_bundle
from .evidence import evidence_group
from .incidents import incident
from .render import echo, shown
from .report import report
from .serving import serve
from .tasks import task
from .units import unit
from .users import user
from .worker import worker

# Commands that make or replace the schema themselves.
SETS_UP_THE_SCHEMA = ("init", "restore", "demo")


class PicycleGroup(click.Group):
    """Turns the engine's errors into one clear line on stderr."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ValidationFailed as error:
            # Fields whose messages the error already says are not said again.
            fields = "; ".join(
                f"{k}: {', '.join(v)}"
                for k, v in error.errors.items()
                if not all(m in str(error) for m in v)
            )
            echo(f"error: {shown(error)}" + (f" ({shown(fields)})" if fields else ""), err=True)
            sys.exit(1)
        except PicycleError as error:
            incident = getattr(error, "incident_id", None)
            raised = f" (incident #{incident} raised for an admin)" if incident else ""
            echo(f"error: {shown(error)}{raised}", err=True)
            sys.exit(1)
        except SQLAlchemyError:
            _unless_schema_missing(ctx)
            raise


def _unless_schema_missing(ctx: click.Context) -> None:
    """A database failure on a database ``picycle init`` has not made (or brought up to
    this version) is said as such, in one line, instead of a traceback."""
    if ctx.invoked_subcommand in SETS_UP_THE_SCHEMA or not isinstance(ctx.obj, Engine):
        return
    found = readiness(ctx.obj)
    if found.database and not found.schema_current:
        state = (
            f"schema is at {found.schema}, and this picycle needs {found.head}"
            if found.schema
            else "has no picycle tables yet"
        )
        click.echo(f"error: the database {state}: run `picycle init`", err=True)
        sys.exit(1)


@click.group(cls=PicycleGroup)
@click.version_option(package_name="picycle", message="picycle %(version)s")
@click.pass_context
def main(ctx: click.Context) -> None:
    """picycle: performance-improvement cycles on BPMN. The database is PICYCLE_DATABASE_URL,
    or SQLite under PICYCLE_DATA_DIR."""
    ctx.obj = ctx.with_resource(_engine_resource())


class _engine_resource:
    def __enter__(self) -> Engine:
        self.engine = Engine()
        return self.engine

    def __exit__(self, *exc) -> None:
        self.engine.dispose()


@main.command()
@click.pass_obj
def init(engine: Engine) -> None:
    """Create or upgrade the schema and deploy the shipped processes."""
    engine.upgrade_schema()
    deploy_bundle(engine, None, shipped_processes(), first_install=True)


@main.command()
@click.option(
    "--database-url",
    metavar="URL",
    help="Run on this database (it must hold no cycles) instead of a fresh demo.db.",
)
@click.option(
    "--serve", "serving", is_flag=True, help="Then serve the pages, with a password for each user."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to serve on.")
def demo(database_url: str | None, serving: bool, host: str, port: int) -> None:
    """Seed users and drive three cycles of one unit (a rejection, failed evaluations, one
    cycle ending with its targets met, one without, one left running), on a database of
    its own: demo.db in PICYCLE_DATA_DIR, made afresh each run. With --serve, serve its
    pages and API until Ctrl-C, printing each user's sign-in."""
    url = database_url or fresh_demo_database()
    click.echo(f"demo database: {url}" + ("" if database_url else " (made afresh each run)"))
    engine = Engine(url)
    try:
        run_demo(engine, click.echo)
        if serving:
            serve_demo(engine, host, port, click.echo)
            return
    finally:
        engine.dispose()
    click.echo(
        f"look around in it: PICYCLE_DATABASE_URL={url} picycle cycle show 1"
        " (or picycle task list --as pia, picycle report 2 -o report.pdf)"
    )


for command in (
    serve,
    backup,
    restore,
    deploy,
    unit,
    user,
    cycle,
    definition,
    task,
    evidence_group,
    worker,
    audit_group,
    incident,
    report,
):
    main.add_command(command)
