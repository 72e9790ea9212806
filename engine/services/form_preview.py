"""A form's JSON Schema checked as deploying it would check it, for the modeler's live
preview: the schema to draw, or what is wrong with it, each fault with its line where
known."""

from __future__ import annotations

from typing import Any

from ..errors import ValidationFailed
from ..forms import parse_form
from ..spiff.validation.documents import FORMS_FOLDER
from ..spiff.validation.model import FormFaults

PREVIEW_NAME = FORMS_FOLDER + "preview.schema.json"


def checked_schema(text: str) -> dict[str, Any]:
    """The schema in ``text``; ValidationFailed says what is wrong with it."""
    return parse_form(PREVIEW_NAME, text).schema


def faults(refused: ValidationFailed) -> list[tuple[int | None, str]]:
    """What ``checked_schema`` refused, as (line or None, message) pairs."""
    if isinstance(refused, FormFaults):
        return list(refused.faults)
    return [(None, m) for ms in refused.errors.values() for m in ms] or [(None, str(refused))]
