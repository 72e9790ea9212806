"""What the admin pages' forms share: reading an id posted or asked for, the units as the
choices of a select, and making a change or showing the form again with why not."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import flash, redirect
from picycle.api.context import request_uow
from picycle.engine import UnitOfWork
from picycle.engine.actors import Actor
from picycle.engine.errors import Conflict, ValidationFailed
from picycle.engine.read_models import UnitView
from picycle.engine.services import users

from ..context import signed_in
from ..engine_messages import refusal, say_all
from ..i18n import gettext as _
from ..rendering import isolated

# An answer holding a secret shown once (a new API token) is kept in no cache.
NO_STORE = {"Cache-Control": "no-store"}


def unit_choice(tree: Sequence[UnitView], top: str) -> list[tuple[str, str]]:
    """(value, shown) for a select of units, ``top`` first with the empty value; each unit
    shown with the units above it, as the tree reads."""
    return [("", top)] + [(str(unit.id), " › ".join(unit.path)) for unit in tree]


def apply(change: Callable[[UnitOfWork, Actor], object], again, done: str, target: str):
    """Make the change as the signed-in admin and go to ``target`` saying ``done``; on a
    refusal, nothing is kept and ``again(status, errors=..., notice=...)`` shows the page
    once more with why: at the fields concerned, or above them for a conflict."""
    uow = request_uow()
    try:
        change(uow, signed_in())
    except ValidationFailed as refused:
        uow.rollback()
        return again(422, errors=say_all(refused.errors))
    except Conflict as refused:
        uow.rollback()
        return again(409, notice=refusal(refused))
    flash(done)
    return redirect(target)


def with_new_group(group: str, done: str) -> str:
    """``done``, saying so when ``group`` is one no one was in yet: a misspelt group shows
    at once, not when its member never gets a task."""
    group = group.strip()
    if not group or group in users.group_names(request_uow(), signed_in()):
        return done
    return (
        f"{done} {_('The group %(group)s is new: no one was in it before.', group=isolated(group))}"
    )
