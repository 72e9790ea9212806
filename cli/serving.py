"""``picycle serve``: the HTTP API under waitress, in one process or several, each option
also read from the environment (for systemd units and containers)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click
from picycle.engine import Engine

from .common import Seconds


def _processes_default(engine: Engine) -> int:
    """One process on SQLite (one machine, one writer); one per CPU on PostgreSQL."""
    return 1 if engine.database.dialect.name == "sqlite" else os.cpu_count() or 1


def _setting(name: str, **option: Any) -> Callable:
    """``--<name>``, also read from the environment as ``PICYCLE_<NAME>``; --help shows the
    variable and the default."""
    return click.option(
        f"--{name}", envvar=f"PICYCLE_{name.upper()}", show_default=True, show_envvar=True, **option
    )


@click.command()
@_setting("host", default="127.0.0.1", help="Address to listen on.")
@_setting("port", default=8080, type=int, help="Port to listen on.")
@_setting(
    "processes",
    type=click.IntRange(min=1),
    help="Serving processes. [default: 1 on SQLite, one per CPU on PostgreSQL]",
)
@_setting("threads", default=8, type=click.IntRange(min=1), help="Request threads in each process.")
@_setting(
    "proxies",
    default=0,
    type=click.IntRange(min=0),
    help="Reverse proxies in front that set X-Forwarded-For/-Proto/-Host/-Prefix; "
    "0: those headers are ignored.",
)
@_setting(
    "grace",
    default=30.0,
    type=Seconds(0, 3600),
    help="Seconds a stopping server lets requests in progress finish (at most an hour).",
)
@click.pass_obj
def serve(
    engine: Engine,
    host: str,
    port: int,
    processes: int | None,
    threads: int,
    proxies: int,
    grace: float,
) -> None:
    """Serve the HTTP API with waitress until SIGTERM or Ctrl-C (run `picycle init`
    first)."""
    from picycle.api.serve import ServeOptions
    from picycle.api.serve import serve as serve_api

    options = ServeOptions(
        host, port, processes or _processes_default(engine), threads, proxies, grace
    )
    serve_api(options, engine=engine)
