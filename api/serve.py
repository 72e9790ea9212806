"""Serving the API in production under waitress (``picycle serve``).

The app is built from the environment: ``PICYCLE_DATABASE_URL``, or the SQLite database
under ``PICYCLE_DATA_DIR``. Run ``picycle init`` first to create or upgrade the schema and
deploy the shipped processes.
"""

from __future__ import annotations

import logging

from flask import Flask
from picycle.engine import Engine

from .app import create_app

log = logging.getLogger("picycle.serve")


def make_app(engine: Engine | None = None) -> Flask:
    """The API on ``engine``, or on an engine opened from the environment. The schema is
    ``picycle init``'s job: several servers may start at once, and none should migrate."""
    return create_app({"PICYCLE_ENGINE": engine or Engine()})


def serve(
    host: str = "127.0.0.1", port: int = 8080, threads: int = 8, engine: Engine | None = None
) -> None:
    """Run the API under waitress until interrupted, on ``engine`` or on one opened from
    the environment (and closed at the end)."""
    import waitress

    own = engine is None
    engine = engine or Engine()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("spiff").setLevel(logging.WARNING)  # a line per task state change
    log.info("picycle API on http://%s:%d/api/v1 (docs at /api/v1/docs)", host, port)
    try:
        waitress.serve(make_app(engine), host=host, port=port, threads=threads, ident="picycle")
    finally:
        if own:
            engine.dispose()
