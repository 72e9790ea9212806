"""Serving the pages and the API in production under waitress (``picycle serve``).

The app is built from the environment: ``PICYCLE_DATABASE_URL``, or the SQLite database
under ``PICYCLE_DATA_DIR``. Run ``picycle init`` first to create or upgrade the schema and
deploy the shipped processes.
"""

from __future__ import annotations

import logging
import os

from flask import Flask
from picycle.engine import Engine

from .app import create_app
from .body_limits import largest_body, limit_waitress, limits_of

BODY_LIMITS = ("PICYCLE_MAX_CONTENT_LENGTH", "PICYCLE_MAX_UPLOAD_LENGTH")
# The pages' settings (picycle.pages.init_pages), taken from the environment as they are.
PAGE_SETTINGS = (
    "PICYCLE_SECRET_KEY",
    "PICYCLE_SECURE_COOKIES",
    "PICYCLE_SIGN_IN_MAX_FAILURES_PER_USER",
    "PICYCLE_SIGN_IN_MAX_FAILURES_PER_ADDRESS",
    "PICYCLE_SIGN_IN_WINDOW_SECONDS",
)

log = logging.getLogger("picycle.serve")


def make_app(engine: Engine | None = None) -> Flask:
    """The API on ``engine``, or on an engine opened from the environment. The schema is
    ``picycle init``'s job: several servers may start at once, and none should migrate.
    The body limits are ``PICYCLE_MAX_CONTENT_LENGTH`` and ``PICYCLE_MAX_UPLOAD_LENGTH``
    from the environment, when set; so are the pages' settings (``PAGE_SETTINGS``)."""
    limits = {key: _byte_count(key) for key in BODY_LIMITS if os.environ.get(key)}
    settings = {key: os.environ[key] for key in PAGE_SETTINGS if os.environ.get(key)}
    return create_app({"PICYCLE_ENGINE": engine or Engine(), **limits, **settings})


def _byte_count(key: str) -> int:
    text = os.environ[key].strip()
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{key} must be a number of bytes (a whole number above 0), not {text!r}")
    return int(text)


def create_server(app: Flask, host: str = "127.0.0.1", port: int = 8080, threads: int = 8):
    """A waitress server for the API ``app`` that refuses bodies over their route's limit
    before reading them (``api/body_limits.py``)."""
    from waitress.server import create_server as create_waitress

    # waitress refuses at this size itself; the routes' own limits are checked first.
    largest = largest_body(app) + 1
    server = create_waitress(
        app, host=host, port=port, threads=threads, ident="picycle", max_request_body_size=largest
    )
    limit_waitress(server, limits_of(app))
    return server


def serve(
    host: str = "127.0.0.1", port: int = 8080, threads: int = 8, engine: Engine | None = None
) -> None:
    """Run the API under waitress until interrupted, on ``engine`` or on one opened from
    the environment (and closed at the end)."""
    own = engine is None
    engine = engine or Engine()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("spiff").setLevel(logging.WARNING)  # a line per task state change
    log.info("picycle on http://%s:%d/ (the API at /api/v1, docs at /api/v1/docs)", host, port)
    try:
        create_server(make_app(engine), host, port, threads).run()
    finally:
        if own:
            engine.dispose()
