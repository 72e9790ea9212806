"""Reading a bundle of model files (BPMN, DMN, JSON Schema forms) from a folder."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

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


def shipped_processes() -> Path:
    """The process definitions that ship with picycle."""
    return Path(str(files("processes")))
