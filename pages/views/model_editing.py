"""What the modeler asks the server while an admin edits: a form's preview, drawn by the
same renderer as the task page, from the JSON Schema being typed; a decision table as an
HTML table, and its edited cells written back into the DMN file."""

from __future__ import annotations

from flask import jsonify, request
from picycle.engine.decision_table_edits import read_table, write_table
from picycle.engine.errors import ValidationFailed
from picycle.engine.services import form_preview as schema_preview

from .. import decision_form, forms
from ..blueprint import blueprint
from ..i18n import gettext
from ..rendering import render
from .models import _admin


@blueprint.post("/models/form-preview")
def form_preview():
    """The form as users will see it, or what is wrong with its schema (422): a fragment
    of HTML for the editor to show beside the schema."""
    _admin()
    text = request.form.get("schema", "")
    try:
        schema = schema_preview.checked_schema(text)
    except ValidationFailed as refused:
        return render("_form_preview.html", 422, form=None, problems=_messages(refused))
    # The model's own words: its translations are deployed with the bundle, not edited here.
    form = forms.build(schema, {}, {}, _as_written)
    return render("_form_preview.html", form=form, form_title=schema.get("title"), problems=[])


def _as_written(source):
    """A text of the form as the schema has it (no description stays none, not "None")."""
    return source


def _messages(refused: ValidationFailed) -> list[str]:
    """What is wrong with the schema, with its line where known."""
    return [
        gettext("Line %(line)s: %(message)s", line=line, message=message) if line else message
        for line, message in schema_preview.faults(refused)
    ]


@blueprint.post("/models/decision-table")
def decision_table():
    """A DMN file's decision table as an HTML table to edit, and the file with the posted
    cells written back (``rules``: how many rows were posted; ``add_rule``, ``remove_rule``:
    a row to add at the end or to remove). JSON: the file's new text and the table."""
    _admin()
    content = request.form.get("dmn", "").encode("utf-8", "replace")
    try:
        table = read_table(content)
        if "rules" in request.form:
            table = decision_form.posted(table, request.form)
        xml = write_table(content, table).decode("utf-8")
    except ValidationFailed as refused:
        messages = [m for ms in refused.errors.values() for m in ms]
        html, _status = render("_decision_table.html", 422, table=None, problems=messages)
        return jsonify(xml=None, html=html), 422
    html, _status = render("_decision_table.html", table=table, problems=[])
    return jsonify(xml=xml, html=html)
