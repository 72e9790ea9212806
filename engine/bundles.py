"""Reading a bundle of model files (BPMN, DMN, JSON Schema forms) from a folder."""

from __future__ import annotations

import io
import zipfile
from importlib.resources import files
from pathlib import Path, PurePosixPath

from .errors import ValidationFailed

MODEL_SUFFIXES = (".bpmn", ".dmn", ".json")


def read_bundle(folder: Path) -> dict[str, bytes]:
    """Files keyed by their path relative to ``folder`` (``forms/x.schema.json``)."""
    if not folder.is_dir():
        raise ValidationFailed(f"{folder} is not a folder", {"path": ["not a folder"]})
    bundle = {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.suffix in MODEL_SUFFIXES
    }
    if not any(name.endswith(".bpmn") for name in bundle):
        raise ValidationFailed(f"{folder} holds no .bpmn file", {"path": ["no .bpmn file"]})
    return bundle


MAX_ARCHIVE_FILES = 500
MAX_ARCHIVE_BYTES = 20 * 1024 * 1024


def read_zip(content: bytes) -> dict[str, bytes]:
    """The model files of a zip archive, refusing paths that climb out of it (zip slip),
    absolute paths and archives that unpack too large (zip bombs)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, ValueError) as error:
        message = f"not a readable zip archive: {error}"
        raise ValidationFailed(message, {"file": [str(error)]}) from error
    if len(members) > MAX_ARCHIVE_FILES:
        raise ValidationFailed(
            "the archive holds too many files", {"file": [f"at most {MAX_ARCHIVE_FILES} files"]}
        )
    if sum(m.file_size for m in members) > MAX_ARCHIVE_BYTES:
        raise ValidationFailed(
            "the archive unpacks to more than 20 MB", {"file": ["at most 20 MB unpacked"]}
        )
    bundle = {}
    for member in members:
        path = PurePosixPath(member.filename)
        if path.is_absolute() or ".." in path.parts or "\\" in member.filename:
            raise ValidationFailed(
                f"unsafe path in archive: {member.filename}",
                {member.filename: ["paths must stay inside the archive"]},
            )
        if path.suffix in MODEL_SUFFIXES:
            try:
                bundle[path.as_posix()] = archive.read(member)
            except (zipfile.BadZipFile, RuntimeError, ValueError, EOFError, OSError) as error:
                # Damaged data, a wrong checksum, an encrypted member.
                message = f"{member.filename} cannot be unpacked: {error}"
                raise ValidationFailed(message, {member.filename: [str(error)]}) from error
    return bundle


def shipped_processes() -> Path:
    """The process definitions that ship with picycle."""
    return Path(str(files("processes")))
