"""The user's own page: where their e-mail goes, which notifications they get, and their
API tokens for scripts (issued, listed and revoked by themselves)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from picycle.api.context import request_uow
from picycle.engine.errors import Conflict, ValidationFailed
from picycle.engine.services import notification_settings as settings
from picycle.engine.services import users

from ..blueprint import blueprint
from ..context import signed_in
from ..engine_messages import Refusal, refusal
from ..i18n import gettext as _
from ..rendering import render
from .admin_forms import NO_STORE


def _choices() -> list[tuple[str, str]]:
    return [
        ("assigned", _("when a task is assigned to me")),
        ("group_open", _("when a task becomes open to one of my groups")),
        ("overdue", _("when a task of mine falls overdue")),
        ("digest", _("once a day, a list of my open and overdue tasks")),
    ]


def _account_page(
    status: int = 200, token: str | None = None, notice: Refusal | None = None, **form
):
    """The page; ``form``: the notification settings as posted, when they were refused."""
    actor, uow = signed_in(), request_uow()
    if not form:
        found = settings.read_settings(uow, actor, actor.name)
        form = {
            "email": found.email or "",
            "chosen": {choice: getattr(found, choice) for choice in settings.CHOICES},
        }
    body = render(
        "account.html",
        status,
        choices=_choices(),
        tokens=users.list_tokens(uow, actor, actor.name),
        token=token,
        notice=notice,
        **form,
    )
    return (*body, NO_STORE) if token else body


@blueprint.get("/account")
def account():
    return _account_page()


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
        return _account_page(422, email=email, chosen=chosen, email_problem=problem)
    flash(_("Your notification settings are saved."))
    return redirect(url_for("picycle_pages.account"))


@blueprint.post("/account/tokens")
def own_token_issue():
    """The token is shown once, on the answer to this post: it is kept only hashed."""
    actor = signed_in()
    issued = users.issue_token(request_uow(), actor, actor.name)
    return _account_page(token=issued.token)


@blueprint.post("/account/tokens/revoke")
def own_tokens_revoke():
    actor = signed_in()
    revoked = users.revoke_tokens(request_uow(), actor, actor.name)
    flash(_("Tokens revoked: %(count)s.", count=revoked.revoked))
    return redirect(url_for("picycle_pages.account"))


@blueprint.post("/account/tokens/<int(min=1, max=2147483647):token_id>/revoke")
def own_token_revoke(token_id: int):
    """One of one's tokens (a leaked one); the others keep working."""
    actor, uow = signed_in(), request_uow()
    try:
        users.revoke_token(uow, actor, actor.name, token_id)
    except Conflict as refused:
        uow.rollback()
        return _account_page(409, notice=refusal(refused))
    flash(_("Token #%(id)s is revoked; the other tokens keep working.", id=token_id))
    return redirect(url_for("picycle_pages.account"))
