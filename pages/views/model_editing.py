"""What the modeler asks the server while an admin edits: a form's preview, drawn by the
same renderer as the task page, from the JSON Schema being typed."""

from __future__ import annotations

from flask import request
from picycle.engine.errors import ValidationFailed
from picycle.engine.forms import parse_form
from picycle.engine.spiff.validation.documents import FORMS_FOLDER
from picycle.engine.spiff.validation.model import FormFaults

from .. import forms
from ..blueprint import blueprint
from ..i18n import gettext
from ..rendering import render
from .models import _admin

PREVIEW_NAME = FORMS_FOLDER + "preview.schema.json"


@blueprint.post("/models/form-preview")
def form_preview():
    """The form as users will see it, or what is wrong with its schema (422): a fragment
    of HTML for the editor to show beside the schema."""
    _admin()
    text = request.form.get("schema", "")
    try:
        schema = parse_form(PREVIEW_NAME, text).schema
    except ValidationFailed as refused:
        return render("_form_preview.html", 422, form=None, problems=_messages(refused))
    form = forms.build(schema, {}, {})
    return render("_form_preview.html", form=form, form_title=schema.get("title"), problems=[])


def _messages(refused: ValidationFailed) -> list[str]:
    """What is wrong with the schema, with its line where known."""
    if isinstance(refused, FormFaults):
        return [
            gettext("Line %(line)s: %(message)s", line=line, message=message) if line else message
            for line, message in refused.faults
        ]
    return [m for ms in refused.errors.values() for m in ms] or [str(refused)]
