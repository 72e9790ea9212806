"""The inbox: listing, reading, claiming, completing and commenting on human tasks."""

from __future__ import annotations

from marshmallow import RAISE
from picycle.engine.services import comments, tasks
from picycle.engine.services.inbox import InboxQuery, list_inbox
from picycle.engine.vocabulary import InboxScope

from ..context import current_actor, request_uow
from ..parsing import PicycleBlueprint, page_body
from ..schemas import (
    CommentListSchema,
    CommentSchema,
    CompletionSchema,
    InboxArgs,
    NewCommentSchema,
    TaskDetailSchema,
    TaskPageSchema,
)

blp = PicycleBlueprint("tasks", __name__, description="The caller's inbox of human tasks")

BODY = (400, 413, 415)
TASK_ID = "<uuid:task_id>"


@blp.route("", methods=["GET"])
@blp.arguments(InboxArgs, location="query", unknown=RAISE)
@blp.response(200, TaskPageSchema)
@blp.problems(401, 403)
def inbox(args):
    """The caller's open tasks

    `scope=all` is for admins and auditors (403 otherwise). `overdue=true` keeps tasks
    past their due date; `sort=due` puts the most urgent first, tasks without a due date
    last.
    """
    query = InboxQuery(
        scope=InboxScope(args["scope"]),
        cycle_id=args.get("cycle"),
        unit=args.get("unit"),
        process_id=args.get("process_id"),
        overdue=args["overdue"],
        due_before=args.get("due_before"),
        sort=args["sort"],
        limit=args["limit"],
        offset=args["offset"],
    )
    page = list_inbox(request_uow(), current_actor(), query)
    return page_body(page, args)


@blp.route(f"/{TASK_ID}", methods=["GET"])
@blp.response(200, TaskDetailSchema)
@blp.problems(401, 403, 404)
def get_task(task_id):
    """One task with its form (JSON Schema) and the data the form starts from"""
    return tasks.get_task(request_uow(), current_actor(), str(task_id))


def _act(action, task_id, *args):
    return action(request_uow(), current_actor(), str(task_id), *args)


@blp.route(f"/{TASK_ID}/claim", methods=["POST"])
@blp.response(200, TaskDetailSchema)
@blp.problems(401, 403, 404, 409)
def claim(task_id):
    """Claim a task so that colleagues see you hold it

    409 when someone else holds it or it is no longer open.
    """
    return _act(tasks.claim_task, task_id)


@blp.route(f"/{TASK_ID}/unclaim", methods=["POST"])
@blp.response(200, TaskDetailSchema)
@blp.problems(401, 403, 404, 409)
def unclaim(task_id):
    """Give a claimed task back to its group (its holder, or an admin)"""
    return _act(tasks.unclaim_task, task_id)


@blp.route(f"/{TASK_ID}/complete", methods=["POST"])
@blp.arguments(CompletionSchema)
@blp.response(200, TaskDetailSchema)
@blp.problems(401, 403, 404, 409, *BODY)
def complete(body, task_id):
    """Complete a task with its form data; the cycle moves on

    422 lists every field the form or the method's rules reject, and nothing changes.
    409 when the task is no longer open (someone completed it first) or someone else
    holds it.
    """
    return _act(tasks.complete_task, task_id, body["data"])


@blp.route(f"/{TASK_ID}/comments", methods=["GET"])
@blp.response(200, CommentListSchema)
@blp.problems(401, 403, 404)
def list_comments(task_id):
    """The task's comments, oldest first"""
    return {"items": comments.list_comments(request_uow(), current_actor(), str(task_id))}


@blp.route(f"/{TASK_ID}/comments", methods=["POST"])
@blp.arguments(NewCommentSchema)
@blp.response(201, CommentSchema)
@blp.problems(401, 403, 404, *BODY)
def add_comment(body, task_id):
    """Comment on a task (whoever may read it, auditors excepted)"""
    return comments.add_comment(request_uow(), current_actor(), str(task_id), body["text"]), 201
