"""What changed between two versions of a process definition, in a modeller's terms:
BPMN elements added, removed or changed; form fields; decision table rules."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lxml import etree

from .spiff.parser import parse_xml

_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_DIAGRAM_NAMESPACES = ("http://www.omg.org/spec/BPMN/20100524/DI", "http://www.omg.org/spec/DD/")


def diff_bundles(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> dict[str, Any]:
    return {
        "elements": _diff_keyed(_elements(old, ".bpmn"), _elements(new, ".bpmn")),
        "decision_rules": _diff_keyed(_rules(old), _rules(new)),
        "forms": _diff_forms(old, new),
    }


def _elements(files: Mapping[str, bytes], suffix: str) -> dict[str, dict[str, str]]:
    """Every identified model element (diagram layout left out) with its own signature."""
    found = {}
    for name, content in sorted(files.items()):
        if not name.endswith(suffix):
            continue
        for element in parse_xml(name, content).iter():
            element_id = element.get("id") if isinstance(element.tag, str) else None
            if element_id is None or _is_layout(element):
                continue
            found[element_id] = {
                "id": element_id,
                "type": etree.QName(element).localname,
                "name": element.get("name") or "",
                "signature": _signature(element),
            }
    return found


def _is_layout(element: etree._Element) -> bool:
    return etree.QName(element).namespace.startswith(_DIAGRAM_NAMESPACES)


def _signature(element: etree._Element) -> str:
    """The element's own content: attributes, text and unidentified children (scripts,
    conditions, extensions), but not identified children, which are compared themselves."""
    own = [
        _content(child)
        for child in element
        if isinstance(child.tag, str) and child.get("id") is None
    ]
    return json.dumps([_head(element), own])


def _content(element: etree._Element) -> list:
    """An element as what it says, not how a modeler wrote it: names by namespace, not
    prefix; attributes in any order; no layout whitespace, no comments."""
    return [_head(element), *(_content(c) for c in element if isinstance(c.tag, str))]


def _head(element: etree._Element) -> list:
    attributes = sorted(
        (key, _qualified(element, value) if key == _XSI_TYPE else value)
        for key, value in element.attrib.items()
    )
    return [element.tag, attributes, (element.text or "").strip()]


def _qualified(element: etree._Element, value: str) -> str:
    """A QName written in an attribute (``bpmn:tFormalExpression``) by its namespace."""
    prefix, _, local = value.rpartition(":")
    return f"{{{element.nsmap.get(prefix or None, '')}}}{local}"


def _rules(files: Mapping[str, bytes]) -> dict[str, dict[str, str]]:
    """Decision table rules, each compared whole: its input and output entries included."""
    found = {}
    for name, content in sorted(files.items()):
        if not name.endswith(".dmn"):
            continue
        for rule in parse_xml(name, content).iter("{*}rule"):
            entries = [" ".join(t.strip() for t in e.itertext()) for e in rule]
            found[rule.get("id")] = {
                "id": rule.get("id"),
                "type": "rule",
                "name": " | ".join(entries),
                "signature": etree.tostring(rule, method="c14n").decode(),
            }
    return found


def _diff_keyed(
    old: dict[str, dict[str, str]], new: dict[str, dict[str, str]]
) -> dict[str, list[dict[str, str]]]:
    def public(item: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in item.items() if k != "signature"}

    return {
        "added": [public(new[k]) for k in sorted(new.keys() - old.keys())],
        "removed": [public(old[k]) for k in sorted(old.keys() - new.keys())],
        "changed": [
            public(new[k])
            for k in sorted(old.keys() & new.keys())
            if old[k]["signature"] != new[k]["signature"]
        ],
    }


def _diff_forms(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> dict[str, Any]:
    def forms(files: Mapping[str, bytes]) -> dict[str, dict]:
        return {n: json.loads(c) for n, c in files.items() if n.endswith(".json")}

    before, after = forms(old), forms(new)
    changed = []
    for name in sorted(before.keys() & after.keys()):
        if before[name] == after[name]:
            continue
        fields_before = before[name].get("properties", {})
        fields_after = after[name].get("properties", {})
        changed.append(
            {
                "file": name,
                "fields_added": sorted(fields_after.keys() - fields_before.keys()),
                "fields_removed": sorted(fields_before.keys() - fields_after.keys()),
                "fields_changed": sorted(
                    k
                    for k in fields_before.keys() & fields_after.keys()
                    if fields_before[k] != fields_after[k]
                ),
                "required_before": before[name].get("required", []),
                "required_after": after[name].get("required", []),
            }
        )
    return {
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": changed,
    }
