"""``picycle user``: users, their roles, groups and API tokens."""

from __future__ import annotations

import click
from picycle.engine import Engine
from picycle.engine.actors import SYSTEM
from picycle.engine.services import users
from picycle.engine.vocabulary import Role

from .units import unit_id


@click.group()
def user() -> None:
    """Manage users."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([role.value for role in Role]), default=Role.MEMBER.value)
@click.option("--group", "groups", multiple=True, help="A group (lane) the user works in.")
@click.option(
    "--unit",
    "in_units",
    multiple=True,
    metavar="UNIT",
    help="Where the --group of the same place holds (a unit's name or id, and the units "
    "below it); without --unit, groups hold in the whole organisation.",
)
@click.pass_obj
def user_add(
    engine: Engine, name: str, role: str, groups: tuple[str, ...], in_units: tuple[str, ...]
) -> None:
    """Add a user; prints their new API token (shown only once).

    NAME: 1-64 of a-z, 0-9, '.', '-', '_', starting with a letter or digit; kept lower
    case. Reserved names (system, admin, ...) are refused. Memberships in units are
    pairs: --group "Department Team" --unit "Directorate of Planning" --group ..."""
    if in_units and len(in_units) != len(groups):
        raise click.UsageError("give one --unit for each --group, or none at all")
    with engine.unit_of_work() as uow:
        if in_units:
            held = [(g, unit_id(uow, u)) for g, u in zip(groups, in_units, strict=True)]
            added = users.add_user(uow, SYSTEM, name, role, [], held)
        else:
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
