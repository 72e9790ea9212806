"""``picycle serve``: the HTTP API under waitress, in one process or several, each option
also read from the environment (for systemd units and containers)."""

from __future__ import annotations

import os

import click
from picycle.engine import Engine


def _processes_default(engine: Engine) -> int:
    """One process on SQLite (one machine, one writer); one per CPU on PostgreSQL."""
    return 1 if engine.database.dialect.name == "sqlite" else os.cpu_count() or 1


@click.command()
@click.option(
    "--host",
    envvar="PICYCLE_HOST",
    default="127.0.0.1",
    show_default=True,
    show_envvar=True,
    help="Address to listen on.",
)
@click.option(
    "--port",
    envvar="PICYCLE_PORT",
    default=8080,
    type=int,
    show_default=True,
    show_envvar=True,
    help="Port to listen on.",
)
@click.option(
    "--processes",
    envvar="PICYCLE_PROCESSES",
    type=click.IntRange(min=1),
    show_envvar=True,
    help="Serving processes. [default: 1 on SQLite, one per CPU on PostgreSQL]",
)
@click.option(
    "--threads",
    envvar="PICYCLE_THREADS",
    default=8,
    type=click.IntRange(min=1),
    show_default=True,
    show_envvar=True,
    help="Request threads in each process.",
)
@click.option(
    "--proxies",
    envvar="PICYCLE_PROXIES",
    default=0,
    type=click.IntRange(min=0),
    show_default=True,
    show_envvar=True,
    help="Reverse proxies in front that set X-Forwarded-For/-Proto/-Host/-Prefix; "
    "0: those headers are ignored.",
)
@click.option(
    "--grace",
    envvar="PICYCLE_GRACE",
    default=30.0,
    type=click.FloatRange(min=0),
    show_default=True,
    show_envvar=True,
    help="Seconds a stopping server lets requests in progress finish.",
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
