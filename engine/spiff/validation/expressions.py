"""Rule 4 (BPMN): every script and expression compiles under picycle's sandbox.

Scripts (script tasks, spiffworkflow pre- and post-scripts) and expressions (conditions,
timers, loop settings, the assignee/dueDate/taskTitle properties) are Python run by the
sandbox; the sandbox's own checks say what is wrong and what to write instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from lxml import etree

from ..limits import ModelLimits
from .model import NS, Bundle, bpmn, describe, local_name, spiff_properties
from .problems import Problem, at
from .sources import expression_problems, script_problems
from .timer_values import literal_timer_problem

# Python-expression properties of user tasks, evaluated by the runner.
EXPRESSION_PROPERTIES = ("assignee", "dueDate", "taskTitle")
_LOOP_EXPRESSIONS = ("loopCardinality", "completionCondition", "loopCondition")
_TIMERS = ("timeDate", "timeDuration", "timeCycle")
_CONDITIONAL_EVENTS = ".//bpmn:conditionalEventDefinition/bpmn:condition"
_PYTHON = {"", "python", "python3", "text/python", "text/x-python", "application/x-python"}
_LINE = re.compile(r"^Line (\d+): ")


def check_expressions(bundle: Bundle) -> Iterator[Problem]:
    for document, process in bundle.checked_processes:
        file = document.name
        for task in process.iter(bpmn("scriptTask")):
            yield from _script_task(file, task)
        for extensions in process.iter(bpmn("extensionElements")):
            yield from _spiff_extensions(file, extensions.getparent())
        for condition in process.iter(bpmn("conditionExpression")):
            note = _language_note(condition, "language")
            yield from _expression(file, condition, condition.getparent(), "condition", note)
        for condition in process.xpath(_CONDITIONAL_EVENTS, namespaces=NS):
            yield from _expression(file, condition, _event_of(condition), "condition")
        for kind in _LOOP_EXPRESSIONS:
            for element in process.iter(bpmn(kind)):
                yield from _expression(file, element, element.getparent().getparent(), kind)
        for kind in _TIMERS:
            for element in process.iter(bpmn(kind)):
                yield from _timer(file, element, kind, bundle.limits)


def _script_task(file: str, task: etree._Element) -> Iterator[Problem]:
    script = task.find(bpmn("script"))
    if script is None or not (script.text or "").strip():
        yield at(file, task, f"{describe(task)} has no script: write the Python it should run")
    else:
        note = _language_note(task, "scriptFormat")
        yield from _compiled(file, script, task, "script", script_problems, note)


def _spiff_extensions(file: str, owner: etree._Element) -> Iterator[Problem]:
    for name, label in (("preScript", "pre-script"), ("postScript", "post-script")):
        for script in owner.xpath(f"./bpmn:extensionElements/spiffworkflow:{name}", namespaces=NS):
            if (script.text or "").strip():
                yield from _compiled(file, script, owner, label, script_problems)
    properties = spiff_properties(owner)
    for name in EXPRESSION_PROPERTIES:
        prop = properties.get(name)
        source = prop.get("value") if prop is not None else None
        if source and source.strip() and (problems := expression_problems(source)):
            message = f"property '{name}' of {describe(owner)} is not a valid Python expression"
            yield at(file, prop, f"{message}: {'; '.join(problems)}", owner=owner)


def _expression(
    file: str, element: etree._Element, owner: etree._Element, label: str, note: str = ""
) -> Iterator[Problem]:
    if not (element.text or "").strip():
        message = f"the {label} of {describe(owner)} is empty: write a Python expression"
        yield at(file, element, message, owner=owner)
    else:
        yield from _compiled(file, element, owner, label, expression_problems, note)


def _timer(file: str, element: etree._Element, kind: str, limits: ModelLimits) -> Iterator[Problem]:
    event = _event_of(element)
    problems = list(_expression(file, element, event, kind))
    yield from problems
    if not problems and (problem := literal_timer_problem(kind, element.text, limits)):
        yield at(file, element, f"the {kind} of {describe(event)}: {problem}", owner=event)


def _event_of(element: etree._Element) -> etree._Element:
    return next((a for a in element.iterancestors() if local_name(a).endswith("Event")), element)


def _compiled(
    file: str,
    element: etree._Element,
    owner: etree._Element,
    label: str,
    check: Callable[[str], list[str]],
    note: str = "",
) -> Iterator[Problem]:
    problems = check(element.text)
    if problems:
        found = _LINE.match(problems[0])
        # The text starts on the element's own line: script line N is file line start + N - 1.
        line = element.sourceline + max(int(found.group(1)) - 1, 0) if found else None
        detail = "; ".join([*problems, note] if note else problems)
        message = f"the {label} of {describe(owner)} is not valid Python: {detail}"
        yield at(file, element, message, line=line, owner=owner)


def _language_note(element: etree._Element, attribute: str) -> str:
    language = element.get(attribute)
    if (language or "").strip().lower() in _PYTHON:
        return ""
    return f"scripts and expressions always run as Python, whatever {attribute} says ('{language}')"
