"""``picycle cycle``: start, list, show, cancel and migrate cycles."""

from __future__ import annotations

import click
from picycle.engine import Engine
from picycle.engine.actors import SYSTEM
from picycle.engine.errors import ValidationFailed
from picycle.engine.services import cycles, migration
from picycle.engine.vocabulary import CycleStatus

from .common import acting_as, as_option
from .render import print_cycle, print_cycles


@click.group()
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
        page = cycles.list_cycles(uow, SYSTEM, filters)
    print_cycles(page)


@cycle.command("show")
@click.argument("cycle_id", type=int)
@click.pass_obj
def cycle_show(engine: Engine, cycle_id: int) -> None:
    with engine.unit_of_work(write=False) as uow:
        found = cycles.get_cycle(uow, SYSTEM, cycle_id)
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
