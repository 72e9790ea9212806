"""Reading an uploaded bundle of model files from the request: multipart parts named
``files`` (each part's filename its path in the bundle), one ``archive`` part (a zip), or a
whole ``application/zip`` body. Used by the API and by the pages' model editor."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from picycle.engine.bundles import MAX_FILES, read_zip
from picycle.engine.errors import InvalidModel, ValidationFailed
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from .context import picycle

MAX_FORM_FIELD = 500_000  # a non-file multipart field (none is expected); Flask's default
ZIP_TYPES = ("application/zip", "application/x-zip-compressed")
MULTIPART = "multipart/form-data"


@dataclass(frozen=True)
class Upload:
    files: dict[str, bytes]
    archive: bool  # a whole bundle zipped, rather than files one by one


def uploaded_bundle(also: frozenset[str] = frozenset()) -> Upload:
    """The files of the upload, names checked; ``also``: other form fields the caller reads
    itself (any other field is refused as unknown)."""
    limit = picycle().max_upload_length
    request.max_form_memory_size = MAX_FORM_FIELD
    request.max_form_parts = MAX_FILES + 10
    try:
        if request.mimetype == MULTIPART:
            return _from_parts(also)
        if request.mimetype in ZIP_TYPES:
            return Upload(_from_zip(request.get_data(cache=False)), archive=True)
    except RequestEntityTooLarge as error:
        raise RequestEntityTooLarge(
            f"the upload is larger than {limit:,} bytes, the limit for bundles "
            f"(or has more than {MAX_FILES} parts)"
        ) from error
    raise UnsupportedMediaType(
        "send the bundle as multipart/form-data (parts named files, or one named archive) "
        f"or as application/zip, not {request.mimetype or 'untyped'}"
    )


def _from_parts(also: frozenset[str]) -> Upload:
    errors: dict[str, list[str]] = {}
    for field in request.form:
        if field == "files":
            errors.setdefault("files", []).append(
                "each files part needs a filename: the file's path in the bundle"
            )
        elif field not in also:
            errors.setdefault(field, []).append("Unknown field.")
    for field in request.files:
        if field not in ("files", "archive"):
            errors.setdefault(field, []).append("Unknown field.")
    parts = request.files.getlist("files")
    archives = request.files.getlist("archive")
    if parts and archives:
        errors.setdefault("body", []).append("send either files or one archive, not both")
    elif len(archives) > 1:
        errors.setdefault("archive", []).append("send one archive")
    elif not parts and not archives and not errors:
        errors["body"] = ["the bundle is empty: send its files (parts named files) or an archive"]
    if errors:
        raise ValidationFailed("the upload is not a bundle; see errors", errors)
    if archives:
        return Upload(_from_zip(archives[0].read()), archive=True)
    found: dict[str, bytes] = {}
    faults: list[dict] = []
    for part in parts:
        name = part.filename or ""
        if name in found:
            faults.append(fault(name, "is in the upload twice"))
        found[name] = part.read()
    if faults:
        raise InvalidModel(f"the upload has {len(faults)} problem(s); nothing was deployed", faults)
    return Upload(found, archive=False)


def _from_zip(content: bytes) -> dict[str, bytes]:
    try:
        return read_zip(content, picycle().engine.limits)
    except ValidationFailed as error:
        faults = [fault(file, m) for file, messages in error.errors.items() for m in messages]
        raise InvalidModel(str(error), faults) from error


def fault(file: str, message: str) -> dict:
    """A problem with a file of the upload, as the validator lists problems."""
    return {"severity": "error", "file": file, "line": None, "element_id": None, "message": message}
