"""``picycle``: set up, deploy, work cycles and tasks, run the timer worker and the demo.

Errors are one line on stderr and a non-zero exit; data goes to stdout.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from datetime import UTC
from pathlib import Path

import click
from picycle.engine import Engine
from picycle.engine.actors import SYSTEM, Actor
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.errors import InvalidModel, PicycleError, ValidationFailed
from picycle.engine.services import (
    audit,
    cycles,
    definitions,
    incidents,
    migration,
    tasks,
    timers,
    users,
)
from picycle.engine.services.inbox import SCOPES, InboxQuery, list_inbox
from picycle.engine.vocabulary import CycleStatus, InboxScope, Role

from .demo import fresh_demo_database, run_demo
from .render import (
    print_cycle,
    print_cycles,
    print_incident,
    print_incidents,
    print_task,
    print_tasks,
)


class PicycleGroup(click.Group):
    """Turns the engine's errors into one clear line on stderr."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ValidationFailed as error:
            fields = "; ".join(f"{k}: {', '.join(v)}" for k, v in error.errors.items())
            click.echo(f"error: {error}" + (f" ({fields})" if fields else ""), err=True)
            sys.exit(1)
        except PicycleError as error:
            incident = getattr(error, "incident_id", None)
            raised = f" (incident #{incident} raised for an admin)" if incident else ""
            click.echo(f"error: {error}{raised}", err=True)
            sys.exit(1)


@click.group(cls=PicycleGroup)
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


def acting_as(uow, name: str | None) -> Actor:
    """``--as NAME`` acts as that user (refused when deactivated or unknown), looked up in
    the unit of work the command's service then runs in; without it, the operator acts as
    ``system``."""
    return SYSTEM if name is None else users.actor_named(uow, name)


as_option = click.option("--as", "as_user", metavar="NAME", help="Act as this user.")


@main.command()
@click.pass_obj
def init(engine: Engine) -> None:
    """Create or upgrade the schema and deploy the shipped processes."""
    engine.upgrade_schema()
    _deploy(engine, None, shipped_processes())


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate only; deploy nothing.")
@as_option
@click.pass_obj
def deploy(engine: Engine, path: Path, dry_run: bool, as_user: str | None) -> None:
    """Validate and deploy the BPMN/DMN/form files in PATH (a folder)."""
    _deploy(engine, as_user, path, dry_run)


def _deploy(engine: Engine, as_user: str | None, path: Path, dry_run: bool = False) -> None:
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


@main.group()
def user() -> None:
    """Manage users."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([role.value for role in Role]), default=Role.MEMBER.value)
@click.option("--group", "groups", multiple=True, help="A group (lane) the user works in.")
@click.pass_obj
def user_add(engine: Engine, name: str, role: str, groups: tuple[str, ...]) -> None:
    """Add a user; prints their new API token (shown only once).

    NAME: 1-64 of a-z, 0-9, '.', '-', '_', starting with a letter or digit; kept lower
    case. Reserved names (system, admin, ...) are refused."""
    with engine.unit_of_work() as uow:
        added = users.add_user(uow, SYSTEM, name, role, list(groups))
    click.echo(added.token)


@user.command("token")
@click.argument("name")
@click.pass_obj
def user_token(engine: Engine, name: str) -> None:
    """Issue NAME a new API token and print it (shown only once); their others keep
    working. A reactivated user needs one: deactivation revoked their tokens."""
    with engine.unit_of_work() as uow:
        issued = users.issue_token(uow, SYSTEM, name)
    click.echo(issued.token)


@main.group()
def cycle() -> None:
    """Start, list, show and cancel cycles."""


@cycle.command("start")
@click.option("--unit", required=True, help="The organisational unit the cycle is for.")
@click.option("--title", required=True)
@click.option("--process", "process_id", default=cycles.DEFAULT_PROCESS, show_default=True)
@as_option
@click.pass_obj
def cycle_start(engine: Engine, unit: str, title: str, process_id: str, as_user: str | None):
    with engine.unit_of_work() as uow:
        started = cycles.start_cycle(uow, acting_as(uow, as_user), unit, title, process_id)
    click.echo(f"started cycle #{started.id}: {unit}, cycle {started.cycle_number}")


@cycle.command("list")
@click.option("--unit")
@click.option("--status", type=click.Choice([status.value for status in CycleStatus]))
@click.pass_obj
def cycle_list(engine: Engine, unit: str | None, status: str | None) -> None:
    filters = cycles.CycleFilter(unit=unit, status=CycleStatus(status) if status else None)
    with engine.unit_of_work(write=False) as uow:
        page = cycles.list_cycles(uow, filters)
    print_cycles(page)


@cycle.command("show")
@click.argument("cycle_id", type=int)
@click.pass_obj
def cycle_show(engine: Engine, cycle_id: int) -> None:
    with engine.unit_of_work(write=False) as uow:
        found = cycles.get_cycle(uow, cycle_id)
    print_cycle(found)


@cycle.command("cancel")
@click.argument("cycle_id", type=int)
@click.option("--reason", required=True)
@as_option
@click.pass_obj
def cycle_cancel(engine: Engine, cycle_id: int, reason: str, as_user: str | None) -> None:
    with engine.unit_of_work() as uow:
        cancelled = cycles.cancel_cycle(uow, acting_as(uow, as_user), cycle_id, reason)
    click.echo(f"cancelled cycle #{cancelled.id}")


@cycle.command("migrate")
@click.argument("cycle_id", type=int, required=False)
@click.option("--to", "to_version", type=int, help="Target version (default: the latest).")
@click.option("--all", "process_id", metavar="PROCESS", help="Every running cycle of PROCESS.")
@click.option("--dry-run", is_flag=True, help="Say what would happen; change nothing.")
@as_option
@click.pass_obj
def cycle_migrate(engine: Engine, cycle_id, to_version, process_id, dry_run, as_user) -> None:
    """Move a running cycle (or all of a process's) onto another definition version."""
    if (cycle_id is None) == (process_id is None):
        raise ValidationFailed("name a CYCLE_ID or --all PROCESS", {"cycle_id": ["one of them"]})
    if process_id:
        # Each cycle moves in a transaction of its own: the actor is looked up before them.
        with engine.unit_of_work(write=False) as uow:
            actor = acting_as(uow, as_user)
        plans = migration.migrate_all(engine, actor, process_id, to_version, dry_run)
    else:
        with engine.unit_of_work() as uow:
            actor = acting_as(uow, as_user)
            plans = [migration.migrate_cycle(uow, actor, cycle_id, to_version, dry_run)]
    for plan in plans:
        verdict = "moved" if plan.migrated else ("can move" if plan.possible else "stays")
        reasons = f": {'; '.join(plan.problems)}" if plan.problems else ""
        click.echo(
            f"cycle #{plan.cycle_id} v{plan.from_version} -> v{plan.to_version}: {verdict}{reasons}"
        )


@main.group()
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


@main.group()
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


@main.command()
@click.option("--interval", default=30.0, show_default=True, help="Seconds between passes.")
@click.option("--once", is_flag=True, help="Fire what is due now and stop.")
@click.pass_obj
def worker(engine: Engine, interval: float, once: bool) -> None:
    """Fire due timers (overdue escalations) in a loop."""
    while True:
        fired = timers.fire_due_timers(engine)
        if fired or once:
            click.echo(f"fired {fired} timer(s)")
        if once:
            return
        time.sleep(interval)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int, help="Worker threads.")
@click.pass_obj
def serve(engine: Engine, host: str, port: int, threads: int) -> None:
    """Serve the HTTP API with waitress (run `picycle init` first)."""
    from picycle.api.serve import serve as serve_api

    serve_api(host, port, threads, engine=engine)


@main.group("audit")
def audit_group() -> None:
    """Verify, seal and export the audit trail."""


@audit_group.command("verify")
@click.option(
    "--against",
    type=click.File("r"),
    help="A seal document (`audit seal`): also show what was deleted or rewritten since.",
)
@as_option
@click.pass_obj
def audit_verify(engine: Engine, against, as_user: str | None) -> None:
    """Recompute every hash chain and check the heads' seals; exit 1 and name the first
    broken event if any."""
    sealed = audit.read_seal_document(against.read()) if against else None
    with engine.unit_of_work(write=False) as uow:
        result = audit.verify_trail(uow, acting_as(uow, as_user), against=sealed)
    click.echo(f"checked {result.events_checked} events in {result.chains_checked} chains")
    if sealed is not None:
        click.echo(f"against the seal of {sealed.sealed_at.isoformat()}")
    if not result.heads_key_sealed:
        click.echo(
            f"warning: no audit key ({audit.KEY_SETTING}): the heads' seals were not checked, so a "
            "chain rewritten with every hash recomputed would pass; check against a seal "
            "document, and set the key in production"
        )
    if result.intact:
        click.echo("intact")
        return
    if result.breaks:
        click.echo(f"NOT intact: {result.first_break.reason}")
        for other in result.breaks:
            if other is not result.first_break:
                click.echo(f"  also: {other.reason}")
    if result.unsealed_heads:
        click.echo(
            f"NOT intact: {len(result.unsealed_heads)} chain heads carry no seal of the audit "
            f"key (the first: {result.unsealed_heads[0]}): written before the key was set, "
            "or their seal was removed; an admin seals heads written before the key with "
            "`picycle audit seal --adopt-unsealed`"
        )
    sys.exit(1)


@audit_group.command("seal")
@click.option("--output", "-o", type=click.File("w"), default="-")
@click.option(
    "--adopt-unsealed",
    is_flag=True,
    help="Admins: first seal, with the audit key, the heads written before it was set.",
)
@as_option
@click.pass_obj
def audit_seal(engine: Engine, output, adopt_unsealed: bool, as_user: str | None) -> None:
    """Verify the trail and write its chains' heads (length, last hash, seal with the audit
    key) as a JSON seal document for auditors to keep; `audit verify --against` it later."""
    with engine.unit_of_work(write=False) as uow:
        actor = acting_as(uow, as_user)
    sealed = audit.seal_trail(engine, actor, adopt_unsealed)
    output.write(audit.seal_document(sealed) + "\n")
    keyed = (
        "with the audit key" if sealed.key_sealed else f"WITHOUT an audit key ({audit.KEY_SETTING})"
    )
    click.echo(f"sealed {len(sealed.heads)} chains, {keyed}", err=True)


@audit_group.command("export")
@click.option("--format", "fmt", type=click.Choice(sorted(audit.EXPORT_FORMATS)), default="jsonl")
@click.option("--cycle", "cycle_id", type=int)
@click.option("--unit")
@click.option("--actor")
@click.option("--type", "event_type")
@click.option("--since", type=click.DateTime(), help="UTC, inclusive.")
@click.option("--until", type=click.DateTime(), help="UTC, exclusive.")
@click.option("--output", "-o", type=click.File("w"), default="-")
@as_option
@click.pass_obj
def audit_export(
    engine: Engine, fmt, cycle_id, unit, actor, event_type, since, until, output, as_user
):
    """Stream the selected events as CSV, JSON Lines or XES (one trace per cycle)."""
    filters = audit.EventFilter(
        cycle_id=cycle_id,
        unit=unit,
        actor=actor,
        type=event_type,
        since=since.replace(tzinfo=UTC) if since else None,
        until=until.replace(tzinfo=UTC) if until else None,
    )
    with engine.unit_of_work(write=False) as uow:
        exported = audit.export_events(uow, acting_as(uow, as_user), filters, fmt)
        for chunk in exported.chunks:
            output.write(chunk)


@main.group()
def incident() -> None:
    """Model steps that failed: see them, retry once the model is fixed, or dismiss."""


@incident.command("list")
@click.option("--all", "everything", is_flag=True, help="Resolved incidents too.")
@click.option("--cycle", "cycle_id", type=int)
@as_option
@click.pass_obj
def incident_list(engine: Engine, everything: bool, cycle_id: int | None, as_user: str | None):
    with engine.unit_of_work(write=False) as uow:
        page = incidents.list_incidents(
            uow, acting_as(uow, as_user), open_only=not everything, cycle_id=cycle_id, limit=200
        )
    print_incidents(page)


@incident.command("show")
@click.argument("incident_id", type=int)
@as_option
@click.pass_obj
def incident_show(engine: Engine, incident_id: int, as_user: str | None) -> None:
    with engine.unit_of_work(write=False) as uow:
        print_incident(incidents.get_incident(uow, acting_as(uow, as_user), incident_id))


@incident.command("retry")
@click.argument("incident_id", type=int)
@as_option
@click.pass_obj
def incident_retry(engine: Engine, incident_id: int, as_user: str | None) -> None:
    """Make the failed attempt again: the member's completion, or the cycle's timers."""
    with engine.unit_of_work() as uow:
        retried = incidents.retry_incident(uow, acting_as(uow, as_user), incident_id)
    click.echo(f"incident #{retried.id} retried: the step went through")


@incident.command("dismiss")
@click.argument("incident_id", type=int)
@click.option("--reason", required=True)
@as_option
@click.pass_obj
def incident_dismiss(engine: Engine, incident_id: int, reason: str, as_user: str | None):
    with engine.unit_of_work() as uow:
        dismissed = incidents.dismiss_incident(uow, acting_as(uow, as_user), incident_id, reason)
    click.echo(f"incident #{dismissed.id} dismissed")


@main.command()
@click.option(
    "--database-url",
    metavar="URL",
    help="Run on this database (it must hold no cycles) instead of a fresh demo.db.",
)
def demo(database_url: str | None) -> None:
    """Seed users and drive one whole cycle (with a rejection and a failed evaluation), on
    a database of its own: demo.db in PICYCLE_DATA_DIR, made afresh each run."""
    url = database_url or fresh_demo_database()
    click.echo(f"demo database: {url}" + ("" if database_url else " (made afresh each run)"))
    engine = Engine(url)
    try:
        run_demo(engine, click.echo)
    finally:
        engine.dispose()
    click.echo(
        f"look around in it: PICYCLE_DATABASE_URL={url} picycle cycle show 1"
        " (or picycle task list --as pia)"
    )
