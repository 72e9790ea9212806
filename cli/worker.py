"""``picycle worker``: fire due timers (overdue escalations); any number may run at once.

A long-running worker logs what it does (to stderr, for the journal or the container's
log), rides out a database that goes away, and stops on SIGTERM or Ctrl-C after the cycle
it is firing."""

from __future__ import annotations

import logging
import os
import socket
import threading

import click
from picycle.engine import Engine
from picycle.engine.errors import Unavailable
from picycle.engine.read_models import TimerBacklog
from picycle.engine.services import timers

from picycle.stopping import stop_on_signals

log = logging.getLogger("picycle.worker")


@click.command()
@click.option("--interval", default=30.0, show_default=True, help="Seconds between passes.")
@click.option("--once", is_flag=True, help="Fire what is due now and stop.")
@click.option(
    "--status", is_flag=True, help="Say what is due and how far behind the workers are, and stop."
)
@click.pass_obj
def worker(engine: Engine, interval: float, once: bool, status: bool) -> None:
    """Fire due timers (overdue escalations), once or in a loop until SIGTERM or Ctrl-C.
    Run as many as you like: each cycle's timers are claimed by one worker at a time."""
    if status:
        with engine.unit_of_work(write=False) as uow:
            show_backlog(timers.timer_backlog(uow))
        return
    if once:
        fired = timers.fire_due_timers(engine)
        click.echo(f"fired {fired} timer(s)" if fired else "no timers due")
        return
    run_worker(engine, interval)


def show_backlog(backlog: TimerBacklog) -> None:
    oldest = backlog.oldest_due_at.isoformat(timespec="seconds") if backlog.oldest_due_at else "-"
    click.echo(f"due timers: {backlog.due}")
    click.echo(f"oldest due: {oldest}")
    click.echo(f"lag: {backlog.lag_seconds:.0f} s")
    click.echo(f"awaiting an admin (timer incidents): {backlog.awaiting_admin}")


def run_worker(engine: Engine, interval: float) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    database = engine.database.url.render_as_string(hide_password=True)
    log.info(
        "worker %s:%d firing due timers in %s every %gs",
        socket.gethostname(),
        os.getpid(),
        database,
        interval,
    )
    with stop_on_signals() as stop:
        while not stop.is_set():
            run_pass(engine, stop)
            stop.wait(interval)
    log.info("worker stopped")


def run_pass(engine: Engine, stop: threading.Event) -> None:
    try:
        fired = timers.fire_due_timers(engine, stopping=stop.is_set)
        if not fired:
            return
        with engine.unit_of_work(write=False) as uow:
            left = timers.timer_backlog(uow)
    except Unavailable as error:
        log.warning("%s; trying again after the interval", error)
        return
    log.info("pass: fired %d timer(s); %d due left, lag %.0f s", fired, left.due, left.lag_seconds)
