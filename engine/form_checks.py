"""What a form's JSON Schema may hold beyond being valid: references only within the form
itself (nothing is fetched from the network or read from disk, at deploy or at run time),
patterns that RE2 runs, named fields rather than patternProperties (whose matching
jsonschema runs on Python's backtracking engine), and no field the engine could not store."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from . import patterns
from .spiff.plain_data import RESERVED_KEY

# Keywords whose values are data, not schemas: what they hold is never a reference.
_DATA = frozenset({"const", "default", "enum", "examples"})
# Keywords whose values map names (of fields, of definitions) to schemas.
_NAMED = frozenset({"properties", "$defs", "definitions", "dependentSchemas"})
_REFS = ("$ref", "$dynamicRef")

Fault = tuple[int | None, str]  # the line (when found) and what is wrong


def form_faults(text: str, schema: dict[str, Any]) -> list[Fault]:
    """Every fault of a form's schema (already a valid JSON Schema object), with its line."""
    resolver = Registry().with_resource("", DRAFT202012.create_resource(schema)).crawl()
    found: list[Fault] = []
    for subschema, is_root in _subschemas(schema, is_root=True):
        for key in _REFS:
            ref = subschema.get(key)
            if isinstance(ref, str) and not _resolves(resolver, ref):
                found.append((_line_of(text, key, ref), _ref_fault(key, ref)))
        if "$id" in subschema and not is_root:
            message = "an $id inside a form is not supported: remove it and refer with '#/$defs/…'"
            found.append((_line_of(text, "$id", subschema["$id"]), message))
        pattern = subschema.get("pattern")
        reason = patterns.why_refused(pattern) if isinstance(pattern, str) else None
        if reason:
            message = (
                f"pattern {pattern!r} cannot be used: forms match patterns with RE2, so that no "
                f"value can make matching hang, and RE2 refuses it ({reason}); write it "
                "without backreferences or lookaround"
            )
            found.append((_line_of(text, "pattern", pattern), message))
        properties = subschema.get("properties")
        if isinstance(properties, dict) and RESERVED_KEY in properties:
            message = (
                f"a field may not be named '{RESERVED_KEY}': the workflow engine keeps that "
                "name for the objects it stores, and could not load the cycle; rename it"
            )
            found.append((_line_of(text, RESERVED_KEY), message))
        if "patternProperties" in subschema:
            message = "patternProperties is not supported in forms: name each field in properties"
            found.append((_line_of(text, "patternProperties"), message))
    return found


def _subschemas(schema: Any, is_root: bool = False) -> Iterator[tuple[dict, bool]]:
    if isinstance(schema, list):
        for item in schema:
            yield from _subschemas(item)
    if not isinstance(schema, dict):
        return
    yield schema, is_root
    for key, value in schema.items():
        if key in _NAMED and isinstance(value, dict):
            for named in value.values():
                yield from _subschemas(named)
        elif key not in _DATA:
            yield from _subschemas(value)


def _resolves(registry: Registry, ref: str) -> bool:
    if not ref.startswith("#"):
        return False
    try:
        registry.resolver().lookup(ref)
    except Unresolvable:
        return False
    return True


def _ref_fault(key: str, ref: str) -> str:
    if ref.startswith("#"):
        return f"{key} {ref!r} points to nothing in this form: fix the path"
    return (
        f"{key} {ref!r} points outside the form: a form refers only within itself "
        "('#/$defs/name'); nothing is fetched from the network or read from files"
    )


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_COLON = re.compile(r"\s*:\s*")


def _line_of(text: str, key: str, value: str | None = None) -> int | None:
    """The line of the first member ``"key": "value"`` (of the key alone if value is None)."""
    tokens = list(_STRING.finditer(text))
    for token, following in zip(tokens, [*tokens[1:], None], strict=True):
        colon = _COLON.match(text, token.end())
        if colon is None or json.loads(token.group()) != key:
            continue
        if value is None or (
            following is not None
            and following.start() == colon.end()
            and json.loads(following.group()) == value
        ):
            return text.count("\n", 0, token.start()) + 1
    return None
