"""Comments on tasks: who may read a task and is not an auditor may comment on it."""

from __future__ import annotations

from sqlalchemy import select

from ..actors import Actor, require_writer
from ..db.models import Comment
from ..errors import ValidationFailed
from ..uow import UnitOfWork
from .tasks import get_task

MAX_COMMENT_LENGTH = 10_000


def list_comments(uow: UnitOfWork, actor: Actor, task_id: str) -> list[Comment]:
    """The task's comments, oldest first, for whoever may read the task."""
    get_task(uow, actor, task_id)
    return list(
        uow.session.scalars(select(Comment).where(Comment.task_id == task_id).order_by(Comment.id))
    )


def add_comment(uow: UnitOfWork, actor: Actor, task_id: str, text: str) -> Comment:
    """Append a comment to a task, open or closed; it is part of the cycle's history."""
    require_writer(actor, "comment on a task")
    task = get_task(uow, actor, task_id)
    if not text.strip():
        raise ValidationFailed("a comment must not be empty", {"text": ["must not be empty"]})
    if len(text) > MAX_COMMENT_LENGTH:
        message = f"at most {MAX_COMMENT_LENGTH} characters"
        raise ValidationFailed(f"the comment is too long: {message}", {"text": [message]})
    comment = Comment(
        task_id=task.id,
        cycle_id=task.cycle_id,
        author=actor.name,
        text=text,
        created_at=uow.now,
    )
    uow.session.add(comment)
    uow.session.flush()
    uow.record(
        actor.name,
        "task_commented",
        cycle_id=task.cycle_id,
        task_id=task.id,
        element_id=task.element_id,
        comment_id=comment.id,
        text=text,
    )
    return comment
