"""Error pages in the user's language, each saying what to do next. Registered on the
pages' blueprint per status code, so they win over a host's (or the API's) app-wide ones
for the pages' own requests; URLs no page matches get them from the gate (``mount.py``)."""

from __future__ import annotations

from flask import current_app
from flask_wtf.csrf import CSRFError
from picycle.api.context import record_refused_write
from picycle.engine.errors import (
    Conflict,
    ModelError,
    NotFound,
    PermissionDenied,
    PicycleError,
    ValidationFailed,
)
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, default_exceptions

from .engine_messages import say
from .i18n import gettext as _
from .rendering import render

ENGINE_STATUS: list[tuple[type[PicycleError], int]] = [
    (ValidationFailed, 422),
    (ModelError, 422),
    (NotFound, 404),
    (Conflict, 409),
    (PermissionDenied, 403),
    (PicycleError, 400),
]


def _advice(status: int) -> tuple[str, str]:
    """(title, what to do next) for a status."""
    if status == 403:
        return _("You may not do this"), _(
            "If you need to, ask an administrator to add you to the right group."
        )
    if status == 404:
        return _("There is nothing here"), _("Check the address, or start again from your inbox.")
    if status == 409:
        return _("Someone else got there first"), _(
            "Reload the page to see what has changed, then try again."
        )
    if status == 413:
        return _("What you sent is too large"), _("Send less at once and try again.")
    if status == 422:
        return _("This could not be saved"), _("Go back, correct what is named and try again.")
    if status >= 500:
        return _("Something went wrong on our side"), _(
            "It has been logged. Try again in a moment; if it keeps happening, tell your "
            "administrator."
        )
    return _("This request could not be handled"), _("Go back, reload the page and try again.")


def error_page(status: int, detail: str | None = None, incident: int | None = None):
    title, advice = _advice(status)
    return render(
        "error.html", status, title=title, advice=advice, detail=detail, incident=incident
    )


def from_http_exception(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    if isinstance(error, CSRFError):
        return render(
            "error.html",
            400,
            title=_("This form has expired"),
            advice=_("Go back, reload the page and send the form again."),
            detail=None,
            incident=None,
        )
    return error_page(error.code)


def _for_a_role(code: str | None) -> str | None:
    """For a refusal by role, which no group membership lifts: whom the page is for, or
    what the role may not do."""
    if code == "admin_only":
        return _("This page is for administrators.")
    if code == "auditors_only":
        return _("This page is for auditors and administrators.")
    if code == "read_only":
        return _("Auditors read everything but change nothing.")
    return None


def from_engine_error(error: PicycleError):
    if isinstance(error, PermissionDenied):
        record_refused_write(str(error))
        for_whom = _for_a_role(error.code)
        if for_whom is not None:
            title = _("You may not do this")
            return render(
                "error.html", 403, title=title, advice=for_whom, detail=None, incident=None
            )
    status = next(code for kind, code in ENGINE_STATUS if isinstance(error, kind))
    incident = error.incident_id if isinstance(error, ModelError) else None
    return error_page(status, say(error), incident)


def from_integrity_error(error: IntegrityError):
    """Two requests raced for the same unique thing."""
    return error_page(409)


def from_unexpected_error(error: Exception):
    current_app.logger.exception("unexpected error on a page")
    return error_page(500)


def register_handlers(target) -> None:
    for code in default_exceptions:
        if code >= 400:
            target.register_error_handler(code, from_http_exception)
    target.register_error_handler(HTTPException, from_http_exception)
    target.register_error_handler(PicycleError, from_engine_error)
    target.register_error_handler(IntegrityError, from_integrity_error)
    target.register_error_handler(Exception, from_unexpected_error)
