"""For admins: the units as a tree (adding, renaming, moving, deactivating them) and who is
a member in each, in which group. Every change goes through the units and users services,
which audit it as they do for the API and the command line."""

from __future__ import annotations

from functools import partial

from flask import request, url_for
from picycle.api.context import request_uow
from picycle.engine.actors import require_admin
from picycle.engine.errors import NotFound
from picycle.engine.services import units, users

from ..blueprint import blueprint
from ..context import signed_in
from ..i18n import gettext as _
from ..numbers import id_number
from ..rendering import isolated, render
from .admin_forms import apply, unit_choice, with_new_group

UNIT = "/admin/units/<int(min=1, max=2147483647):unit_id>"


def _admin() -> None:
    require_admin(signed_in(), "manage units")


def _parent() -> int | None | dict[str, list[str]]:
    """The parent posted (empty: the top of the tree), or the error at its field."""
    given = request.form.get("parent", "")
    if given and id_number(given) is None:
        return {"parent_id": [_("Choose a unit from the list.")]}
    return id_number(given)


@blueprint.get("/admin/units")
def unit_tree():
    _admin()
    return _tree_page()


def _tree_page(status: int = 200, errors=None, notice=None, values=None):
    tree = units.list_units(request_uow(), signed_in())
    return render(
        "admin_units.html",
        status,
        tree=tree,
        parents=unit_choice(tree, _("None: the top of the tree")),
        errors=errors or {},
        notice=notice,
        values=values or {},
    )


@blueprint.post("/admin/units")
def unit_add():
    _admin()
    values = {"name": request.form.get("name", ""), "parent": request.form.get("parent", "")}
    parent = _parent()
    if isinstance(parent, dict):
        return _tree_page(422, errors=parent, values=values)
    return apply(
        lambda uow, actor: units.add_unit(uow, actor, values["name"], parent),
        partial(_tree_page, values=values),
        _("The unit %(name)s is added.", name=isolated(values["name"].strip())),
        url_for("picycle_pages.unit_tree"),
    )


@blueprint.get(UNIT)
def unit_page(unit_id: int):
    _admin()
    return _unit_page(unit_id)


def _unit_page(unit_id: int, status: int = 200, errors=None, notice=None):
    uow, actor = request_uow(), signed_in()
    unit = units.get_unit(uow, actor, unit_id)
    # A unit cannot move under itself or a unit below it: those are no choice.
    tree = [u for u in units.list_units(uow, actor) if not _below(u.path, unit.path)]
    return render(
        "admin_unit.html",
        status,
        unit=unit,
        parents=unit_choice(tree, _("None: the top of the tree")),
        members=units.unit_members(uow, actor, unit_id),
        groups=users.group_names(uow, actor),
        errors=errors or {},
        notice=notice,
    )


def _below(path, top) -> bool:
    return list(path[: len(top)]) == list(top)


def _change(unit_id: int, change, done: str):
    again = partial(_unit_page, unit_id)
    return apply(change, again, done, url_for("picycle_pages.unit_page", unit_id=unit_id))


@blueprint.post(UNIT)
def unit_change(unit_id: int):
    """Rename the unit and move it (with every unit below it)."""
    _admin()
    parent = _parent()
    if isinstance(parent, dict):
        return _unit_page(unit_id, 422, errors=parent)
    name = request.form.get("name", "")
    return _change(
        unit_id,
        lambda uow, actor: units.update_unit(uow, actor, unit_id, name=name, parent_id=parent),
        _("The unit is saved."),
    )


@blueprint.post(f"{UNIT}/active")
def unit_active(unit_id: int):
    _admin()
    active = request.form.get("active") == "1"
    return _change(
        unit_id,
        lambda uow, actor: units.update_unit(uow, actor, unit_id, active=active),
        _("The unit is active again.") if active else _("The unit is deactivated."),
    )


@blueprint.post(f"{UNIT}/members")
def unit_member_add(unit_id: int):
    _admin()
    name, group = request.form.get("user", ""), request.form.get("group", "")
    done = with_new_group(group, _("The member is added."))
    return _member_change(unit_id, name, users.add_membership, group, done)


@blueprint.post(f"{UNIT}/members/remove")
def unit_member_remove(unit_id: int):
    _admin()
    name, group = request.form.get("user", ""), request.form.get("group", "")
    return _member_change(
        unit_id, name, users.remove_membership, group, _("The membership is ended.")
    )


def _member_change(unit_id: int, name: str, change, group: str, done: str):
    units.get_unit(request_uow(), signed_in(), unit_id)  # NotFound for a unit that is not
    if not name.strip():
        return _unit_page(unit_id, 422, errors={"user": [_("Name a user.")]})
    try:
        users.read_user(request_uow(), signed_in(), name)
    except NotFound as missing:
        return _unit_page(unit_id, 422, errors={"user": [str(missing)]})
    return _change(unit_id, lambda uow, actor: change(uow, actor, name, group, unit_id), done)
