"""Evidence: files attached to a task (uploaded as multipart), listed and downloaded."""

from __future__ import annotations

from flask import request
from picycle.engine.errors import ValidationFailed
from picycle.engine.read_models import MAX_ID
from picycle.engine.services import evidence
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from ..context import current_actor, picycle, request_uow, takes_evidence
from ..downloads import evidence_download
from ..parsing import PicycleBlueprint
from ..schemas import EvidenceListSchema, EvidenceSchema

blp = PicycleBlueprint("evidence", __name__, description="Files attached to tasks as evidence")

TASK_EVIDENCE = "/<uuid:task_id>/evidence"
MULTIPART = "multipart/form-data"
UPLOAD_BODY = {
    "required": True,
    "description": (
        "The file, as a multipart part named `file` whose filename is the file's name. Its "
        "type is judged by its content: PDF, PNG, JPEG, GIF, WebP, HEIC, Office and "
        "OpenDocument files, or UTF-8 text (CSV). At most 20 MiB unless configured "
        "otherwise (PICYCLE_EVIDENCE_MAX_BYTES): a larger body is refused (413) before it "
        "is read."
    ),
    "content": {
        MULTIPART: {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
                "additionalProperties": False,
            }
        }
    },
}
FILE_RESPONSE = {
    "description": "The file as attached: its stored type, `Content-Disposition: attachment` "
    "with its name, `X-Content-Type-Options: nosniff`",
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}


@blp.route(TASK_EVIDENCE, methods=["POST"])
@takes_evidence
@blp.response(201, EvidenceSchema)
@blp.doc(requestBody=UPLOAD_BODY)
@blp.problems(401, 403, 404, 400, 413, 415, 422)
def attach(task_id):
    """Attach a file to a task as evidence (whoever may read it, auditors excepted)

    The file's name, size, type and SHA-256 go into the audit trail (`evidence_attached`)
    and its exports. 422 names the `file` when it is empty, over the limit, of a type not
    kept (judged by its content, whatever its name), or attached to the task already;
    nothing changes. Evidence is part of the record: it cannot be removed.
    """
    uow, actor = request_uow(), current_actor()
    evidence.may_attach(uow, actor, str(task_id))  # before reading any of the body
    upload = _uploaded_file()
    attached = evidence.attach_evidence(uow, actor, str(task_id), upload.filename, upload.stream)
    return attached, 201


def _uploaded_file() -> FileStorage:
    if request.mimetype != MULTIPART:
        raise UnsupportedMediaType(
            f"send the file as {MULTIPART}, a part named file, not {request.mimetype or 'untyped'}"
        )
    limit = picycle().engine.evidence.max_bytes
    try:
        errors = {field: ["Unknown field."] for field in {*request.form, *request.files} - {"file"}}
    except RequestEntityTooLarge as error:
        raise RequestEntityTooLarge(
            f"the upload is larger than {limit:,} bytes, the limit for evidence"
        ) from error
    files = request.files.getlist("file")
    if len(files) != 1:
        errors["file"] = ["send one file, as a part named file with a filename"]
    if errors:
        raise ValidationFailed("the upload is not one evidence file; see errors", errors)
    return files[0]


@blp.route(TASK_EVIDENCE, methods=["GET"])
@blp.response(200, EvidenceListSchema)
@blp.problems(401, 403, 404)
def list_evidence(task_id):
    """The task's evidence, oldest first (whoever may read the task)"""
    return {"items": evidence.list_evidence(request_uow(), current_actor(), str(task_id))}


@blp.route(f"{TASK_EVIDENCE}/<int(min=1, max={MAX_ID}):evidence_id>", methods=["GET"])
@blp.doc(responses={"200": FILE_RESPONSE})
@blp.problems(401, 403, 404, 409)
def download(task_id, evidence_id):
    """Download an evidence file (whoever may read the task)

    409 when the stored file is missing or no longer has the SHA-256 recorded when it was
    attached: it is not served (`picycle audit verify` lists such files).
    """
    found = evidence.open_evidence(request_uow(), current_actor(), str(task_id), evidence_id)
    return evidence_download(found)
