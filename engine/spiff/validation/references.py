"""Rule 5: what the model names exists in the bundle: decisions, called processes, forms
(valid JSON Schemas), rule sets; and every user task has a form."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Collection, Iterator
from pathlib import PurePosixPath

from ...errors import ValidationFailed
from .documents import FORMS_FOLDER
from .model import Bundle, FormFaults, describe, spiff_extension, spiff_properties
from .problems import ERROR, Problem, at


def check_references(bundle: Bundle) -> Iterator[Problem]:
    yield from _decisions(bundle)
    yield from _called_processes(bundle)
    yield from _forms_and_rules(bundle)


def _decisions(bundle: Bundle) -> Iterator[Problem]:
    for document, task in bundle.checked_elements("businessRuleTask"):
        reference = spiff_extension(task, "calledDecisionId")
        decision = (reference.text or "").strip() if reference is not None else ""
        if not decision:
            message = (
                f"{describe(task)} names no decision: set spiffworkflow:calledDecisionId to the "
                "id of a decision in one of the bundle's .dmn files"
            )
            yield at(document.name, task, message)
        elif decision not in bundle.decision_ids:
            message = f"decision '{decision}' is not in the bundle: add the .dmn file defining it"
            yield at(document.name, task, message + _did_you_mean(decision, bundle.decision_ids))


def _called_processes(bundle: Bundle) -> Iterator[Problem]:
    for document, call in bundle.checked_elements("callActivity"):
        called = call.get("calledElement")
        if not called:
            message = f"{describe(call)} names no process: set calledElement to a process id"
            yield at(document.name, call, message)
        elif called not in bundle.process_ids:
            message = f"process '{called}' is not in the bundle: add the .bpmn file defining it"
            yield at(document.name, call, message + _did_you_mean(called, bundle.process_ids))


def _forms_and_rules(bundle: Bundle) -> Iterator[Problem]:
    forms = sorted(name for name in bundle.files if name.startswith(FORMS_FOLDER))
    checked_forms: set[str] = set()
    for document, task in bundle.checked_elements("userTask"):
        properties = spiff_properties(task)
        form = properties.get("formJsonSchemaFilename")
        form_file = (form.get("value") or "").strip() if form is not None else ""
        path = FORMS_FOLDER + form_file
        if not form_file:
            message = (
                f"{describe(task)} has no form: add the spiffworkflow property "
                f"formJsonSchemaFilename naming a JSON Schema file under {FORMS_FOLDER}"
            )
            yield at(document.name, task, message)
        elif path not in bundle.files:
            message = f"form '{form_file}' is not in the bundle (expected at {path})"
            yield at(document.name, form, message + _did_you_mean(path, forms, _form_stem))
        elif path not in checked_forms:
            checked_forms.add(path)
            yield from _form_problems(bundle, path)
        rules = properties.get("picycleRules")
        if rules is not None and rules.get("value") not in bundle.rule_names:
            message = (
                f"picycleRules '{rules.get('value')}' is not a rule set picycle knows; "
                f"use one of: {', '.join(sorted(bundle.rule_names))}"
            )
            yield at(document.name, rules, message)


def _form_problems(bundle: Bundle, path: str) -> Iterator[Problem]:
    try:
        bundle.parse_form(path, bundle.files[path])
    except FormFaults as error:
        for line, message in error.faults:
            yield Problem(ERROR, path, line, None, message)
    except ValidationFailed as error:
        cause = error.__cause__
        line = cause.lineno if isinstance(cause, json.JSONDecodeError) else None
        detail = "; ".join(error.errors.get(path, [])) or str(error)
        yield Problem(ERROR, path, line, None, f"{detail}: fix the form's JSON Schema")
    except Exception as error:  # e.g. JSON nested too deep to read
        message = f"cannot be read as a JSON Schema ({type(error).__name__})"
        yield Problem(ERROR, path, None, None, message)


def _did_you_mean(name: str, candidates: Collection[str], key: Callable[[str], str] = str) -> str:
    """Candidates whose ``key`` is close to the name's: forms are compared by their stem,
    since the folder and extension every form shares would make any two look alike."""
    by_key: dict[str, list[str]] = {}
    for candidate in sorted(candidates):
        by_key.setdefault(key(candidate), []).append(candidate)
    close_keys = difflib.get_close_matches(key(name), list(by_key), n=3)
    close = [candidate for k in close_keys for candidate in by_key[k]][:3]
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _form_stem(path: str) -> str:
    """``forms/leadership-approval.schema.json`` -> ``leadership-approval``."""
    return PurePosixPath(path).name.split(".", 1)[0]
