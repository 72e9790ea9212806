"""A task's page: its instructions, its form (from the task's JSON Schema), its evidence
and comments; claiming, giving back and completing it."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from picycle.api.context import request_uow
from picycle.engine.actors import may_work
from picycle.engine.errors import Conflict, ValidationFailed
from picycle.engine.services import comments, evidence, tasks
from picycle.engine.vocabulary import TaskState

from .. import forms
from ..blueprint import blueprint
from ..context import signed_in
from ..engine_messages import say, say_all
from ..i18n import gettext as _
from ..redirects import local_target
from ..rendering import process_texts, render

TASK = "/tasks/<uuid:task_id>"


def task_page(
    task_id: str,
    *,
    data=None,
    errors=None,
    comment="",
    comment_errors=(),
    evidence_errors=(),
    notice=None,
    status=200,
):
    """The task's page as it now is; ``data`` and ``errors`` when a posted form is shown
    again, ``notice`` to say why."""
    uow, actor = request_uow(), signed_in()
    task = tasks.get_task(uow, actor, task_id)
    is_open = task.state == TaskState.OPEN
    process_text = process_texts([task.cycle_id])

    def text(source):
        return process_text(task.cycle_id, source)

    form = None
    if task.form_schema is not None:
        shown = (
            task.form_data
            if data is None
            else forms.posted_again(task.form_schema, task.form_data, data)
        )
        form = forms.build(task.form_schema, shown, errors or {}, text)
    return render(
        "task.html",
        status,
        task=task,
        form=form,
        workable=is_open and may_work(actor, task),
        comments=comments.list_comments(uow, actor, task_id),
        comment=comment,
        comment_errors=comment_errors,
        evidence=evidence.list_evidence(uow, actor, task_id),
        evidence_errors=evidence_errors,
        evidence_limit=uow.engine.evidence.max_bytes,
        notice=notice,
        now=uow.now,
        text=text,
        process_text=process_text,
    )


@blueprint.get(TASK)
def task(task_id):
    return task_page(str(task_id))


@blueprint.post(TASK)
def complete(task_id):
    """Complete the task with the form; or, for an add-row or remove-row button, show the
    form again with the rows changed and nothing saved."""
    task_id = str(task_id)
    uow, actor = request_uow(), signed_in()
    schema = tasks.get_task(uow, actor, task_id).form_schema or {}
    add, remove = request.form.get("add_row"), request.form.get("remove_row")
    if add or remove:
        data, problems = forms.parse(schema, request.form, keep_blank_rows=True)
        forms.change_rows(data, add, remove)
        return task_page(task_id, data=data)
    data, problems = forms.parse(schema, request.form)
    try:
        tasks.complete_task(uow, actor, task_id, data)
    except ValidationFailed as refused:
        uow.rollback()
        errors = {**say_all(refused.errors), **problems} or {"data": [say(refused)]}
        notice = _("Nothing was saved. Correct the fields marked below.")
        return task_page(task_id, data=data, errors=errors, notice=notice, status=422)
    except Conflict as conflict:
        uow.rollback()
        notice = _("Someone else completed this task, or holds it now. Nothing was saved.")
        return task_page(task_id, notice=notice, errors={"data": [say(conflict)]}, status=409)
    flash(_("Task completed."))
    return redirect(url_for("picycle_pages.inbox"))


def _back(task_id: str):
    default = url_for("picycle_pages.task", task_id=task_id)
    return redirect(local_target(request.form.get("next"), default))


@blueprint.post(f"{TASK}/claim")
def claim(task_id):
    tasks.claim_task(request_uow(), signed_in(), str(task_id))
    flash(_("You hold this task now."))
    return _back(str(task_id))


@blueprint.post(f"{TASK}/unclaim")
def unclaim(task_id):
    tasks.unclaim_task(request_uow(), signed_in(), str(task_id))
    flash(_("The task is back with its group."))
    return _back(str(task_id))


@blueprint.post(f"{TASK}/comments")
def comment(task_id):
    task_id = str(task_id)
    uow = request_uow()
    text = request.form.get("text", "").replace("\x00", "")  # no database stores it
    try:
        comments.add_comment(uow, signed_in(), task_id, text)
    except ValidationFailed as refused:
        uow.rollback()
        messages = [m for ms in say_all(refused.errors).values() for m in ms] or [say(refused)]
        return task_page(task_id, comment=text, comment_errors=messages, status=422)
    return redirect(url_for("picycle_pages.task", task_id=task_id, _anchor="comments"))
