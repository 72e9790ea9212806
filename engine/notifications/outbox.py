"""Writing e-mails to the outbox, in the transaction of the change they tell of: the unit
of work calls ``task_notices`` with the cycles it is about to commit, so a task offered to
someone and the e-mail telling them are committed together, or neither is."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from ..cycle import Cycle, TaskRecord
from ..db.models import OutboxMessage
from ..read_models import ProcessTexts
from ..vocabulary import EventType, TaskState
from .messages import Mail, TaskMention, Writer
from .recipients import Directory, Notice, Recipient

OUTBOX = OutboxMessage.__table__
OFFERED = (EventType.TASK_CREATED, EventType.TASK_UNCLAIMED)
# A process version's texts in a language: (deployment id, language) -> its texts.
TextsOf = Callable[[int, str], ProcessTexts]


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


def withdraw_unsent(session: Session, now: datetime, recipient: str, why: str) -> None:
    """Give up the e-mails to ``recipient`` not sent yet, keeping ``why``: a worker takes
    none of them again (one it sends at this moment still goes)."""
    session.execute(
        update(OUTBOX)
        .where(
            OUTBOX.c.recipient == recipient,
            OUTBOX.c.sent_at.is_(None),
            OUTBOX.c.failed_at.is_(None),
        )
        .values(failed_at=now, last_error=why)
    )


def task_notices(
    directory: Directory,
    now: datetime,
    base_url: str,
    cycles: Iterable[Cycle],
    texts_of: TextsOf,
) -> None:
    """E-mails for the tasks these cycles offered someone in this unit of work (made
    ready, or given back unclaimed), to those the tasks are now for, but the one whose
    step made them so, each naming the task in the recipient's language. Their
    recipients are read in one query for the assigned tasks and one per group and unit,
    however many tasks opened."""
    offered = [
        (cycle, task, event.actor)
        for cycle in cycles
        for event in cycle.events
        if event.type in OFFERED
        and (task := cycle.changed_tasks.get(event.task_id or "")) is not None
        and _unheld(task)
    ]
    if not offered:
        return
    assignees = sorted({task.assignee for _, task, _ in offered if task.assignee})
    named = directory.named(Notice.ASSIGNED, assignees) if assignees else ()
    members: dict[tuple[str, int | None], tuple[Recipient, ...]] = {}
    rows = []
    for cycle, task, actor in offered:
        if task.assignee:
            found = tuple(r for r in named if r.name == task.assignee)
        elif task.candidate_group is None:
            found = ()
        else:
            key = (task.candidate_group, task.unit_id)
            if key not in members:
                members[key] = directory.group_members(Notice.GROUP_OPEN, *key)
            found = members[key]
        rows += _mails(now, base_url, cycle, task, actor, found, texts_of)
    enqueue(directory.session, rows)


def _unheld(task: TaskRecord) -> bool:
    return task.state == TaskState.OPEN and task.claimed_by is None


def _mails(
    now: datetime,
    base_url: str,
    cycle: Cycle,
    task: TaskRecord,
    actor: str,
    found: tuple[Recipient, ...],
    texts_of: TextsOf,
) -> list[dict[str, Any]]:
    notice = Notice.ASSIGNED if task.assignee else Notice.GROUP_OPEN
    mention = mention_of(task, cycle.record.title, cycle.record.unit)
    deployment = cycle.record.definition.deployment_id
    rows = []
    for recipient in found:
        if recipient.name == actor:
            continue
        shown = in_language(mention, texts_of(deployment, recipient.language))
        writer = Writer(recipient.language, base_url)
        if notice == Notice.ASSIGNED:
            mail = writer.assigned(recipient.name, shown)
        else:
            mail = writer.group_open(recipient.name, shown, task.candidate_group or "")
        rows.append(row(now, base_url, notice, recipient, mail, task.id))
    return rows


def mention_of(task: Any, cycle: str, unit: str) -> TaskMention:
    """What an e-mail says of a task (a task record or a row of ``tasks``)."""
    return TaskMention(task.id, task.title, cycle, unit, task.due_at)


def in_language(mention: TaskMention, texts: ProcessTexts) -> TaskMention:
    """The mention (its title as the model has it) with the title in those texts."""
    return replace(mention, title=texts.text(mention.title))
