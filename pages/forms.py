"""A task's form, rendered on the server from its JSON Schema, and the posted fields read
back into JSON by the same schema.

Every input is named by its field's path (``indicators.0.target``), the same path the
engine's validation errors name, so each message lands beside its field. Arrays are rows
the user can add and remove with plain submit buttons; a read-only field inside a row is
shown and sent back unchanged (the row's schema requires it); read-only fields at the top
are context, shown and not sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .i18n import gettext as _
from .numbers import whole_number

MISSING: Any = object()
LONG_TEXT = 200  # longer strings get a text area
LAST_ROW_INDEX = 10**9 - 1
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


@dataclass
class Field:
    path: str
    label: str
    description: str | None
    kind: str  # text, textarea, number, integer, date, choice, check, rows, group, shown
    value: Any = None
    required: bool = False
    errors: list[str] = field(default_factory=list)
    options: tuple[tuple[str, str], ...] = ()  # (value, label) of each choice
    children: list[Field] = field(default_factory=list)
    resizable: bool = False  # rows: the user adds and removes them

    @property
    def id(self) -> str:
        return "f-" + self.path.replace(".", "-")

    @property
    def shown_value(self) -> str:
        if self.value is None or self.value is MISSING:
            return ""
        if isinstance(self.value, bool):
            return "true" if self.value else ""
        if isinstance(self.value, float) and self.value.is_integer():
            return str(int(self.value))
        if isinstance(self.value, dict | list):
            return json.dumps(self.value, ensure_ascii=False)
        return str(self.value)


@dataclass
class FormView:
    fields: list[Field]
    context: list[tuple[str, Any, dict[str, Any]]]  # (label, value, schema) shown above
    errors: dict[str, list[str]]  # every error, for the summary
    stray: dict[str, list[str]]  # errors no field shows

    def label_of(self, path: str) -> str:
        """What the summary calls the field at ``path``: its label, and its row's."""
        names = dict(_labels(self.fields, ""))
        return names.get(path, path)


def _labels(fields: list[Field], within: str):
    for made in fields:
        named = f"{within}{made.label}"
        yield made.path, named
        for number, child in enumerate(made.children, 1):
            if made.kind == "rows":
                row = _("%(what)s, row %(number)s", what=made.label, number=number)
                yield child.path, f"{within}{row}"
                inner = child.children if child.kind == "group" else []
                yield from _labels(inner, f"{within}{row}: ")
            else:
                yield from _labels([child], f"{named}: ")


def _type(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return kind


def build(
    schema: Mapping[str, Any],
    data: Mapping[str, Any],
    errors: Mapping[str, list[str]],
    text: Callable[[str], str],
) -> FormView:
    """The fields to render with ``data`` in them and each of ``errors`` beside its field;
    ``text`` gives the form's titles, descriptions and choices in the reader's language."""
    left = {path: list(messages) for path, messages in errors.items()}
    required = set(schema.get("required", ()))
    fields, context = [], []
    for name, prop in schema.get("properties", {}).items():
        if prop.get("readOnly"):
            if data.get(name) not in (None, "", []):
                context.append((text(prop.get("title", name)), data[name], prop))
            continue
        fields.append(_field(prop, name, data.get(name, MISSING), name in required, left, text))
    return FormView(fields, context, dict(errors), left)


def posted_again(
    schema: Mapping[str, Any], stored: Mapping[str, Any], posted: Mapping[str, Any]
) -> dict[str, Any]:
    """What a form shown again after a post holds: the posted fields, and the read-only
    ones at the top from the task's data, as the page showed them (they are not sent)."""
    properties = schema.get("properties", {})
    kept = {
        name: value for name, value in stored.items() if properties.get(name, {}).get("readOnly")
    }
    return {**kept, **posted}


def _field(schema, path, value, required, errors, text) -> Field:
    kind = _type(schema)
    found = errors.pop(path, [])
    made = Field(
        path=path,
        label=text(schema.get("title", path.rsplit(".", 1)[-1])),
        description=text(schema.get("description")),
        kind=kind,
        value=value,
        required=required,
        errors=found,
    )
    if schema.get("readOnly"):
        made.kind = "shown"
    elif "enum" in schema:
        made.kind = "choice"
        made.options = tuple((str(option), str(text(option))) for option in schema["enum"])
    elif kind == "boolean":
        made.kind = "check"
    elif kind == "string":
        long = schema.get("maxLength", LONG_TEXT + 1) > LONG_TEXT
        made.kind = "date" if schema.get("format") == "date" else "textarea" if long else "text"
    if kind == "array" and made.kind != "shown":
        items = schema.get("items", {})
        rows = value if isinstance(value, list) else []
        made.kind = "rows"
        # Rows with read-only parts come from the cycle (gaps): they are not added or removed.
        made.resizable = not any(p.get("readOnly") for p in items.get("properties", {}).values())
        if not rows and made.resizable:
            rows = [None]  # one row to start from; left empty, it is not sent
        made.children = [
            _field(items, f"{path}.{index}", row, True, errors, text)
            for index, row in enumerate(rows)
        ]
    elif kind == "object" and made.kind != "shown":
        made.kind = "group"
        inner = value if isinstance(value, dict) else {}
        needed = set(schema.get("required", ()))
        made.children = [
            _field(prop, f"{path}.{name}", inner.get(name, MISSING), name in needed, errors, text)
            for name, prop in schema.get("properties", {}).items()
        ]
    return made


def parse(
    schema: Mapping[str, Any], form: Mapping[str, str], keep_blank_rows: bool = False
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The JSON the posted fields make, and what could not be read (a number that is not
    one: it is kept as typed, so the page shows it again). Empty optional fields are left
    out; so are rows left wholly empty, unless ``keep_blank_rows`` (re-rendering the form)."""
    reader = _Reader(form, keep_blank_rows)
    data = {}
    for name, prop in schema.get("properties", {}).items():
        if prop.get("readOnly"):
            continue
        value = reader.read(prop, name)
        if value is not MISSING:
            data[name] = value
    return data, reader.problems


class _Reader:
    def __init__(self, form: Mapping[str, str], keep_blank_rows: bool):
        self.form = form
        self.keep_blank_rows = keep_blank_rows
        self.problems: dict[str, list[str]] = {}

    def read(self, schema, path: str) -> Any:
        kind = _type(schema)
        if kind == "array":
            return self._rows(schema.get("items", {}), path)
        if kind == "object":
            if schema.get("readOnly") and path in self.form:
                return self._json(path)
            found = {}
            for name, prop in schema.get("properties", {}).items():
                value = self.read(prop, f"{path}.{name}")
                if value is not MISSING:
                    found[name] = value
            return found or MISSING
        text = self.form.get(path, "")
        if "\x00" in text:  # no database stores it
            self.problems[path] = [_("Remove the NUL character.")]
            return text.replace("\x00", "")
        if kind == "boolean":
            return text in ("true", "on")
        if not text.strip():
            return MISSING
        if kind in ("number", "integer"):
            return self._number(text.strip(), path, kind == "integer")
        return text

    def _rows(self, items, path: str) -> Any:
        prefix = path + "."
        steps = (key[len(prefix) :].split(".", 1)[0] for key in self.form if key.startswith(prefix))
        found = (whole_number(step, LAST_ROW_INDEX) for step in steps)
        indexes = sorted({index for index in found if index is not None})
        if not indexes:
            return MISSING
        rows = []
        for index in indexes:
            row = self.read(items, f"{path}.{index}")
            if row is MISSING and not self.keep_blank_rows:
                continue
            rows.append(None if row is MISSING else row)
        return rows

    def _json(self, path: str) -> Any:
        try:
            return json.loads(self.form[path])
        except ValueError:
            return self.form[path]

    def _number(self, text: str, path: str, whole: bool) -> Any:
        if _DECIMAL_COMMA.match(text):
            text = text.replace(",", ".")  # 55,5 as Dutch and Arabic write it
        try:
            number = float(text)  # also Arabic-Indic digits
        except ValueError:
            number = None
        if number is None or number != number or number in (float("inf"), float("-inf")):
            self.problems[path] = [_("Enter a number.")]
            return text
        if number.is_integer() and ("." not in text and "e" not in text.lower() or whole):
            return int(number)
        if whole:
            self.problems[path] = [_("Enter a whole number.")]
            return text
        return number


def change_rows(data: dict[str, Any], add: str | None, remove: str | None) -> None:
    """Add an empty row to the array at path ``add``, or remove the row at path ``remove``
    (``indicators.2``); a path that names nothing changes nothing."""
    if add:
        rows = _at(data, add.split("."), create=True)
        if isinstance(rows, list):
            rows.append(None)  # an empty row, whatever its items are
    if remove:
        *where, index = remove.split(".")
        rows = _at(data, where)
        if isinstance(rows, list) and (row := whole_number(index, len(rows) - 1)) is not None:
            del rows[row]


def _at(data: Any, steps: list[str], create: bool = False) -> Any:
    for position, step in enumerate(steps):
        if isinstance(data, list) and (index := whole_number(step, len(data) - 1)) is not None:
            data = data[index]
        elif isinstance(data, dict):
            if step not in data and create and position == len(steps) - 1:
                data[step] = []
            data = data.get(step)
        else:
            return None
    return data
