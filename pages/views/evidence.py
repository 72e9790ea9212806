"""Evidence on a task's page: attaching a file with a plain form post, downloading one."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from picycle.api.context import request_uow, takes_evidence
from picycle.api.downloads import evidence_download
from picycle.engine.errors import ValidationFailed
from picycle.engine.services import evidence

from ..blueprint import blueprint
from ..context import signed_in
from ..i18n import gettext as _
from .tasks import TASK, task_page

EVIDENCE = f"{TASK}/evidence"


@blueprint.post(EVIDENCE)
@takes_evidence
def attach_evidence(task_id):
    task_id = str(task_id)
    uow, actor = request_uow(), signed_in()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return task_page(task_id, evidence_errors=[_("Choose a file to attach.")], status=422)
    try:
        evidence.attach_evidence(uow, actor, task_id, upload.filename, upload.stream)
    except ValidationFailed as refused:
        uow.rollback()
        why = [m for ms in refused.errors.values() for m in ms] or [str(refused)]
        return task_page(
            task_id, evidence_errors=[_("The file was not attached."), *why], status=422
        )
    flash(_("The file is attached."))
    return redirect(url_for("picycle_pages.task", task_id=task_id, _anchor="evidence"))


@blueprint.get(f"{EVIDENCE}/<int(min=1, max=2147483647):evidence_id>")
def evidence_file(task_id, evidence_id: int):
    found = evidence.open_evidence(request_uow(), signed_in(), str(task_id), evidence_id)
    return evidence_download(found)
