"""A task's form as text a user can fill in from: every field (nested ones too) with its
type, whether it is required, its choices and limits, and an example ``--data``.

The example's placeholders never pass the form's checks ("", null, "a|b"), so a value
left unfilled is refused rather than recorded."""

from __future__ import annotations

import json
from typing import Any

import click
from picycle.engine.read_models import TaskDetail

from .render import echo, shown

INDENT = "  "


def print_form(task: TaskDetail) -> None:
    if task.form_name is None:
        click.echo("  no form: complete it with --data '{}'")
        return
    schema = task.form_schema or {}
    echo(f"  form: {shown(schema.get('title', task.form_name))} ({shown(task.form_name)})")
    if schema.get("description"):
        echo(f"    {shown(schema['description'])}")
    for line in field_lines(schema, task.form_data, depth=2):
        echo(line)
    click.echo("  example --data (fill in the values; give it inline or as @FILE):")
    for line in json.dumps(example(schema, task.form_data), indent=2).splitlines():
        click.echo(f"    {line}")


def field_lines(schema: dict, values: Any, depth: int) -> list[str]:
    """Two lines per field (what to give, then what it means), nested fields under theirs."""
    lines = []
    required = set(schema.get("required", []))
    values = values if isinstance(values, dict) else {}
    for name, field in schema.get("properties", {}).items():
        title = f": {shown(field['title'])}" if field.get("title") else ""
        now = _starting(values[name]) if name in values else ""
        lines.append(
            f"{INDENT * depth}{shown(name)}{title}  "
            f"[{shown(', '.join(_facts(field, name in required)))}]{now}"
        )
        if field.get("description"):
            lines.append(f"{INDENT * (depth + 2)}{shown(field['description'])}")
        inner = field.get("items", {}) if field.get("type") == "array" else field
        if inner.get("properties"):
            lines += field_lines(inner, None, depth + 1)
    return lines


def _facts(field: dict, required: bool) -> list[str]:
    facts = ["required", _kind(field)] if required else [_kind(field)]
    if field.get("readOnly"):
        facts.append("read-only")
    facts += _limits(field)
    if "default" in field:
        facts.append(f"default {json.dumps(field['default'])}")
    return facts


def _kind(field: dict) -> str:
    if "enum" in field:
        return "one of: " + ", ".join(str(choice) for choice in field["enum"])
    if "const" in field:
        return f"always {json.dumps(field['const'])}"
    kind = field.get("type")
    if kind == "array":
        items = field.get("items", {})
        return f"list of {items.get('title') or _kind(items)}"
    if kind == "string" and field.get("format") == "date":
        return "date YYYY-MM-DD"
    if kind == "string" and field.get("format"):
        return f"text ({field['format']})"
    names = {"string": "text", "integer": "whole number", "boolean": "true or false"}
    return names.get(kind, kind or "any value")


def _limits(field: dict) -> list[str]:
    return [
        text
        for text in (
            _range(field.get("minLength"), field.get("maxLength"), "characters"),
            _range(field.get("minimum"), field.get("maximum"), ""),
            _range(field.get("minItems"), field.get("maxItems"), "items"),
            f"like {field['pattern']}" if "pattern" in field else None,
        )
        if text
    ]


def _range(low, high, unit: str) -> str | None:
    if unit == "characters" and low == 1 and high is None:
        return "not empty"
    noun = (
        ""
        if not unit
        else f" {unit}"
        if (high if high is not None else low) != 1
        else f" {unit[:-1]}"
    )
    if low is not None and high is not None:
        return f"{low} to {high}{noun}"
    if low is not None:
        return f"at least {low}{noun}"
    if high is not None:
        return f"at most {high}{noun}"
    return None


def _starting(value: Any) -> str:
    if isinstance(value, list):
        return f" starts with {len(value)} (see the example)"
    if isinstance(value, dict):
        return " starts filled in (see the example)"
    return f" = {shown(json.dumps(value, ensure_ascii=False))}"


def example(schema: dict, values: Any, every: bool = False) -> dict:
    """The data to fill in: the writable fields that are required or start with a value
    (``every``: all of them), starting values kept, placeholders elsewhere."""
    values = values if isinstance(values, dict) else {}
    required = set(schema.get("required", []))
    filled = {}
    for name, field in schema.get("properties", {}).items():
        if field.get("readOnly") or not (every or name in required or name in values):
            continue
        filled[name] = _completed(field, values[name]) if name in values else _placeholder(field)
    return filled


def _completed(field: dict, value: Any) -> Any:
    """A starting value, with placeholders for the fields its rows still lack (every
    writable one: a row starts with what the process filled in, the rest is the user's)."""
    items = field.get("items", {})
    if field.get("type") == "array" and items.get("properties") and isinstance(value, list):
        return [
            {**row, **example(items, row, every=True)} if isinstance(row, dict) else row
            for row in value
        ]
    if field.get("type") == "object" and isinstance(value, dict):
        return {**value, **example(field, value)}
    return value


def _placeholder(field: dict) -> Any:
    if "enum" in field:
        return "|".join(str(choice) for choice in field["enum"])
    kind = field.get("type")
    if kind == "object":
        return example(field, None)
    if kind == "array":
        return [_placeholder(field.get("items", {}))]
    if kind == "string":
        return "YYYY-MM-DD" if field.get("format") == "date" else ""
    return None
