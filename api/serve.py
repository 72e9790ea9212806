"""Serving the pages and the API in production under waitress (``picycle serve``): one
process, or several sharing one listening socket (``api/processes.py``).

The app is built from the environment: ``PICYCLE_DATABASE_URL``, or the SQLite database
under ``PICYCLE_DATA_DIR``. Run ``picycle init`` first to create or upgrade the schema and
deploy the shipped processes.
"""

from __future__ import annotations

import errno
import gc
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass

from flask import Flask
from picycle.engine import Engine
from picycle.engine.errors import ConfigurationError
from picycle.pages import single_sign_on
from picycle.pages.mount import sign_in_settings
from werkzeug.middleware.proxy_fix import ProxyFix

from picycle.stopping import stop_on_signals

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
    "PICYCLE_PASSWORD_SIGN_IN",
    *single_sign_on.SETTINGS,
)

log = logging.getLogger("picycle.serve")


@dataclass(frozen=True)
class ServeOptions:
    """How ``picycle serve`` runs: where it listens, how many processes of how many
    threads, how many proxies in front of it set ``X-Forwarded-*`` (0: those headers are
    ignored), and how long a stopping process lets requests in progress finish."""

    host: str = "127.0.0.1"
    port: int = 8080
    processes: int = 1
    threads: int = 8
    proxies: int = 0
    grace: float = 30.0


def make_app(engine: Engine | None = None, proxies: int = 0) -> Flask:
    """The API on ``engine``, or on an engine opened from the environment. The schema is
    ``picycle init``'s job: several servers may start at once, and none should migrate.
    The body limits are ``PICYCLE_MAX_CONTENT_LENGTH`` and ``PICYCLE_MAX_UPLOAD_LENGTH``
    from the environment, when set; so are the pages' settings (``PAGE_SETTINGS``). Behind
    ``proxies`` reverse proxies, the client's address, scheme, host and prefix come from
    their ``X-Forwarded-*`` headers; with none, those headers are not believed (anyone
    could send them)."""
    limits = {key: _byte_count(key) for key in BODY_LIMITS if os.environ.get(key)}
    app = create_app({"PICYCLE_ENGINE": engine or Engine(), **limits, **_page_settings()})
    if proxies:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=proxies
        )
    return app


def _page_settings() -> dict[str, str]:
    return {key: os.environ[key] for key in PAGE_SETTINGS if os.environ.get(key)}


def _byte_count(key: str) -> int:
    text = os.environ[key].strip()
    if not text.isdecimal() or int(text) < 1:
        raise ValueError(f"{key} must be a number of bytes (a whole number above 0), not {text!r}")
    return int(text)


def create_server(
    app: Flask,
    host: str = "127.0.0.1",
    port: int = 8080,
    threads: int = 8,
    sockets: list[socket.socket] | None = None,
):
    """A waitress server for the API ``app`` that refuses bodies over their route's limit
    before reading them (``api/body_limits.py``); on ``sockets`` already listening, when
    given, else on ``host`` and ``port``."""
    from waitress.server import create_server as create_waitress

    where = {"sockets": sockets} if sockets else {"host": host, "port": port}
    # waitress refuses at this size itself; the routes' own limits are checked first.
    largest = largest_body(app) + 1
    server = create_waitress(
        app, **where, threads=threads, ident="picycle", max_request_body_size=largest
    )
    limit_waitress(server, limits_of(app))
    return server


def listen(host: str, port: int) -> socket.socket:
    """The socket to serve on, bound before anything says where picycle serves: a port
    another program holds is one line saying so, not a traceback."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, backlog=1024)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise ConfigurationError(
                f"port {port} on {host} is in use by another program (another picycle?): "
                "stop it, or serve on another port with --port (or PICYCLE_PORT)"
            ) from None
        raise ConfigurationError(
            f"cannot listen on {host}, port {port}: {error.strerror or error}; "
            "check --host and --port (or PICYCLE_HOST and PICYCLE_PORT)"
        ) from None


def run_until_stopped(server, stop: threading.Event, grace: float) -> None:
    """Serve until ``stop`` is set; then accept no more connections, let the requests in
    progress finish and their answers go out (for ``grace`` seconds at most), and stop."""
    from waitress import wasyncore

    def turn() -> None:
        wasyncore.loop(timeout=0.5, map=server._map, use_poll=server.adj.asyncore_use_poll, count=1)

    while not stop.is_set():
        turn()
    server.del_channel()  # out of the loop: no more accepts
    server.socket.close()  # new connections are refused (or go to a sibling process)
    deadline = time.monotonic() + grace
    while _busy(server) and time.monotonic() < deadline:
        turn()
    server.task_dispatcher.shutdown(timeout=max(0.0, deadline - time.monotonic()))


def _busy(server) -> bool:
    """Whether a connection has a request in progress or an answer not yet sent."""
    return any(c.requests or c.total_outbufs_len for c in server.active_channels.values())


def serve_process(app: Flask, options: ServeOptions, sockets=None) -> None:
    """One serving process: the API under waitress until SIGTERM or Ctrl-C, then a
    graceful stop."""
    with stop_on_signals() as stop:
        server = create_server(app, options.host, options.port, options.threads, sockets)
        settle_heap()
        run_until_stopped(server, stop, options.grace)


def settle_heap() -> None:
    """Before the first request: what the process holds now (its modules, the app, the
    database engine) lives as long as it does, so it is taken out of the garbage
    collector's reach. A full collection then walks only what requests made since; over
    the whole heap it held every request thread up for a tenth of a second (bench.inbox)."""
    gc.collect()
    gc.freeze()


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("spiff").setLevel(logging.WARNING)  # a line per task state change


def serve(options: ServeOptions, engine: Engine | None = None) -> None:
    """Run the pages and the API until SIGTERM or Ctrl-C: in this process on ``engine`` (or
    one opened from the environment and closed at the end), or in ``options.processes``
    processes, each with an engine of its own."""
    configure_logging()
    sign_in_settings(_page_settings())  # a wrong one stops here, before any process starts
    listener = listen(options.host, options.port)
    where = f"http://{options.host}:{options.port}/"
    log.info("picycle on %s (the API at /api/v1, docs at /api/v1/docs)", where)
    if options.processes > 1:
        from .processes import serve_in_processes

        serve_in_processes(options, engine.url if engine else None, listener)
        return
    own = engine is None
    engine = engine or Engine()
    try:
        serve_process(make_app(engine, options.proxies), options, [listener])
    finally:
        if own:
            engine.dispose()
    log.info("stopped")
