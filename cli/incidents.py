"""``picycle incident``: model steps that failed."""

from __future__ import annotations

import click
from picycle.engine import Engine
from picycle.engine.services import incidents

from .common import ID, acting_as, as_option
from .render import print_incident, print_incidents


@click.group()
def incident() -> None:
    """Model steps that failed: see them, retry once the model is fixed, or dismiss."""


@incident.command("list")
@click.option("--all", "everything", is_flag=True, help="Resolved incidents too.")
@click.option("--cycle", "cycle_id", type=ID, help="Only this cycle's incidents (its id).")
@as_option
@click.pass_obj
def incident_list(engine: Engine, everything: bool, cycle_id: int | None, as_user: str | None):
    """Open incidents (admins); --all shows resolved ones too."""
    with engine.unit_of_work(write=False) as uow:
        page = incidents.list_incidents(
            uow, acting_as(uow, as_user), open_only=not everything, cycle_id=cycle_id, limit=200
        )
    print_incidents(page)


@incident.command("show")
@click.argument("incident_id", type=ID)
@as_option
@click.pass_obj
def incident_show(engine: Engine, incident_id: int, as_user: str | None) -> None:
    """An incident: the step, who attempted it, why it failed, how it ended (admins)."""
    with engine.unit_of_work(write=False) as uow:
        print_incident(incidents.get_incident(uow, acting_as(uow, as_user), incident_id))


@incident.command("retry")
@click.argument("incident_id", type=ID)
@as_option
@click.pass_obj
def incident_retry(engine: Engine, incident_id: int, as_user: str | None) -> None:
    """Make the failed attempt again: the member's completion, or the cycle's timers (admins)."""
    with engine.unit_of_work() as uow:
        retried = incidents.retry_incident(uow, acting_as(uow, as_user), incident_id)
    click.echo(f"incident #{retried.id} retried: the step went through")


@incident.command("dismiss")
@click.argument("incident_id", type=ID)
@click.option("--reason", required=True, help="Why, for the cycle's history.")
@as_option
@click.pass_obj
def incident_dismiss(engine: Engine, incident_id: int, reason: str, as_user: str | None):
    """Close an incident without trying again (admins)."""
    with engine.unit_of_work() as uow:
        dismissed = incidents.dismiss_incident(uow, acting_as(uow, as_user), incident_id, reason)
    click.echo(f"incident #{dismissed.id} dismissed")
