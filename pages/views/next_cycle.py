"""A completed cycle's planned next cycle, changed from the cycle's page before it starts:
moved or retitled, or called off with a reason. A refused change shows the page again
with each message beside its field."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, request, url_for
from picycle.api.context import request_uow
from picycle.engine.errors import Conflict, ValidationFailed
from picycle.engine.services import planned_cycles

from ..blueprint import blueprint
from ..context import signed_in
from ..engine_messages import say, say_all
from ..i18n import gettext as _
from .cycles import CYCLE, cycle_page


@blueprint.post(f"{CYCLE}/next-cycle")
def change_planned_cycle(cycle_id: int):
    uow, actor = request_uow(), signed_in()
    posted = {
        "start_on": request.form.get("start_on", "").strip(),
        "title": request.form.get("title", "").replace("\x00", ""),  # no database stores it
    }
    try:
        start_on = date.fromisoformat(posted["start_on"])
    except ValueError:
        wrong = _("Fill this in.") if not posted["start_on"] else _("Enter a date.")
        return _refused(cycle_id, posted, {"start_on": [wrong]})
    try:
        planned_cycles.change_planned_cycle(
            uow, actor, cycle_id, start_on=start_on, title=posted["title"]
        )
    except ValidationFailed as refused:
        uow.rollback()
        return _refused(cycle_id, posted, say_all(refused.errors))
    except Conflict as conflict:
        uow.rollback()
        return _out_of_date(cycle_id, conflict)
    flash(_("The next cycle's plan is changed."))
    return redirect(url_for("picycle_pages.cycle", cycle_id=cycle_id))


@blueprint.post(f"{CYCLE}/next-cycle/cancel")
def call_off_planned_cycle(cycle_id: int):
    uow, actor = request_uow(), signed_in()
    reason = request.form.get("reason", "").replace("\x00", "")
    try:
        planned_cycles.call_off_planned_cycle(uow, actor, cycle_id, reason)
    except ValidationFailed as refused:
        uow.rollback()
        return _refused(cycle_id, {"reason": reason}, say_all(refused.errors))
    except Conflict as conflict:
        uow.rollback()
        return _out_of_date(cycle_id, conflict)
    flash(_("The next cycle is called off: it will not start by itself."))
    return redirect(url_for("picycle_pages.cycle", cycle_id=cycle_id))


def _refused(cycle_id: int, posted: dict[str, str], errors: dict[str, list[str]]):
    notice = _("Nothing was changed. Correct the fields marked below.")
    return cycle_page(cycle_id, plan_form=posted, errors=errors, notice=notice, status=422)


def _out_of_date(cycle_id: int, conflict: Conflict):
    notice = _("Nothing was changed: the cycle has changed since the page was shown.")
    return cycle_page(cycle_id, errors={"": [say(conflict)]}, notice=notice, status=409)
