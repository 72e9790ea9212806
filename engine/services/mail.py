"""What the workers do for notifications: write the notices no request causes (tasks
fallen overdue, the daily digests) and send the outbox over SMTP.

Sending, and what is guaranteed (docs/deploy.md says the same to operators): a worker
takes a due e-mail in a short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on
SQLite the write transaction holds the database), counts the attempt and moves its next
attempt a lease ahead, and commits; only then does it talk to the SMTP server, holding no
lock, and marks the e-mail sent in a second short transaction. So two workers never send
one e-mail at once, and a worker that dies (or loses the database) before the mark leaves
the e-mail to be taken again once its lease ends: no e-mail is lost. Died after the
server accepted the e-mail but before the mark, the e-mail is sent again: at least once,
and the repeat carries the same Message-ID, which tells mail clients it is the same
e-mail. A refusal for good (5xx) gives up at once; anything else is tried again later,
each wait twice the one before, and given up after ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.errors import MessageError
from email.message import EmailMessage

from sqlalchemy import String, cast, func, or_, select, update
from sqlalchemy.orm import aliased

from ..db.claims import claim_next
from ..db.database import reaching_database
from ..db.models import (
    Cycle,
    NotificationMark,
    OutboxMessage,
    ProcessDefinition,
    Task,
    Unit,
    User,
)
from ..db.statements import advance
from ..notifications import recipients
from ..notifications.messages import Writer
from ..notifications.outbox import enqueue, in_language, mention_of, row
from ..notifications.recipients import Notice
from ..notifications.smtp import Mailer, SendFailure, SmtpSettings, email_of
from ..read_models import MailPass, OutboxBacklog
from ..uow import Engine, UnitOfWork
from ..vocabulary import TaskState
from .inbox import InboxQuery, list_inbox
from .users import actor_named

log = logging.getLogger("picycle.mail")

OUTBOX = OutboxMessage.__table__
MARKS = NotificationMark.__table__
# Longer than an SMTP exchange may take (smtp.TIMEOUT_SECONDS per step): a worker still
# sending never sees its e-mail taken by another.
LEASE = timedelta(minutes=5)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=2)
MAX_ATTEMPTS = 10
DIGEST_TASKS = 20  # listed in a digest; the count says how many more there are
BATCH = 50


# --- sending ----------------------------------------------------------------------------


def _unsent():
    return OUTBOX.c.sent_at.is_(None) & OUTBOX.c.failed_at.is_(None)


def _due(uow: UnitOfWork):
    return (
        select(OUTBOX.c.id)
        .where(_unsent(), OUTBOX.c.next_attempt_at <= uow.now)
        .order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id)
    )


@dataclass(frozen=True)
class Taken:
    """An e-mail a worker holds the lease of, and which attempt this is."""

    id: int
    attempt: int
    email: EmailMessage


@dataclass(frozen=True)
class Unwritable:
    """An e-mail that cannot be written (an address or subject stored before it was
    checked breaks a header): given up at once, so the e-mails behind it still go."""

    id: int
    reason: str


def take_next(uow: UnitOfWork, sender: str) -> Taken | Unwritable | None:
    """Claim the most overdue e-mail no other worker holds, count the attempt, move its
    next attempt a lease ahead and commit; None when none is due."""
    claimed = claim_next(uow.session, _due(uow), OUTBOX)
    if claimed is None:
        return None
    message = uow.session.get_one(OutboxMessage, claimed.id)
    attempt = message.attempts + 1
    uow.session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == message.id)
        .values(attempts=attempt, next_attempt_at=uow.now + LEASE)
    )
    try:
        email = email_of(
            sender,
            message.address,
            message.subject,
            message.body_text,
            message.body_html,
            message.message_id,
            message.language,
            message.created_at,
        )
    except (ValueError, MessageError) as error:
        unwritable = SendFailure(f"cannot be written as an e-mail: {error}", permanent=True)
        mark_failed(uow, message.id, attempt, unwritable)
        return Unwritable(message.id, str(unwritable))
    uow.commit()
    return Taken(message.id, attempt, email)


def mark_sent(uow: UnitOfWork, taken: Taken) -> None:
    uow.session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == taken.id, OUTBOX.c.sent_at.is_(None))
        .values(sent_at=uow.now, last_error=None)
    )
    uow.commit()


def mark_failed(uow: UnitOfWork, message_id: int, attempt: int, failure: SendFailure) -> bool:
    """Keep why ``attempt`` failed and try again later, or give up; True when given up."""
    gives_up = failure.permanent or attempt >= MAX_ATTEMPTS
    later = {"next_attempt_at": uow.now + retry_wait(attempt)}
    uow.session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == message_id, OUTBOX.c.sent_at.is_(None))
        .values(last_error=str(failure), **({"failed_at": uow.now} if gives_up else later))
    )
    uow.commit()
    return gives_up


def retry_wait(attempt: int) -> timedelta:
    """How long after a failed ``attempt`` the next one is made: 1, 2, 4 ... minutes, at
    most two hours."""
    return min(FIRST_RETRY * 2 ** (attempt - 1), LONGEST_WAIT)


def smtp_settings(engine: Engine) -> SmtpSettings | None:
    """The SMTP server to send through, from the environment; None: none is set."""
    return SmtpSettings.from_environment(engine.base_url)


def send_outbox(
    engine: Engine, settings: SmtpSettings, stopping: Callable[[], bool] = lambda: False
) -> MailPass:
    """One worker's pass over the outbox: every due e-mail it can take, until none is left,
    ``stopping()`` says so, or the SMTP server fails for a reason not the e-mail's own (the
    rest then waits for the next pass)."""
    sent = retrying = failed = 0
    with reaching_database(), Mailer(settings) as mailer:
        while not stopping():
            with engine.unit_of_work() as uow:
                taken = take_next(uow, settings.sender)
            if taken is None:
                break
            if isinstance(taken, Unwritable):
                log.warning("e-mail #%d: %s; given up", taken.id, taken.reason)
                failed += 1
                continue
            try:
                mailer.send(taken.email)
            except SendFailure as failure:
                with engine.unit_of_work() as uow:
                    gave_up = mark_failed(uow, taken.id, taken.attempt, failure)
                log.warning(
                    "e-mail #%d, attempt %d: %s%s",
                    taken.id,
                    taken.attempt,
                    failure,
                    "; given up" if gave_up else "; tried again later",
                )
                if gave_up:
                    failed += 1
                    continue
                retrying += 1
                break
            with engine.unit_of_work() as uow:
                mark_sent(uow, taken)
            sent += 1
    return MailPass(sent, retrying, failed)


def outbox_backlog(uow: UnitOfWork) -> OutboxBacklog:
    due_now = OUTBOX.c.next_attempt_at <= uow.now
    with reaching_database():
        waiting, due, oldest = uow.session.execute(
            select(
                func.count(),
                func.count().filter(due_now),
                func.min(OUTBOX.c.next_attempt_at).filter(due_now),
            ).where(_unsent())
        ).one()
        failed = uow.session.scalar(select(func.count()).where(OUTBOX.c.failed_at.is_not(None)))
    return OutboxBacklog(uow.now, waiting, due, oldest, failed)


# --- notices no request causes ----------------------------------------------------------


def _unmarked(kind: Notice, key, moment):
    """A join onto the thing's mark, and the condition that none covers ``moment``."""
    mark = aliased(NotificationMark)
    joined = (mark.kind == kind) & (mark.key == key)
    return mark, joined, or_(mark.moment.is_(None), mark.moment < moment)


def _overdue_tasks(uow: UnitOfWork):
    mark, joined, unmarked = _unmarked(Notice.OVERDUE, Task.id, Task.due_at)
    return (
        select(
            Task.id,
            Task.title,
            Task.due_at,
            Task.claimed_by,
            Task.assignee,
            Task.candidate_group,
            Task.unit_id,
            Cycle.title.label("cycle"),
            Unit.name.label("unit"),
            ProcessDefinition.deployment_id,
        )
        .join(Cycle, Cycle.id == Task.cycle_id)
        .join(Unit, Unit.id == Cycle.unit_id)
        .join(ProcessDefinition, ProcessDefinition.id == Cycle.definition_id)
        .outerjoin(mark, joined)
        .where(Task.state == TaskState.OPEN, Task.due_at <= uow.now, unmarked)
        .order_by(Task.due_at, Task.id)
        .limit(BATCH)
    )


def write_overdue_notices(engine: Engine) -> int:
    """E-mail those an open task is for when it falls overdue (its holder, else its
    assignee, else its group), once for each due time it passes; how many e-mails."""
    written = 0
    with reaching_database():
        while True:
            with engine.unit_of_work() as uow:
                tasks = list(uow.session.execute(_overdue_tasks(uow)))
                rows = []
                for task in tasks:
                    if not advance(uow.session, MARKS, (Notice.OVERDUE, task.id), task.due_at):
                        continue  # another worker wrote it
                    mention = mention_of(task, task.cycle, task.unit)
                    for recipient in recipients.of_task(
                        uow.session,
                        Notice.OVERDUE,
                        task.claimed_by,
                        task.assignee,
                        task.candidate_group,
                        task.unit_id,
                    ):
                        texts = uow.cycles.models.process_texts(
                            task.deployment_id, recipient.language
                        )
                        writer = Writer(recipient.language, engine.base_url)
                        mail = writer.overdue(recipient.name, in_language(mention, texts))
                        rows.append(
                            row(uow.now, engine.base_url, Notice.OVERDUE, recipient, mail, task.id)
                        )
                enqueue(uow.session, rows)
                uow.commit()
            written += len(rows)
            if not tasks:
                return written


def _digest_moment(engine: Engine, now: datetime) -> datetime:
    return datetime.combine(now.date(), engine.digest_at, UTC)


def _wanting_digests(uow: UnitOfWork, moment: datetime):
    mark, joined, unmarked = _unmarked(Notice.DIGEST, cast(User.id, String), moment)
    return (
        select(User.id, User.name)
        .outerjoin(mark, joined)
        .where(User.active, User.email.is_not(None), User.notify_digest, unmarked)
        .order_by(User.id)
        .limit(BATCH)
    )


def write_digests(engine: Engine) -> int:
    """Once a day, from the digest time on (``PICYCLE_DIGEST_AT``, UTC), e-mail each user
    who wants it their open tasks, overdue ones first; a user with none gets no e-mail.
    How many e-mails."""
    written = 0
    with reaching_database():
        while True:
            with engine.unit_of_work() as uow:
                moment = _digest_moment(engine, uow.now)
                if uow.now < moment:
                    return written
                users = list(uow.session.execute(_wanting_digests(uow, moment)))
                rows = []
                for user in users:
                    if advance(uow.session, MARKS, (Notice.DIGEST, str(user.id)), moment):
                        rows += _digest(uow, engine.base_url, user.name)
                enqueue(uow.session, rows)
                uow.commit()
            written += len(rows)
            if not users:
                return written


def _digest(uow: UnitOfWork, base_url: str, name: str) -> list[dict]:
    """The digest of ``name``'s inbox, when it holds anything and they still want it."""
    (recipient,) = recipients.named(uow.session, Notice.DIGEST, [name]) or (None,)
    if recipient is None:
        return []
    actor = actor_named(uow, name)
    tasks = list_inbox(uow, actor, InboxQuery(sort="due", limit=DIGEST_TASKS))
    if not tasks.total:
        return []
    overdue = list_inbox(uow, actor, InboxQuery(overdue=True, limit=1)).total
    cycle_ids = {task.cycle_id for task in tasks.items}
    cycles = {
        cycle_id: (title, unit, deployment)
        for cycle_id, title, unit, deployment in uow.session.execute(
            select(Cycle.id, Cycle.title, Unit.name, ProcessDefinition.deployment_id)
            .join(Unit, Unit.id == Cycle.unit_id)
            .join(ProcessDefinition, ProcessDefinition.id == Cycle.definition_id)
            .where(Cycle.id.in_(cycle_ids))
        )
    }
    models = uow.cycles.models
    mentions = []
    for task in tasks.items:
        title, unit, deployment = cycles[task.cycle_id]
        texts = models.process_texts(deployment, recipient.language)
        mentions.append(in_language(mention_of(task, title, unit), texts))
    writer = Writer(recipient.language, base_url)
    mail = writer.digest(name, uow.now.date(), mentions, tasks.total, overdue)
    return [row(uow.now, base_url, Notice.DIGEST, recipient, mail)]
