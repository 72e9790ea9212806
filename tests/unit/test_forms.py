"""Form validation reports per field, drops read-only fields and refuses bad schemas."""

from __future__ import annotations

import json

import pytest
from picycle.engine.errors import ValidationFailed
from picycle.engine.forms import parse_form

SCHEMA = {
    "type": "object",
    "properties": {
        "approved": {"type": "boolean"},
        "comment": {"type": "string"},
        "approval_comment": {"type": "string", "readOnly": True},
        "due": {"type": "string", "format": "date"},
    },
    "required": ["approved", "comment"],
    "additionalProperties": False,
}
FORM = parse_form("approval.schema.json", json.dumps(SCHEMA))


def test_valid_data_is_accepted_without_read_only_fields():
    accepted = FORM.accept({"approved": True, "comment": "ok", "approval_comment": "old"})
    assert accepted == {"approved": True, "comment": "ok"}


def test_each_problem_is_reported_under_its_field():
    with pytest.raises(ValidationFailed) as refused:
        FORM.accept({"approved": "yes", "due": "31/12/2026", "colour": "red"})
    assert refused.value.errors == {
        "approved": ["'yes' is not of type 'boolean'"],
        "due": ["'31/12/2026' is not a 'date'"],
        "colour": ["unknown field; remove it"],
        "comment": ["this field is required"],
    }


def test_the_starting_data_holds_only_the_forms_fields():
    task_data = {"approval_comment": "Too vague", "approved": False, "unit": "Planning"}
    assert FORM.starting_data(task_data) == {"approval_comment": "Too vague", "approved": False}


@pytest.mark.parametrize("text", ["{not json", json.dumps({"type": "objekt"})])
def test_a_broken_schema_is_refused_with_the_file_named(text):
    with pytest.raises(ValidationFailed) as refused:
        parse_form("broken.schema.json", text)
    assert list(refused.value.errors) == ["broken.schema.json"]
