"""``picycle cycle``: start, list, show, trace, cancel and migrate cycles, and change the
next cycle a completed one planned."""

from __future__ import annotations

import click
from picycle.engine import Engine
from picycle.engine.actors import SYSTEM
from picycle.engine.errors import ValidationFailed
from picycle.engine.services import audit, cycles, migration, planned_cycles
from picycle.engine.vocabulary import CycleStatus

from .common import ID, acting_as, as_option, echo_json, json_option
from .render import cycle_label, echo, print_cycle, print_cycles, print_history, shown
from .units import unit_ref

HISTORY_PAGE = 500  # events read at a time


@click.group()
def cycle() -> None:
    """Start, list, show, trace, cancel and migrate cycles (named by their id); move or
    call off the next cycle a completed one planned."""


@cycle.command("start")
@click.option(
    "--unit",
    required=True,
    metavar="UNIT",
    help="The organisational unit the cycle is for (its name or id).",
)
@click.option("--title", required=True, help="What this cycle is about, in a few words.")
@click.option(
    "--process",
    "process_id",
    default=cycles.DEFAULT_PROCESS,
    show_default=True,
    help="The deployed process to run.",
)
@as_option
@click.pass_obj
def cycle_start(engine: Engine, unit: str, title: str, process_id: str, as_user: str | None):
    """Start the unit's next cycle; it builds on the unit's previous one."""
    with engine.unit_of_work() as uow:
        started = cycles.start_cycle(
            uow, acting_as(uow, as_user), unit_ref(unit), title, process_id
        )
    echo(f"started {cycle_label(started)}: {shown(started.title)}")


@cycle.command("list")
@click.option("--unit", help="Only this unit's cycles.")
@click.option(
    "--status", type=click.Choice([status.value for status in CycleStatus]), help="Only these."
)
@json_option
@click.pass_obj
def cycle_list(engine: Engine, unit: str | None, status: str | None, as_json: bool) -> None:
    """Cycles, newest first."""
    filters = cycles.CycleFilter(unit=unit, status=CycleStatus(status) if status else None)
    with engine.unit_of_work(write=False) as uow:
        page = cycles.list_cycles(uow, SYSTEM, filters)
    echo_json(page) if as_json else print_cycles(page)


@cycle.command("show")
@click.argument("cycle_id", type=ID)
@json_option
@click.pass_obj
def cycle_show(engine: Engine, cycle_id: int, as_json: bool) -> None:
    """A cycle: its indicators, gaps, microprojects, evaluation and open tasks."""
    with engine.unit_of_work(write=False) as uow:
        found = cycles.get_cycle(uow, SYSTEM, cycle_id)
    echo_json(found) if as_json else print_cycle(found)


@cycle.command("history")
@click.argument("cycle_id", type=ID)
@as_option
@json_option
@click.pass_obj
def cycle_history(engine: Engine, cycle_id: int, as_user: str | None, as_json: bool) -> None:
    """Everything recorded about a cycle, in order: time, actor, event, task, data (auditors
    and admins; members for the cycles they take part in)."""
    events = []
    with engine.unit_of_work(write=False) as uow:
        actor = acting_as(uow, as_user)
        while True:
            page = audit.cycle_history(uow, actor, cycle_id, HISTORY_PAGE, len(events))
            events += page.items
            if not page.items or len(events) >= page.total:
                break
    echo_json(events) if as_json else print_history(cycle_id, events)


@cycle.command("cancel")
@click.argument("cycle_id", type=ID)
@click.option("--reason", required=True, help="Why, for the cycle's history.")
@as_option
@click.pass_obj
def cycle_cancel(engine: Engine, cycle_id: int, reason: str, as_user: str | None) -> None:
    """Cancel a running cycle (admins); its open tasks are withdrawn."""
    with engine.unit_of_work() as uow:
        cancelled = cycles.cancel_cycle(uow, acting_as(uow, as_user), cycle_id, reason)
    echo(f"cancelled {cycle_label(cancelled)}")


@cycle.command("plan")
@click.argument("cycle_id", type=ID)
@click.option(
    "--on", "start_on", type=click.DateTime(["%Y-%m-%d"]), help="The new start date, YYYY-MM-DD."
)
@click.option("--title", help="The next cycle's new title.")
@as_option
@click.pass_obj
def cycle_plan(engine: Engine, cycle_id: int, start_on, title, as_user: str | None) -> None:
    """Move the next cycle a completed cycle planned to another date, or retitle it, before
    it starts (who may start the unit's cycles)."""
    if start_on is None and title is None:
        raise click.UsageError("give --on DATE, --title TITLE or both")
    with engine.unit_of_work() as uow:
        plan = planned_cycles.change_planned_cycle(
            uow,
            acting_as(uow, as_user),
            cycle_id,
            start_on=start_on.date() if start_on else None,
            title=title,
        )
    echo(f"the next cycle of cycle {cycle_id} starts on {plan.start_on}: {shown(plan.title)}")


@cycle.command("unplan")
@click.argument("cycle_id", type=ID)
@click.option("--reason", required=True, help="Why, for the cycle's history.")
@as_option
@click.pass_obj
def cycle_unplan(engine: Engine, cycle_id: int, reason: str, as_user: str | None) -> None:
    """Call off the next cycle a completed cycle planned: it never starts by itself."""
    with engine.unit_of_work() as uow:
        plan = planned_cycles.call_off_planned_cycle(uow, acting_as(uow, as_user), cycle_id, reason)
    echo(f"called off the next cycle of cycle {cycle_id}: {shown(plan.title)}")


@cycle.command("migrate")
@click.argument("cycle_id", type=ID, required=False)
@click.option("--to", "to_version", type=ID, help="Target version (default: the latest).")
@click.option("--all", "process_id", metavar="PROCESS", help="Every running cycle of PROCESS.")
@click.option("--dry-run", is_flag=True, help="Say what would happen; change nothing.")
@as_option
@click.pass_obj
def cycle_migrate(engine: Engine, cycle_id, to_version, process_id, dry_run, as_user) -> None:
    """Move a running cycle (or all of a process's) onto another definition version."""
    if (cycle_id is None) == (process_id is None):
        raise ValidationFailed("name a CYCLE_ID or --all PROCESS, not both or neither")
    if process_id:
        # Each cycle moves in a transaction of its own: the actor is looked up before them.
        with engine.unit_of_work(write=False) as uow:
            actor = acting_as(uow, as_user)
        plans = migration.migrate_all(engine, actor, process_id, to_version, dry_run)
        if not plans:
            echo(f"no running cycles of {shown(process_id)} to migrate")
    else:
        with engine.unit_of_work() as uow:
            actor = acting_as(uow, as_user)
            plans = [migration.migrate_cycle(uow, actor, cycle_id, to_version, dry_run)]
    for plan in plans:
        verdict = "moved" if plan.migrated else ("can move" if plan.possible else "stays")
        reasons = f": {'; '.join(plan.problems)}" if plan.problems else ""
        click.echo(
            f"cycle {plan.cycle_id} v{plan.from_version} -> v{plan.to_version}: {verdict}{reasons}"
        )
