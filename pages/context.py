"""What a page request works with: the unit of work (the API's, opened the same way), the
signed-in user from the session cookie, and the CSRF check on every form posted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFError, validate_csrf
from picycle.api.context import READS, picycle
from picycle.engine.actors import Actor
from picycle.engine.services import users
from picycle.engine.services.sign_in import SignInLimits
from wtforms.validators import ValidationError

from .i18n import CHOICE
from .single_sign_on import SingleSignOn

EXTENSION = "picycle_pages"
SESSION_USER = "picycle_user"
SESSION_VERSION = "picycle_session"
# Set when the user signed in through the provider: the ID token it sent ("" when too long
# to keep), the hint for signing out there too.
SESSION_ID_TOKEN = "picycle_sso_id_token"
CSRF_FIELD = "csrf_token"
STATIC = "picycle_pages.static"
# A long form may take a while to fill in; the token is bound to the session anyway.
CSRF_TIME_LIMIT = int(timedelta(hours=12).total_seconds())


@dataclass(frozen=True)
class Pages:
    """Bound to a Flask app by ``init_pages``."""

    api_prefix: str
    sign_in_limits: SignInLimits
    single_sign_on: SingleSignOn | None = None
    passwords: bool = True  # users may sign in with a password


def pages() -> Pages:
    return current_app.extensions[EXTENSION]


def public(view):
    """Mark a page as open to visitors who have not signed in."""
    view.picycle_public = True
    return view


def signed_in() -> Actor | None:
    return g.get("picycle_actor")


def prepare_request():
    """Before every page: cap the body, check the form's CSRF token, open the request's
    unit of work and find the signed-in user in it; a visitor is sent to sign in."""
    if request.endpoint == STATIC:
        return None
    state = picycle()
    view = current_app.view_functions.get(request.endpoint or "")
    request.max_content_length = state.body_limit(view)
    if request.method not in READS:
        _check_csrf()
    uow = state.engine.unit_of_work(write=request.method not in READS)
    g.picycle_uow = uow.__enter__()
    _find_user(uow)
    if signed_in() is None and not getattr(view, "picycle_public", False):
        target = request.full_path.rstrip("?") if request.method in READS else None
        return redirect(url_for("picycle_pages.sign_in", next=target))
    return None


def _find_user(uow) -> None:
    """The user the session cookie names, as signed in, in the user's language."""
    name, version = session.get(SESSION_USER), session.get(SESSION_VERSION)
    if isinstance(name, str) and isinstance(version, int):
        found = users.in_session(uow, name, version)
        if found is None:
            end_session()  # password changed or user deactivated since
        else:
            g.picycle_actor, g.picycle_language = found.actor, found.language


def find_signed_in_user() -> None:
    """The signed-in user for a page no view of the pages serves (an address no page
    matches): looked up in a unit of work of its own, closed at once."""
    if SESSION_USER in session and signed_in() is None:
        with picycle().engine.unit_of_work(write=False) as uow:
            _find_user(uow)


def _check_csrf() -> None:
    try:
        validate_csrf(request.form.get(CSRF_FIELD), time_limit=CSRF_TIME_LIMIT)
    except ValidationError as error:
        raise CSRFError(str(error)) from error


def begin_session(name: str, version: int) -> None:
    """A new session for the user: whatever the old one held (its CSRF token too) goes,
    but the language chosen stays."""
    end_session()
    session[SESSION_USER] = name
    session[SESSION_VERSION] = version


def signed_in_through_provider() -> bool:
    return pages().single_sign_on is not None and SESSION_ID_TOKEN in session


def form_targets() -> list[str]:
    """Where a page's forms may be redirected besides the pages: the provider, for a user
    who signed in through it (signing out goes on to it). Static files have no forms, and
    their responses stay the same whoever asks (the session is not read)."""
    if request.endpoint == STATIC or not signed_in_through_provider():
        return []
    return pages().single_sign_on.origins()


def end_session() -> None:
    language = session.get(CHOICE)
    session.clear()
    if language:
        session[CHOICE] = language
