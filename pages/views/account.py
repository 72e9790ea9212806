"""Signing in and out, and choosing the language."""

from __future__ import annotations

from flask import abort, redirect, request, session, url_for
from picycle.api.context import end_request_uow, engine_for_own_transactions, request_uow
from picycle.engine.errors import SignInRefused
from picycle.engine.services import sign_in as signing
from picycle.engine.services import users

from ..blueprint import blueprint
from ..content_policy import content_security_policy
from ..context import (
    SESSION_ID_TOKEN,
    begin_session,
    end_session,
    pages,
    public,
    signed_in,
    signed_in_through_provider,
)
from ..i18n import CHOICE, LANGUAGES
from ..i18n import gettext as _
from ..redirects import local_target
from ..rendering import render


def next_target() -> str:
    return local_target(request.values.get("next"), url_for("picycle_pages.inbox"))


def sign_in_page(status: int = 200, problem: str | None = None, name: str = ""):
    """The sign-in form, the single sign-on button with it when configured."""
    settings = pages()
    provider = settings.single_sign_on
    body, status = render(
        "sign_in.html",
        status,
        next=next_target(),
        name=name,
        problem=problem,
        passwords=settings.passwords,
        provider=provider,
    )
    if provider is None:
        return body, status
    # The button's post is redirected to the provider: browsers hold that to form-action.
    return body, status, {"Content-Security-Policy": content_security_policy(provider.origins())}


@blueprint.get("/sign-in")
@public
def sign_in():
    if signed_in() is not None:
        return redirect(next_target())
    return sign_in_page()


@blueprint.post("/sign-in")
@public
def sign_in_post():
    if not pages().passwords:
        abort(404)
    name = request.form.get("name", "")
    password = request.form.get("password", "")
    address = request.remote_addr or "unknown"
    try:
        # The request's unit of work is closed: the password is checked outside any.
        engine = engine_for_own_transactions()
        done = signing.sign_in(engine, name, password, address, pages().sign_in_limits)
    except SignInRefused as refused:
        status, problem = 401, _("The user name or password is wrong.")
        if refused.too_many:
            status = 429
            problem = _("Too many failed sign-ins. Wait a few minutes, then try again.")
        return sign_in_page(status, problem, name)
    begin_session(done.name, done.session_version)
    return redirect(next_target())


@blueprint.post("/sign-out")
@public
def sign_out():
    """A user who signed in through the provider is signed out there too, when it offers
    that, and sent back to the sign-in page (never anywhere a request names)."""
    through_provider = signed_in_through_provider()
    id_token = session.get(SESSION_ID_TOKEN) or None
    end_session()
    back = url_for("picycle_pages.sign_in")
    if through_provider:
        end_request_uow()  # no transaction is held open while the provider answers
        provider = pages().single_sign_on
        back = provider.end_session_url(id_token, url_for(".sign_in", _external=True)) or back
    return redirect(back)


@blueprint.post("/language")
@public
def choose_language():
    """Kept with the user when signed in, so it follows them to other browsers; in the
    session too, so it outlives signing out."""
    language = request.form.get("language")
    if language in LANGUAGES:
        session[CHOICE] = language
        actor = signed_in()
        if actor is not None:
            users.set_language(request_uow(), actor, actor.name, language)
    return redirect(next_target())
