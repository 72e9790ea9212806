"""What a request works with: the engine bound to the app, the request's unit of work and
the acting user, authenticated inside that unit of work (one transaction per request)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, g, request
from picycle.engine import Engine, UnitOfWork
from picycle.engine.actors import Actor
from picycle.engine.services import denials, users
from werkzeug.exceptions import Unauthorized

EXTENSION = "picycle"
READS = frozenset({"GET", "HEAD", "OPTIONS"})
# An evidence upload's body: the file (PICYCLE_EVIDENCE_MAX_BYTES at most) and the
# multipart framing and form fields around it.
MULTIPART_ALLOWANCE = 64 * 1024


@dataclass(frozen=True)
class Picycle:
    """Bound to a Flask app by ``init_picycle``."""

    engine: Engine
    api_prefix: str
    max_content_length: int  # request bodies, bytes
    max_upload_length: int  # bodies of views marked takes_uploads (bundles), bytes

    def body_limit(self, view) -> int:
        """The largest body the view (None: no view) accepts."""
        if getattr(view, "picycle_uploads", False):
            return self.max_upload_length
        if getattr(view, "picycle_evidence", False):
            return self.evidence_length
        return self.max_content_length

    @property
    def evidence_length(self) -> int:
        """Bodies of views marked takes_evidence: one file within its limit, bytes."""
        return self.engine.evidence.max_bytes + MULTIPART_ALLOWANCE


def picycle() -> Picycle:
    return current_app.extensions[EXTENSION]


def request_uow() -> UnitOfWork:
    """The request's unit of work, opened (and the caller authenticated in it) before the
    view runs; a service commits it, or it rolls back when the request ends."""
    uow = g.get("picycle_uow")
    if uow is None:
        raise RuntimeError("this request has no unit of work (a public view, or it was ended)")
    return uow


def end_request_uow(_error: BaseException | None = None) -> None:
    """Close the request's unit of work: whatever was not committed is rolled back."""
    uow = g.pop("picycle_uow", None)
    if uow is not None:
        uow.__exit__(None, None, None)


def engine_for_own_transactions() -> Engine:
    """The engine, for a service that opens units of work of its own (``migrate_all``,
    ``verify``, ``record_access_denied``). The request's unit of work is closed first: on
    SQLite its write lock would block theirs, and it has nothing left to do."""
    end_request_uow()
    return picycle().engine


def keep_request_uow_open() -> Callable[[], None]:
    """For a response streamed from the request's unit of work: Flask tears the request
    down before it sends a streamed body, so the unit of work is no longer closed then;
    the function returned closes it (more than once does no harm)."""
    uow = request_uow()
    del g.picycle_uow

    def close() -> None:
        nonlocal uow
        if uow is not None:
            done, uow = uow, None
            done.__exit__(None, None, None)

    return close


def public(view):
    """Mark a view as open to requests without a token."""
    view.picycle_public = True
    return view


def takes_uploads(view):
    """Mark a view as taking uploads: its body may reach the upload limit."""
    view.picycle_uploads = True
    return view


def takes_evidence(view):
    """Mark a view as taking an evidence file: its body may reach the evidence limit."""
    view.picycle_evidence = True
    return view


def body_too_large(limit: int) -> str:
    """Why a body was refused (the 413's detail), whoever refused it."""
    return (
        f"the request body is larger than {limit:,} bytes, the limit here "
        "(the server's operator sets the limits)"
    )


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
    """Before every picycle view: cap the body size, open the request's unit of work (a
    write transaction for anything but a read) and resolve the bearer token in it."""
    state = picycle()
    view = current_app.view_functions.get(request.endpoint or "")
    # A body declaring more was refused unread (app.py); a chunked one, which declares
    # nothing, is cut off at the limit while it is read.
    request.max_content_length = state.body_limit(view)
    if request.method == "OPTIONS" or getattr(view, "picycle_public", False):
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise MissingToken("send an API token: Authorization: Bearer <token>", invalid=False)
    uow = state.engine.unit_of_work(write=request.method not in READS)
    g.picycle_uow = uow.__enter__()
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
    # The request's unit of work ends first, its write lock with it: the refusal is
    # written in a transaction of its own.
    engine = engine_for_own_transactions()
    try:
        denials.record_access_denied(engine, actor, f"{request.method} {request.path}", reason)
    except Exception:  # the 403 is the answer either way
        current_app.logger.exception(
            "could not record the refused %s %s by %s", request.method, request.path, actor.name
        )
