"""What every command shares: who acts (``--as``)."""

from __future__ import annotations

import click
from picycle.engine.actors import SYSTEM, Actor
from picycle.engine.services import users


def acting_as(uow, name: str | None) -> Actor:
    """``--as NAME`` acts as that user (refused when deactivated or unknown), looked up in
    the unit of work the command's service then runs in; without it, the operator acts as
    ``system``."""
    return SYSTEM if name is None else users.actor_named(uow, name)


as_option = click.option("--as", "as_user", metavar="NAME", help="Act as this user.")
