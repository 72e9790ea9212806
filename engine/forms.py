"""Task forms: JSON Schema validation with per-field messages, and a form's starting data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import SchemaError, ValidationError
from referencing import Registry

from . import patterns
from .errors import Message, ValidationFailed
from .form_checks import form_faults
from .spiff.validation.model import FormFaults


def _pattern(validator, pattern, instance, schema):
    """jsonschema's pattern keyword, matched by RE2."""
    if validator.is_type(instance, "string") and not patterns.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_Validator = validators.extend(Draft202012Validator, {"pattern": _pattern})
_FORMATS = FormatChecker()
_FORMATS.checks("regex", raises=patterns.PatternError)(patterns.compiles)
# References resolve within the form: nothing is ever fetched or read to resolve one.
_NOTHING_TO_RETRIEVE = Registry()


class Form:
    def __init__(self, name: str, schema: dict[str, Any]):
        self.name = name
        self.schema = schema
        self._validator = _Validator(schema, format_checker=_FORMATS, registry=_NOTHING_TO_RETRIEVE)

    @property
    def fields(self) -> dict[str, dict[str, Any]]:
        return self.schema.get("properties", {})

    def starting_data(self, task_data: dict[str, Any]) -> dict[str, Any]:
        return {name: task_data[name] for name in self.fields if name in task_data}

    def accept(self, data: dict[str, Any]) -> dict[str, Any]:
        """The submitted data, read-only fields dropped; or ValidationFailed per field."""
        errors = self._errors(data)
        if errors:
            raise ValidationFailed("the form data is not valid; see the fields listed", errors)
        return {k: v for k, v in data.items() if not self.fields.get(k, {}).get("readOnly")}

    def violations(self, partial: dict[str, Any]) -> dict[str, list[str]]:
        """What in data filled in so far breaks the form; fields still to fill are fine."""
        return self._errors(partial, skip_required=True)

    def _errors(self, data: dict[str, Any], skip_required: bool = False) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        for error in self._validator.iter_errors(data):
            if skip_required and error.validator == "required":
                continue
            for path, message in _describe(error):
                messages = errors.setdefault(path, [])
                if message not in messages:
                    messages.append(message)
        return errors


def _describe(error) -> Iterator[tuple[str, str]]:
    """(field path, message) pairs, naming the missing or unknown field itself."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        for name in error.validator_value:
            if isinstance(error.instance, dict) and name not in error.instance:
                yield ".".join([*path, name]), Message("this field is required", "required")
    elif error.validator == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        for name in sorted(set(error.instance) - known):
            yield ".".join([*path, name]), Message("unknown field; remove it", "unknown_field")
    else:
        # Coded by the schema keyword it breaks, with the keyword's value (a limit, a type).
        message = Message(error.message, f"schema_{error.validator}", limit=error.validator_value)
        yield ".".join(path) or "data", message


NOT_AN_OBJECT = (
    'a form is a JSON Schema object ({"type": "object", "properties": {...}}) naming its fields'
)


def parse_form(name: str, text: str | bytes) -> Form:
    """The form in a file; ValidationFailed (FormFaults, with lines, for what is wrong inside
    a valid schema) naming the file when it is not one picycle can run safely."""
    try:
        schema = json.loads(text)
        if not isinstance(schema, dict):
            raise ValidationFailed(f"{name}: {NOT_AN_OBJECT}", {name: [NOT_AN_OBJECT]})
        Draft202012Validator.check_schema(schema)
    except (ValueError, SchemaError) as error:
        message = f"not a valid JSON Schema: {getattr(error, 'message', error)}"
        raise ValidationFailed(f"{name}: {message}", {name: [message]}) from error
    source = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    faults = form_faults(source, schema)
    if faults:
        raise FormFaults(name, faults)
    return Form(name, schema)
