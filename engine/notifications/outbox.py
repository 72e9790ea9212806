"""Writing e-mails to the outbox, in the transaction of the change they tell of: the unit
of work calls ``task_notices`` with the cycles it is about to commit, so a task offered to
someone and the e-mail telling them are committed together, or neither is."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ..cycle import Cycle, TaskRecord
from ..db.models import OutboxMessage
from ..vocabulary import EventType, TaskState
from . import recipients
from .messages import Mail, TaskMention, Writer
from .recipients import Notice, Recipient

OUTBOX = OutboxMessage.__table__
OFFERED = (EventType.TASK_CREATED, EventType.TASK_UNCLAIMED)


def row(
    now: datetime,
    base_url: str,
    notice: Notice,
    recipient: Recipient,
    mail: Mail,
    task_id: str | None = None,
) -> dict[str, Any]:
    """An outbox row for ``mail`` to ``recipient``, due at once. Its Message-ID is made
    here, once: every attempt to send it carries the same one."""
    return {
        "kind": notice,
        "recipient": recipient.name,
        "address": recipient.address,
        "language": recipient.language,
        "subject": mail.subject,
        "body_text": mail.text,
        "body_html": mail.html,
        "message_id": make_msgid("picycle", domain=urlsplit(base_url).hostname or "picycle"),
        "task_id": task_id,
        "created_at": now,
        "attempts": 0,
        "next_attempt_at": now,
    }


def enqueue(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(OUTBOX), rows)


def task_notices(session: Session, now: datetime, base_url: str, cycles: Iterable[Cycle]) -> None:
    """E-mails for the tasks these cycles offered someone in this unit of work (made
    ready, or given back unclaimed), to those the tasks are now for, but the one whose
    step made them so."""
    rows = []
    for cycle in cycles:
        for event in cycle.events:
            task = cycle.changed_tasks.get(event.task_id or "")
            if event.type in OFFERED and task is not None and _unheld(task):
                rows += _offered(session, now, base_url, cycle, task, event.actor)
    enqueue(session, rows)


def _unheld(task: TaskRecord) -> bool:
    return task.state == TaskState.OPEN and task.claimed_by is None


def _offered(
    session: Session, now: datetime, base_url: str, cycle: Cycle, task: TaskRecord, actor: str
) -> list[dict[str, Any]]:
    notice = Notice.ASSIGNED if task.assignee else Notice.GROUP_OPEN
    found = recipients.of_task(
        session, notice, None, task.assignee, task.candidate_group, task.unit_id
    )
    mention = mention_of(task, cycle.record.title, cycle.record.unit)
    rows = []
    for recipient in found:
        if recipient.name == actor:
            continue
        writer = Writer(recipient.language, base_url)
        if notice == Notice.ASSIGNED:
            mail = writer.assigned(recipient.name, mention)
        else:
            mail = writer.group_open(recipient.name, mention, task.candidate_group or "")
        rows.append(row(now, base_url, notice, recipient, mail, task.id))
    return rows


def mention_of(task: Any, cycle: str, unit: str) -> TaskMention:
    """What an e-mail says of a task (a task record or a row of ``tasks``)."""
    return TaskMention(task.id, task.title, cycle, unit, task.due_at)
