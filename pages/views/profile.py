"""The user's own page: where their e-mail goes and which notifications they get."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from picycle.api.context import request_uow
from picycle.engine.errors import ValidationFailed
from picycle.engine.services import notification_settings as settings

from ..blueprint import blueprint
from ..context import signed_in
from ..i18n import gettext as _
from ..rendering import render


def _choices() -> list[tuple[str, str]]:
    return [
        ("assigned", _("when a task is assigned to me")),
        ("group_open", _("when a task becomes open to one of my groups")),
        ("overdue", _("when a task of mine falls overdue")),
        ("digest", _("once a day, a list of my open and overdue tasks")),
    ]


@blueprint.get("/account")
def account():
    actor = signed_in()
    found = settings.read_settings(request_uow(), actor, actor.name)
    chosen = {choice: getattr(found, choice) for choice in settings.CHOICES}
    return render("account.html", email=found.email or "", chosen=chosen, choices=_choices())


@blueprint.post("/account")
def account_post():
    """Unticked boxes are not posted: every choice not ticked is off."""
    actor, uow = signed_in(), request_uow()
    email = request.form.get("email", "")
    chosen = {choice: request.form.get(choice) == "on" for choice in settings.CHOICES}
    try:
        settings.change_settings(uow, actor, actor.name, email=email, **chosen)
    except ValidationFailed:
        uow.rollback()
        problem = _("Enter one e-mail address, such as dana@example.org, or leave it empty.")
        return render(
            "account.html",
            422,
            email=email,
            chosen=chosen,
            choices=_choices(),
            email_problem=problem,
        )
    flash(_("Your notification settings are saved."))
    return redirect(url_for("picycle_pages.account"))
