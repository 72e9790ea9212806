"""``picycle user``: users, their roles, groups, API tokens and passwords."""

from __future__ import annotations

import sys

import click
from picycle.engine import Engine
from picycle.engine.actors import SYSTEM
from picycle.engine.services import users
from picycle.engine.vocabulary import Role

from .common import acting_as, as_option


@click.group()
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


@user.command("password")
@click.argument("name")
@as_option
@click.pass_obj
def user_password(engine: Engine, name: str, as_user: str | None) -> None:
    """Set NAME's password for signing in to the web pages, read from standard input: its
    first line, or typed twice without echo at a terminal. At least 12 characters. NAME's
    sign-ins end; their API tokens keep working."""
    password = _read_password()
    with engine.unit_of_work() as uow:
        changed = users.set_password(uow, acting_as(uow, as_user), name, password)
    click.echo(f"{changed.name} has a new password")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    return line.removesuffix("\n").removesuffix("\r")
