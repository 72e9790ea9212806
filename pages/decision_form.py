"""A decision table's cells as the table editor posts them, read back into the table.

Fields are named by position: ``input.0.label``, ``input.0.text`` (an input's expression),
``output.0.label``, ``output.0.text`` (an output's name), and for rule ``r``:
``rule.r.id``, ``rule.r.note``, ``rule.r.in.0``, ``rule.r.out.0``. ``rules`` says how many
rows were posted; ``add_rule`` adds an empty one at the end, ``remove_rule`` removes row r.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from picycle.engine.decision_table_edits import MAX_RULES, Column, DecisionTable, Rule
from picycle.engine.errors import ValidationFailed

from .numbers import whole_number


def posted(table: DecisionTable, form: Mapping[str, str]) -> DecisionTable:
    count = form.get("rules", "")
    if whole_number(count, MAX_RULES) is None:
        message = f"rules: a number of rows from 0 to {MAX_RULES}"
        raise ValidationFailed(message, {"rules": [message]})
    inputs = _columns(table.inputs, form, "input")
    outputs = _columns(table.outputs, form, "output")
    rules = [
        Rule(
            form.get(f"rule.{r}.id", ""),
            form.get(f"rule.{r}.note", ""),
            [form.get(f"rule.{r}.in.{i}", "") for i in range(len(inputs))],
            [form.get(f"rule.{r}.out.{o}", "") for o in range(len(outputs))],
        )
        for r in range(int(count))
    ]
    if "add_rule" in form:
        rules.append(Rule("", "", ["-"] * len(inputs), [""] * len(outputs)))
    removed = form.get("remove_rule", "")
    if (index := whole_number(removed, len(rules) - 1)) is not None:
        del rules[index]
    return replace(table, inputs=inputs, outputs=outputs, rules=rules)


def _columns(columns: list[Column], form: Mapping[str, str], kind: str) -> list[Column]:
    return [
        Column(
            column.id,
            form.get(f"{kind}.{i}.label", column.label),
            form.get(f"{kind}.{i}.text", column.text),
        )
        for i, column in enumerate(columns)
    ]
