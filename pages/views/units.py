"""Units: the organisation's tree, and a unit's page with its cycles, the units below it
and, for those allowed, the form that starts its next cycle showing what it is seeded with.

The start form carries the cycle number its preview was for: the engine starts exactly
that cycle, so a form sent twice starts one cycle (the second send finds it and goes
there), and a form whose unit has moved on since starts nothing and shows the new preview.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from picycle.api.context import request_uow
from picycle.engine.errors import Conflict, PermissionDenied, ValidationFailed
from picycle.engine.services import cycles, units

from ..blueprint import blueprint
from ..context import signed_in
from ..engine_messages import say, say_all
from ..i18n import gettext as _
from ..numbers import id_number, page_number
from ..rendering import render

UNIT = "/units/<int(min=1, max=2147483647):unit_id>"
PAGE_SIZE = 25


@blueprint.get("/units")
def unit_list():
    found = units.list_units(request_uow(), signed_in())
    below: dict[int | None, list] = {}
    for unit in found:
        below.setdefault(unit.parent_id, []).append(unit)
    return render("units.html", below=below)


@blueprint.get(UNIT)
def unit(unit_id: int):
    return unit_page(unit_id)


def unit_page(unit_id: int, *, title="", errors=None, notice=None, status=200):
    """The unit's page as it now is; ``title`` and ``errors`` when a start form posted is
    shown again, ``notice`` to say why."""
    uow, actor = request_uow(), signed_in()
    shown = units.get_unit(uow, actor, unit_id)
    page = page_number(request.args.get("page"))
    found = cycles.list_cycles(
        uow,
        actor,
        cycles.CycleFilter(unit_id=unit_id),
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    try:
        upcoming = cycles.next_cycle(uow, actor, unit_id)
    except PermissionDenied:
        upcoming = None  # not theirs to start: the page shows no form
    return render(
        "unit.html",
        status,
        unit=shown,
        parent=units.get_unit(uow, actor, shown.parent_id) if shown.parent_id else None,
        below=[u for u in units.list_units(uow, actor) if u.parent_id == unit_id],
        cycles=found.items,
        page=page,
        pages=max(1, -(-found.total // PAGE_SIZE)),
        upcoming=upcoming,
        title=title,
        errors=errors or {},
        notice=notice,
    )


@blueprint.post(f"{UNIT}/cycles")
def start_cycle(unit_id: int):
    uow, actor = request_uow(), signed_in()
    title = request.form.get("title", "").replace("\x00", "")  # no database stores it
    number = request.form.get("number", "")
    if id_number(number) is None:
        notice = _("This form is out of date. Check what the cycle starts with, then try again.")
        return unit_page(unit_id, title=title, notice=notice, status=400)
    try:
        started = cycles.start_cycle(uow, actor, unit_id, title, number=int(number))
    except ValidationFailed as refused:
        uow.rollback()
        notice = _("Nothing was started. Correct the fields marked below.")
        errors = say_all(refused.errors)
        return unit_page(unit_id, title=title, errors=errors, notice=notice, status=422)
    except Conflict as conflict:
        uow.rollback()
        notice = _("Nothing was started: the unit has changed since the page was shown.")
        return unit_page(
            unit_id, title=title, errors={"": [say(conflict)]}, notice=notice, status=409
        )
    flash(_("Cycle %(number)s of the unit has started.", number=started.cycle_number))
    return redirect(url_for("picycle_pages.cycle", cycle_id=started.id))
