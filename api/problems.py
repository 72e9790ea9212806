"""Every error the API returns is an RFC 9457 problem document (``application/problem+json``).

Protocol errors (bad JSON, unknown URL, wrong method, ...) carry ``type: about:blank`` and
the HTTP status phrase as their title; the engine's errors carry a ``urn:picycle:problem:``
type that names the kind of problem. Validation failures, the schemas' and the engine's
alike, are ``validation-failed`` and add ``errors``: a map from a field path
(``indicators.0.target``) to its messages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Response, current_app, request
from picycle.engine.errors import (
    Conflict,
    InvalidModel,
    ModelError,
    NotFound,
    PermissionDenied,
    PicycleError,
    Unavailable,
    ValidationFailed,
)
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.exceptions import NotFound as NothingHere

from .context import record_refused_write

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:picycle:problem:"

VALIDATION_FAILED, VALIDATION_TITLE = "validation-failed", "The data is not valid"

# Engine error -> (status, type slug, title)
ENGINE_ERRORS: list[tuple[type[PicycleError], int, str, str]] = [
    (ValidationFailed, 422, VALIDATION_FAILED, VALIDATION_TITLE),
    (ModelError, 422, "model-error", "The process model failed"),
    (NotFound, 404, "not-found", "Not found"),
    (Conflict, 409, "conflict", "Conflict"),
    (PermissionDenied, 403, "permission-denied", "Permission denied"),
    (Unavailable, 503, "unavailable", "Service unavailable"),
    (PicycleError, 400, "bad-request", "Bad request"),
]


def problem(
    status: int,
    detail: str | None = None,
    *,
    type: str = "about:blank",
    title: str | None = None,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": type,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    if errors is not None:
        body["errors"] = {str(k): [str(m) for m in v] for k, v in errors.items()}
    body.update(extra or {})  # members of a kind of problem (InvalidModel: problems)
    response = current_app.response_class(
        json.dumps(body) + "\n", status=status, mimetype=PROBLEM_JSON
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_http_exception(error: HTTPException) -> Response:
    """Werkzeug's and webargs' HTTP errors as problems (webargs puts its messages in
    ``error.data``)."""
    if error.code is None or error.code < 400:
        return error  # redirects and the like pass through untouched
    if isinstance(error, MethodNotAllowed) and not _url_exists(error.valid_methods or ()):
        error = NothingHere()
    headers = {
        name: value
        for name, value in error.get_headers()
        if name.lower() not in ("content-type", "content-length")
    }
    headers.update(getattr(error, "picycle_headers", {}))
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if messages is not None:
        # The schemas' refusals are validation failures like the engine's: one type, one
        # title, whichever layer found the bad field.
        return problem(
            error.code,
            "the request is not valid; see the fields listed in errors",
            type=TYPE_PREFIX + VALIDATION_FAILED,
            title=VALIDATION_TITLE,
            errors=flatten_messages(messages),
            headers=headers,
        )
    return problem(error.code, _description(error), headers=headers)


def _url_exists(methods) -> bool:
    """Whether some method reaches this URL. Werkzeug answers 405 for an id its converter
    refuses (over the range a database column holds) when another method's rule shares
    the pattern, though nothing is there for any method: that is a 404."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in methods:
        try:
            adapter.match(method=method)
        except HTTPException:
            continue
        return True
    return False


def _description(error: HTTPException) -> str | None:
    description = error.description
    default = type(error).description
    if description and description != default:
        return description
    return {
        404: "there is nothing at this URL; see /api/v1/openapi.json for the API",
        405: f"{request.method} is not allowed here",
        413: "the request body is too large",
    }.get(error.code or 0, description)


def from_engine_error(error: PicycleError) -> Response:
    if isinstance(error, PermissionDenied):
        record_refused_write(str(error))
    for kind, status, slug, title in ENGINE_ERRORS:
        if isinstance(error, kind):
            errors = error.errors if isinstance(error, ValidationFailed) else None
            if isinstance(error, ValidationFailed) and not errors:
                errors = {}
            extra = _members_of(error)
            return problem(
                status, str(error), type=TYPE_PREFIX + slug, title=title, errors=errors, extra=extra
            )
    raise AssertionError("PicycleError is the last entry")  # pragma: no cover


def _members_of(error: PicycleError) -> dict[str, Any] | None:
    """The members a kind of problem adds: a model's problems, the incident raised."""
    if isinstance(error, InvalidModel):
        return {"problems": error.problems}
    if isinstance(error, ModelError) and error.incident_id is not None:
        return {"incident": error.incident_id}
    return None


def from_integrity_error(error: IntegrityError) -> Response:
    """Two requests raced for the same unique thing (a user name, a unit's next cycle)."""
    return problem(
        409,
        "the change collides with another one made at the same time; reload and retry",
        type=TYPE_PREFIX + "conflict",
        title="Conflict",
    )


def from_lost_database(error: OperationalError | InterfaceError) -> Response:
    """The database went away (a restart, a failover) or gave up on the transaction (a
    deadlock): the client may try again, and gets 409 if it had gone through after all."""
    current_app.logger.warning("database error in %s %s: %s", request.method, request.path, error)
    response = problem(
        503,
        "the database could not complete the request; try again in a few seconds",
        type=TYPE_PREFIX + "unavailable",
        title="Service unavailable",
    )
    response.headers["Retry-After"] = "5"
    return response


def from_unexpected_error(error: Exception) -> Response:
    current_app.logger.exception("unexpected error in %s %s", request.method, request.path)
    return problem(500, "an unexpected error happened; it has been logged")


def flatten_messages(messages: Any) -> dict[str, list[str]]:
    """marshmallow's nested error messages as ``field.path -> [messages]``.

    The outer key is webargs' location (``json``, ``query``); it is dropped, and errors
    about the body or query as a whole are listed under ``body`` or ``query``."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for location, inner in messages.items():
            whole = "body" if location == "json" else str(location)
            _flatten(inner, [], flat, whole)
    else:
        _flatten(messages, [], flat, "body")
    return flat


def _flatten(messages: Any, path: list[str], flat: dict[str, list[str]], whole: str) -> None:
    if isinstance(messages, Mapping):
        for key, inner in messages.items():
            segment = [] if key == "_schema" else [str(key)]
            _flatten(inner, path + segment, flat, whole)
    elif isinstance(messages, list | tuple):
        for item in messages:
            _flatten(item, path, flat, whole)
    else:
        flat.setdefault(".".join(path) or whole, []).append(str(messages))


def register_handlers(target) -> None:
    """Attach the problem renderers to an app or a blueprint.

    Handlers are registered per status code as well, so that on a host app they win over
    the host's own code-specific handlers for requests that reach picycle's blueprints."""
    from werkzeug.exceptions import default_exceptions

    for code in default_exceptions:
        if code >= 400:
            target.register_error_handler(code, from_http_exception)
    target.register_error_handler(HTTPException, from_http_exception)
    target.register_error_handler(PicycleError, from_engine_error)
    target.register_error_handler(IntegrityError, from_integrity_error)
    target.register_error_handler(OperationalError, from_lost_database)
    target.register_error_handler(InterfaceError, from_lost_database)
    target.register_error_handler(Exception, from_unexpected_error)
