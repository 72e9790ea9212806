"""What a request works with: the engine bound to the app and the acting user."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, request
from picycle.engine.actors import Actor
from picycle.engine.services import denials, users
from picycle.engine.uow import Engine, UnitOfWork
from werkzeug.exceptions import Unauthorized

EXTENSION = "picycle"
READS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Picycle:
    """Bound to a Flask app by ``init_picycle``."""

    engine: Engine
    api_prefix: str
    max_content_length: int


def picycle() -> Picycle:
    return current_app.extensions[EXTENSION]


def unit_of_work(write: bool = True) -> UnitOfWork:
    return picycle().engine.unit_of_work(write)


def public(view):
    """Mark a view as open to requests without a token."""
    view.picycle_public = True
    return view


def current_actor() -> Actor:
    return g.picycle_actor


class MissingToken(Unauthorized):
    def __init__(self, description: str, invalid: bool):
        super().__init__(description)
        challenge = 'Bearer realm="picycle"'
        if invalid:
            challenge += ', error="invalid_token"'
        self.picycle_headers = {"WWW-Authenticate": challenge}


def prepare_request() -> None:
    """Before every picycle view: cap the body size, then resolve the bearer token."""
    state = picycle()
    request.max_content_length = state.max_content_length
    view = current_app.view_functions.get(request.endpoint or "")
    if request.method == "OPTIONS" or getattr(view, "picycle_public", False):
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise MissingToken("send an API token: Authorization: Bearer <token>", invalid=False)
    with state.engine.unit_of_work(write=False) as uow:
        actor = users.authenticate(uow, token)
    if actor is None:
        raise MissingToken("the token is unknown or revoked, or its user is inactive", True)
    g.picycle_actor = actor


def record_refused_write(reason: str) -> None:
    """A write refused with 403 goes on the audit trail (``access_denied``: who, the method
    and path, why), in a transaction of its own: the request's own has rolled back. Reads
    refused are not recorded, nor requests without a known user (401). Should recording
    fail, the refusal stands and the failure is logged."""
    actor = g.get("picycle_actor")
    if actor is None or request.method in READS:
        return
    try:
        denials.record_access_denied(
            picycle().engine, actor, f"{request.method} {request.path}", reason
        )
    except Exception:  # the 403 is the answer either way
        current_app.logger.exception(
            "could not record the refused %s %s by %s", request.method, request.path, actor.name
        )
