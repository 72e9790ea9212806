"""A text or a document answered as a file to save, named after what it holds (and, for
a CSV, when it was made)."""

from __future__ import annotations

from flask import current_app

from .context import request_uow


def csv_download(text: str, name: str):
    stamp = request_uow().now.strftime("%Y%m%dT%H%M%SZ")
    response = current_app.response_class(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename={name}-{stamp}.csv"
    return response


def pdf_download(document: bytes, name: str):
    response = current_app.response_class(document, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"attachment; filename={name}.pdf"
    return response
