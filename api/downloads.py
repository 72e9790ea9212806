"""Files to save: a text named after what it holds and when it was made; an evidence
file as it was attached."""

from __future__ import annotations

import io

from flask import current_app, send_file
from picycle.engine.read_models import EvidenceFile

from .context import request_uow


def csv_download(text: str, name: str):
    stamp = request_uow().now.strftime("%Y%m%dT%H%M%SZ")
    response = current_app.response_class(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename={name}-{stamp}.csv"
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
