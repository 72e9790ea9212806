"""``picycle worker``: fire due timers (overdue escalations), write the notices no request
causes (tasks fallen overdue, daily digests) and send the e-mail outbox; any number may
run at once.

A long-running worker logs what it does (to stderr, for the journal or the container's
log), rides out a database or SMTP server that goes away, and stops on SIGTERM or Ctrl-C
after the cycle or e-mail it is at."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime

import click
from picycle.engine import Engine
from picycle.engine.errors import Unavailable
from picycle.engine.read_models import MailPass, OutboxBacklog, TimerBacklog
from picycle.engine.services import mail, timers
from picycle.engine.services.mail import SmtpSettings

from picycle.stopping import stop_on_signals

from .common import Seconds

log = logging.getLogger("picycle.worker")
# The longest wait between passes: a timer fires at most this late (and waiting forever
# overflows the clock).
ONE_DAY = 24 * 60 * 60


@click.command()
@click.option(
    "--interval",
    type=Seconds(0, ONE_DAY),
    default=30.0,
    show_default=True,
    help="Seconds between passes (0: one right after the other).",
)
@click.option("--once", is_flag=True, help="Do what is due now and stop.")
@click.option(
    "--status", is_flag=True, help="Say what is due and how far behind the workers are, and stop."
)
@click.pass_obj
def worker(engine: Engine, interval: float, once: bool, status: bool) -> None:
    """Fire due timers (overdue escalations) and send notifications by e-mail, once or in a
    loop until SIGTERM or Ctrl-C. Run as many as you like: each cycle's timers and each
    e-mail are taken by one worker at a time. E-mail is sent when PICYCLE_SMTP_HOST is
    set; until then it waits in the outbox."""
    if status:
        with engine.unit_of_work(write=False) as uow:
            show_backlog(timers.timer_backlog(uow))
            show_outbox(mail.outbox_backlog(uow))
        return
    settings = mail.smtp_settings(engine)
    if once:
        fired = timers.fire_due_timers(engine)
        click.echo(f"fired {fired} timer(s)" if fired else "no timers due")
        written, sent = mail_pass(engine, settings, lambda: False)
        if written or sent != MailPass():
            click.echo(mail_line(written, sent))
        return
    run_worker(engine, settings, interval)


def _moment(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


def show_backlog(backlog: TimerBacklog) -> None:
    click.echo(f"due timers: {backlog.due}")
    click.echo(f"oldest due: {_moment(backlog.oldest_due_at)}")
    click.echo(f"lag: {backlog.lag_seconds:.0f} s")
    click.echo(f"awaiting an admin (timer incidents): {backlog.awaiting_admin}")


def show_outbox(backlog: OutboxBacklog) -> None:
    click.echo(f"e-mail waiting: {backlog.waiting} ({backlog.due} due now)")
    click.echo(f"e-mail oldest due: {_moment(backlog.oldest_due_at)}")
    click.echo(f"e-mail lag: {backlog.lag_seconds:.0f} s")
    click.echo(f"e-mail given up (see their last error): {backlog.failed}")


def mail_pass(
    engine: Engine, settings: SmtpSettings | None, stopping: Callable[[], bool]
) -> tuple[int, MailPass]:
    """Write the notices due, then send what the outbox holds (when SMTP is set up): how
    many e-mails were written, and what sending did."""
    written = mail.write_overdue_notices(engine) + mail.write_digests(engine)
    if settings is None or stopping():
        return written, MailPass()
    return written, mail.send_outbox(engine, settings, stopping)


def mail_line(written: int, sent: MailPass) -> str:
    return (
        f"e-mail: {written} written, {sent.sent} sent, {sent.retrying} to try again, "
        f"{sent.failed} given up"
    )


def run_worker(engine: Engine, settings: SmtpSettings | None, interval: float) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    database = engine.database.url.render_as_string(hide_password=True)
    log.info(
        "worker %s:%d firing due timers in %s every %gs",
        socket.gethostname(),
        os.getpid(),
        database,
        interval,
    )
    if settings is None:
        log.warning("PICYCLE_SMTP_HOST is not set: e-mail waits in the outbox, unsent")
    else:
        log.info(
            "sending e-mail through %s:%d as %s", settings.host, settings.port, settings.sender
        )
    with stop_on_signals() as stop:
        while not stop.is_set():
            run_pass(engine, settings, stop)
            stop.wait(interval)
    log.info("worker stopped")


def run_pass(engine: Engine, settings: SmtpSettings | None, stop: threading.Event) -> None:
    try:
        fired = timers.fire_due_timers(engine, stopping=stop.is_set)
        if fired:
            with engine.unit_of_work(write=False) as uow:
                left = timers.timer_backlog(uow)
            log.info(
                "pass: fired %d timer(s); %d due left, lag %.0f s",
                fired,
                left.due,
                left.lag_seconds,
            )
        written, sent = mail_pass(engine, settings, stop.is_set)
        if written or sent != MailPass():
            with engine.unit_of_work(write=False) as uow:
                waiting = mail.outbox_backlog(uow)
            log.info(
                "%s; %d waiting, lag %.0f s",
                mail_line(written, sent),
                waiting.waiting,
                waiting.lag_seconds,
            )
    except Unavailable as error:
        log.warning("%s; trying again after the interval", error)
