"""``picycle worker``: fire due timers (overdue escalations)."""

from __future__ import annotations

import time

import click
from picycle.engine import Engine
from picycle.engine.services import timers


@click.command()
@click.option("--interval", default=30.0, show_default=True, help="Seconds between passes.")
@click.option("--once", is_flag=True, help="Fire what is due now and stop.")
@click.pass_obj
def worker(engine: Engine, interval: float, once: bool) -> None:
    """Fire due timers (overdue escalations) in a loop."""
    while True:
        fired = timers.fire_due_timers(engine)
        if fired or once:
            click.echo(f"fired {fired} timer(s)")
        if once:
            return
        time.sleep(interval)
