"""A DMN file's decision table as columns and rows, and written back into the file.

The modeler's table editor reads a table with ``read_table`` and saves the edited cells with
``write_table``: the columns' labels and expressions and the rules change; every other part
of the file stays as it was. The validator judges the result like any other DMN file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from .errors import ValidationFailed
from .safe_xml import RefusedXml, parse_untrusted

MAX_RULES = 1000  # far more than a table a person can read
_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$")


@dataclass(frozen=True)
class Column:
    id: str
    label: str
    text: str  # an input's expression; an output's name


@dataclass(frozen=True)
class Rule:
    id: str  # empty for a new rule: write_table names it
    note: str
    inputs: list[str]
    outputs: list[str]


@dataclass(frozen=True)
class DecisionTable:
    decision_id: str
    name: str
    hit_policy: str
    inputs: list[Column]
    outputs: list[Column]
    rules: list[Rule]


def _refused(message: str) -> ValidationFailed:
    return ValidationFailed(message, {"dmn": [message]})


def _table_element(content: bytes) -> tuple[etree._Element, etree._Element]:
    """(the decision, its decision table); ValidationFailed when the file has neither."""
    try:
        root = parse_untrusted(content)
    except RefusedXml as error:
        raise _refused(f"the DMN file cannot be read: {error.reason}") from error
    for decision in root:
        if _local(decision) == "decision":
            table = next((c for c in decision if _local(c) == "decisionTable"), None)
            if table is not None:
                return decision, table
    raise _refused("the DMN file has no decision table")


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element if _local(child) == name]


def _text_of(element: etree._Element | None) -> str:
    if element is None:
        return ""
    found = _children(element, "text")
    return (found[0].text or "") if found else ""


def read_table(content: bytes) -> DecisionTable:
    decision, table = _table_element(content)
    inputs = [
        Column(
            item.get("id", ""),
            item.get("label", ""),
            _text_of(next(iter(_children(item, "inputExpression")), None)),
        )
        for item in _children(table, "input")
    ]
    outputs = [
        Column(item.get("id", ""), item.get("label", ""), item.get("name", ""))
        for item in _children(table, "output")
    ]
    rules = [
        Rule(
            rule.get("id", ""),
            next((d.text or "" for d in _children(rule, "description")), ""),
            [_text_of(entry) for entry in _children(rule, "inputEntry")],
            [_text_of(entry) for entry in _children(rule, "outputEntry")],
        )
        for rule in _children(table, "rule")
    ]
    return DecisionTable(
        decision.get("id", ""),
        decision.get("name", ""),
        table.get("hitPolicy", "UNIQUE"),
        inputs,
        outputs,
        rules,
    )


def write_table(content: bytes, edited: DecisionTable) -> bytes:
    """The DMN file with the table's columns and rules as ``edited`` has them."""
    _, table = _table_element(content)
    namespace = etree.QName(table).namespace
    inputs, outputs = _children(table, "input"), _children(table, "output")
    if len(edited.inputs) != len(inputs) or len(edited.outputs) != len(outputs):
        raise _refused("the table's columns have changed since it was opened: open it again")
    if len(edited.rules) > MAX_RULES:
        raise _refused(f"a table may have at most {MAX_RULES} rules")
    try:
        for element, column in zip(inputs, edited.inputs, strict=True):
            element.set("label", column.label)
            expression = next(iter(_children(element, "inputExpression")), None)
            if expression is None:
                expression = etree.SubElement(element, f"{{{namespace}}}inputExpression")
            _set_text(expression, column.text, namespace)
        for element, column in zip(outputs, edited.outputs, strict=True):
            element.set("label", column.label)
            element.set("name", column.text)
        # Ids of the rules written over may be kept by them; new rules never reuse one.
        taken = {e.get("id") for e in table.getroottree().iter() if isinstance(e.tag, str)}
        old = {rule.get("id") for rule in _children(table, "rule")}
        for rule in _children(table, "rule"):
            table.remove(rule)
        ids = _rule_ids(edited.rules, taken, old)
        for number, (rule, rule_id) in enumerate(zip(edited.rules, ids, strict=True), 1):
            table.append(_rule(rule, rule_id, number, namespace, taken, edited))
    except ValueError as error:  # lxml refuses text XML cannot hold (control characters)
        raise _refused(f"a cell holds characters a DMN file cannot: {error}") from error
    etree.indent(table, space="  ", level=2)
    return etree.tostring(table.getroottree(), xml_declaration=True, encoding="UTF-8") + b"\n"


def _rule_ids(rules: list[Rule], taken: set, old: set) -> list[str]:
    """Each rule keeps its id (a rule keeps its identity from version to version); a new
    rule, one whose id is not an id, and a second rule with the same id get a fresh one."""
    kept: list[str | None] = []
    used: set[str] = set()
    for rule in rules:
        keeps = bool(_ID.match(rule.id)) and rule.id not in used
        keeps = keeps and (rule.id in old or rule.id not in taken)
        kept.append(rule.id if keeps else None)
        if keeps:
            used.add(rule.id)
            taken.add(rule.id)
    return [rule_id or _fresh(taken, "rule") for rule_id in kept]


def _rule(
    rule: Rule, rule_id: str, number: int, namespace: str, taken: set, edited: DecisionTable
) -> etree._Element:
    if len(rule.inputs) != len(edited.inputs) or len(rule.outputs) != len(edited.outputs):
        raise _refused(f"rule {number} does not have a cell for every column")
    element = etree.Element(f"{{{namespace}}}rule", id=rule_id)
    if rule.note.strip():
        etree.SubElement(element, f"{{{namespace}}}description").text = rule.note
    for kind, cells in (("inputEntry", rule.inputs), ("outputEntry", rule.outputs)):
        for cell in cells:
            entry = etree.SubElement(element, f"{{{namespace}}}{kind}")
            entry.set("id", _fresh(taken, f"{rule_id}_{kind}"))
            _set_text(entry, cell, namespace)
    return element


def _set_text(element: etree._Element, text: str, namespace: str) -> None:
    found = _children(element, "text")
    holder = found[0] if found else etree.SubElement(element, f"{{{namespace}}}text")
    holder.text = text


def _fresh(taken: set, prefix: str) -> str:
    number = 1
    while f"{prefix}_{number}" in taken:
        number += 1
    taken.add(f"{prefix}_{number}")
    return f"{prefix}_{number}"
