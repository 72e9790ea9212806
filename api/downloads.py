"""Files to save: a text or a document named after what it holds (and, for the CSV and
the audit export, when it was made); an evidence file as it was attached."""

from __future__ import annotations

import io
from collections.abc import Iterator

from flask import current_app, send_file, stream_with_context
from picycle.engine.read_models import EvidenceFile
from picycle.engine.services import audit

from .context import current_actor, keep_request_uow_open, request_uow


def csv_download(text: str, name: str):
    stamp = request_uow().now.strftime("%Y%m%dT%H%M%SZ")
    response = current_app.response_class(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename={name}-{stamp}.csv"
    return response


def pdf_download(document: bytes, name: str):
    response = current_app.response_class(document, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"attachment; filename={name}.pdf"
    return response


def audit_export(filters: audit.EventFilter, format: str):
    """The matching events as a file, streamed from a server-side cursor in the request's
    unit of work, which stays open until the last byte is sent or the response is closed.
    The query (and the permission check) has run before: a refusal or a database error is
    an error answer, not a broken download."""
    uow = request_uow()
    exported = audit.export_events(uow, current_actor(), filters, format)
    stamp = uow.now.strftime("%Y%m%dT%H%M%SZ")
    end_uow = keep_request_uow_open()

    def close() -> None:
        try:
            exported.chunks.close()  # the cursor first, then the unit of work
        finally:
            end_uow()

    def body() -> Iterator[str]:
        try:
            yield from exported.chunks
        finally:
            close()

    response = current_app.response_class(stream_with_context(body()), mimetype=exported.media_type)
    response.call_on_close(close)  # also when the body is never read
    response.headers["Content-Disposition"] = (
        f"attachment; filename=audit-events-{stamp}.{exported.extension}"
    )
    return response


# An uploaded file is served as what its content was judged to be, to be saved, never
# shown: no browser guesses another type, and nothing in it runs or loads in picycle's
# origin (an HTML or SVG file would otherwise).
FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


def evidence_download(found: EvidenceFile):
    response = send_file(
        io.BytesIO(found.content),
        mimetype=found.evidence.media_type,
        as_attachment=True,
        download_name=found.evidence.name,
        etag=found.evidence.sha256,
    )
    response.headers.update(FILE_HEADERS)
    return response
