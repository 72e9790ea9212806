"""Comments on tasks: who may read a task and is not an auditor may comment on it."""

from __future__ import annotations

from sqlalchemy import select

from ..actors import Actor, require_writer
from ..cycle import MAX_COMMENT_LENGTH
from ..db.models import Comment
from ..read_models import CommentView
from ..uow import UnitOfWork
from .tasks import readable_task

__all__ = ["MAX_COMMENT_LENGTH", "add_comment", "list_comments"]


def _view(comment: Comment) -> CommentView:
    return CommentView(
        comment.id, comment.task_id, comment.author, comment.text, comment.created_at
    )


def list_comments(uow: UnitOfWork, actor: Actor, task_id: str) -> list[CommentView]:
    """The task's comments, oldest first, for whoever may read the task."""
    readable_task(uow, actor, task_id)
    found = uow.session.scalars(
        select(Comment).where(Comment.task_id == task_id).order_by(Comment.id)
    )
    return [_view(comment) for comment in found]


def add_comment(uow: UnitOfWork, actor: Actor, task_id: str, text: str) -> CommentView:
    """Append a comment to a task, open or closed; it is part of the cycle's history."""
    require_writer(actor, "comment on a task")
    cycle = uow.cycles.lock_for_task(task_id)
    task = cycle.open_tasks.get(task_id) or readable_task(uow, actor, task_id)[0]
    comment = Comment(task_id=task_id, cycle_id=cycle.id, author=actor.name, created_at=uow.now)

    def store(checked: str) -> int:
        comment.text = checked
        uow.session.add(comment)
        uow.session.flush()
        return comment.id

    cycle.comment_on(actor, task, text, store)
    added = _view(comment)
    uow.commit()
    return added
