"""A decision table read as rows and written back: the rules and columns as edited, the
rest of the file untouched, and the result a table the validator accepts."""

from __future__ import annotations

from dataclasses import replace

import pytest
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.decision_table_edits import MAX_RULES, Rule, read_table, write_table
from picycle.engine.errors import ValidationFailed
from picycle.engine.forms import parse_form
from picycle.engine.rules import RULES
from picycle.engine.spiff.validation import validate_bundle

SHIPPED = read_bundle(shipped_processes())
DMN = SHIPPED["gap_priority.dmn"]


def errors_of(bundle: dict[str, bytes]) -> list[str]:
    problems = validate_bundle(bundle, rule_names=RULES.keys(), parse_form=parse_form)
    return [p.message for p in problems if p.is_error]


def test_the_shipped_table_reads_as_its_columns_and_rules():
    table = read_table(DMN)
    assert table.decision_id == "gap_priority" and table.hit_policy == "UNIQUE"
    assert [c.text for c in table.inputs] == [
        "gap['gap']",
        "gap.get('impact')",
        "gap.get('effort')",
    ]
    assert [(c.label, c.text) for c in table.outputs] == [("Priority", "gap.priority")]
    assert len(table.rules) == 8
    first = table.rules[0]
    assert (first.id, first.inputs, first.outputs) == ("rule_1", ["? <= 0", "-", "-"], ['"low"'])
    assert first.note == "The target is already met: nothing to close."


def test_written_back_unchanged_it_reads_the_same_and_stays_valid():
    table = read_table(DMN)
    written = write_table(DMN, table)
    assert read_table(written) == table
    assert b"<description>Sets one gap's priority" in written  # the rest is kept
    assert errors_of({**SHIPPED, "gap_priority.dmn": written}) == []


def test_rules_added_changed_and_removed_are_written():
    table = read_table(DMN)
    added = Rule("", "", ["? > 100", "-", "-"], ['"high"'])
    changed = replace(table.rules[1], outputs=['"medium"'])
    edited = replace(table, rules=[added, changed, *table.rules[3:]])
    reread = read_table(write_table(DMN, edited))
    assert [r.inputs[0] for r in reread.rules[:2]] == ["? > 100", "? > 0"]
    assert reread.rules[1].outputs == ['"medium"'] and reread.rules[1].id == "rule_2"
    assert reread.rules[0].id not in {r.id for r in table.rules}
    assert len(reread.rules) == 7


def test_a_cell_written_in_feel_is_written_as_typed_and_the_validator_names_it():
    table = read_table(DMN)
    feel = replace(table.rules[1], inputs=["? > 0", "[4..5]", "1 <= ? <= 3"])
    written = write_table(DMN, replace(table, rules=[feel, *table.rules[2:]]))
    assert any("FEEL" in message for message in errors_of({**SHIPPED, "gap_priority.dmn": written}))


def test_hostile_or_clumsy_edits_are_refused_with_the_reason():
    table = read_table(DMN)
    with pytest.raises(ValidationFailed, match="every column"):
        write_table(DMN, replace(table, rules=[Rule("", "", ["-"], ['"low"'])]))
    with pytest.raises(ValidationFailed, match="columns have changed"):
        write_table(DMN, replace(table, inputs=table.inputs[:1]))
    with pytest.raises(ValidationFailed, match="cannot"):
        nul = replace(table.rules[0], outputs=['"low\x00"'])
        write_table(DMN, replace(table, rules=[nul]))
    with pytest.raises(ValidationFailed, match=f"at most {MAX_RULES}"):
        write_table(DMN, replace(table, rules=[table.rules[0]] * (MAX_RULES + 1)))
    with pytest.raises(ValidationFailed, match="DOCTYPE"):
        read_table(b'<!DOCTYPE x [<!ENTITY a "a">]><definitions>&a;</definitions>')


def test_a_posted_rule_id_that_is_not_an_id_is_replaced():
    table = read_table(DMN)
    odd = replace(table.rules[0], id='x" onload="y')
    twice = replace(table.rules[1], id="rule_1")
    reread = read_table(write_table(DMN, replace(table, rules=[odd, twice])))
    ids = [rule.id for rule in reread.rules]
    assert len(set(ids)) == 2 and all(i.replace("_", "").isalnum() for i in ids)
