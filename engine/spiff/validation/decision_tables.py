"""Rule 4 (DMN): decision tables SpiffWorkflow can run, with entries that compile.

Entries are Python, read the way SpiffWorkflow's DMN engine reads them: '-' matches
anything; an input entry with '?' is an expression about the input ('4 <= ? <= 5'); any
other input entry is compared with the input ('"high"' means input == "high") or, when it
starts with an operator ('> 3'), appended to it. Output entries are plain expressions.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from lxml import etree

from .documents import Document
from .model import Bundle, local_name
from .problems import WARNING, Problem, at
from .sources import expression_problems

_INPUT_VALUE = "dmninputexpr"  # the name SpiffWorkflow's DMN engine gives the input's value


def decisions(document: Document) -> list[etree._Element]:
    return [child for child in document.root if local_name(child) == "decision"]


def check_decision_tables(bundle: Bundle) -> Iterator[Problem]:
    for document in bundle.dmn:
        found = decisions(document)
        if not found:
            yield at(document.name, document.root, "defines no decision: add a decision table")
        for extra in found[1:]:
            message = "SpiffWorkflow reads one decision per DMN file: move it to a file of its own"
            yield at(document.name, extra, message)
        for decision in found:
            tables = [child for child in decision if local_name(child) == "decisionTable"]
            if not tables:
                message = "has no decision table; SpiffWorkflow runs decision tables only"
                yield at(document.name, decision, message)
            for table in tables:
                yield from _table(document.name, table)


def _table(file: str, table: etree._Element) -> Iterator[Problem]:
    namespace = etree.QName(table).namespace
    text = f"{{{namespace}}}text"
    inputs = [child for child in table if local_name(child) == "input"]
    input_expressions = [
        _input_expression(file, item, item.find(f"{{{namespace}}}inputExpression"), text)
        for item in inputs
    ]
    for expression in input_expressions:
        if isinstance(expression, Problem):
            yield expression
    for rule in (child for child in table if local_name(child) == "rule"):
        entries = [child for child in rule if local_name(child) == "inputEntry"]
        for entry, expression in zip(entries, input_expressions, strict=False):
            if isinstance(expression, str):
                yield from _input_entry(file, entry, text, expression)
        if len(entries) > len(inputs):
            message = f"has {len(entries)} input entries but the table has {len(inputs)} inputs"
            yield at(file, rule, message)
        for entry in (child for child in rule if local_name(child) == "outputEntry"):
            source, where = _text(entry, text)
            if source and (problems := expression_problems(source)):
                message = f"output entry '{source}' is not a valid Python expression"
                yield at(file, where, f"{message}: {'; '.join(problems)}", owner=entry)


def _input_expression(
    file: str, item: etree._Element, expression: etree._Element | None, text: str
) -> str | Problem:
    """The input's expression, or the problem with it."""
    label = item.get("label") or item.get("id")
    source, where = _text(expression, text) if expression is not None else (None, item)
    if not (source or "").strip():
        message = (
            f"input '{label}' has no input expression: write the Python expression whose value "
            "the rules test, e.g. gap['impact']"
        )
        return at(file, item, message)
    if problems := expression_problems(source):
        message = f"the expression of input '{label}' is not valid Python"
        return at(file, where, f"{message}: {'; '.join(problems)}", owner=expression)
    return source


def _text(element: etree._Element, text: str) -> tuple[str | None, etree._Element]:
    """An entry's text, and the element to point at (its text element, where the text is)."""
    found = element.find(text)
    return (None, element) if found is None else (found.text, found)


def _input_entry(
    file: str, entry: etree._Element, text: str, input_expression: str
) -> Iterator[Problem]:
    source, where = _text(entry, text)
    if where is entry:
        yield at(file, entry, "input entry has no text: write - to match any value")
        return
    if source is None or source == "-":  # no test: any value matches
        return
    if not source.strip():
        message = "input entry is blank, so its rule never matches: write - to match any value"
        yield at(file, where, message, severity=WARNING, owner=entry)
        return
    problems = expression_problems(as_evaluated(source, input_expression))
    if problems:
        detail = "; ".join(problems).replace(_INPUT_VALUE, "?").replace("<= value <=", "<= ? <=")
        message = f"input entry '{source}' is not a valid Python test of the input value"
        yield at(file, where, f"{message}: {detail}", owner=entry)


def _with_input_value(entry: str) -> str:
    """Each '?' outside quotes replaced by the input's value, as the engine does.

    The engine's regular expression replaces a '?' followed by an even number of quote
    characters; counting them from the end does the same in one pass, not quadratic time.
    """
    parts, quotes_after = [], 0
    for char in reversed(entry):
        quotes_after += char in "'\""
        parts.append(_INPUT_VALUE if char == "?" and quotes_after % 2 == 0 else char)
    return "".join(reversed(parts))


def as_evaluated(entry: str, input_expression: str) -> str:
    """The Python SpiffWorkflow's DMN engine evaluates for an input entry."""
    with_value = _with_input_value(entry)
    if with_value != entry:
        return with_value
    try:
        ast.parse(entry)
    except Exception:  # an operator first ('> 3'): the engine appends the entry to the input
        return input_expression + entry
    return f"({input_expression}) == ({entry})"
