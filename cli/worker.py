"""``picycle worker``: fire due timers (overdue escalations)."""

from __future__ import annotations

import time

import click
from picycle.engine import Engine
from picycle.engine.services import timers

from .render import when


@click.command()
@click.option("--interval", default=30.0, show_default=True, help="Seconds between passes.")
@click.option("--once", is_flag=True, help="Fire what is due now and stop.")
@click.pass_obj
def worker(engine: Engine, interval: float, once: bool) -> None:
    """Fire due timers (overdue escalations), once or in a loop until Ctrl-C."""
    if once:
        fired = timers.fire_due_timers(engine)
        click.echo(f"fired {fired} timer(s)" if fired else "no timers due")
        return
    database = engine.database.url.render_as_string(hide_password=True)
    click.echo(f"worker: firing due timers in {database} every {interval:g}s; Ctrl-C to stop")
    try:
        while True:
            fired = timers.fire_due_timers(engine)
            if fired:
                click.echo(f"{when(engine.clock())}  fired {fired} timer(s)")
            time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("worker: stopped")
