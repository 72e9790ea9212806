"""Rule 3: the bundle has an executable process and SpiffWorkflow loads it.

SpiffWorkflow stops at the first problem in a process, so each process (and each file) is
loaded on its own: one broken process does not hide the problems of the next.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from .decision_tables import decisions
from .documents import Document
from .model import Bundle, bpmn, is_executable, with_prefixes
from .problems import ERROR, Problem, at

# SpiffWorkflow messages sometimes print an lxml element: keep just its tag.
_ELEMENT_REPR = re.compile(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-f]+>")


def check_loading(bundle: Bundle) -> Iterator[Problem]:
    yield from _executable_process(bundle)
    parser = SpiffBpmnParser()
    # A broken decision or called process fails every process using it, with the same
    # complaint about the same element: say it once.
    seen: set[tuple[str, str]] = set()

    def first_time(error: Exception) -> bool:
        key = (str(error), getattr(error, "id", ""))
        new = key not in seen
        seen.add(key)
        return new

    for document in bundle.bpmn:
        if document.root.tag == bpmn("definitions"):
            try:
                parser.add_bpmn_xml(document.root, filename=document.name)
            except Exception as error:
                yield _problem(bundle, error, document, document.root, "this file")
    for document in bundle.dmn:
        if len(decisions(document)) != 1:
            continue  # reported by the decision table checks; SpiffWorkflow trips over these
        try:
            parser.add_dmn_xml(document.root, filename=document.name)
            for dmn_parser in parser.dmn_parsers.values():
                if dmn_parser.node is document.root:
                    dmn_parser.parse()
        except Exception as error:
            if first_time(error):
                yield _problem(bundle, error, document, document.root, "this decision table")
    documents = {document.name: document for document in bundle.bpmn}
    for process_id in sorted(parser.get_process_ids(), key=str):
        process_parser = parser.process_parsers[process_id]
        document = documents[process_parser.filename]
        try:
            parser.get_spec(process_id)
            # Missing called processes are reported by the reference checks, more clearly.
            parser.get_subprocess_specs(process_id, require_call_activity_specs=False)
        except Exception as error:
            if first_time(error):
                what = f"process '{process_id}'"
                yield _problem(bundle, error, document, process_parser.node, what)


def _executable_process(bundle: Bundle) -> Iterator[Problem]:
    documents = [d for d in bundle.bpmn if d.root.tag == bpmn("definitions")]
    processes = list(bundle.processes())
    if any(is_executable(process) for _, process in processes):
        return
    if processes:
        document, process = processes[0]
        yield at(
            document.name,
            process,
            'no process in the bundle is executable: set isExecutable="true" on the process '
            "that should run (the 'Executable' box in a BPMN modeller)",
        )
    elif documents:
        yield at(documents[0].name, documents[0].root, "defines no process: add one to run")


def _problem(
    bundle: Bundle, error: Exception, document: Document, fallback: etree._Element, what: str
) -> Problem:
    """SpiffWorkflow's complaint, located as precisely as it allows."""
    if not isinstance(error, ValidationException):
        # SpiffWorkflow tripped over a model it does not expect: say how, at no element, so
        # that it gives way to our own explanation of what is wrong in this file.
        message = f"SpiffWorkflow cannot load {what} ({type(error).__name__}: {error})"
        return Problem(ERROR, document.name, fallback.sourceline, None, message)
    message = f"SpiffWorkflow cannot load {what}: " + with_prefixes(
        _ELEMENT_REPR.sub(r"bpmn:\1", str(error)).strip()
    )
    located = bundle.locate(error.id, error.file_name or document.name) if error.id else None
    if located is not None:
        return Problem(ERROR, located[0], located[1], error.id, message)
    # Without an id, the first element of the kind SpiffWorkflow names is a good guess.
    of_kind = _first_of_kind(document, error.tag)
    return at(document.name, fallback if of_kind is None else of_kind, message)


def _first_of_kind(document: Document, tag: str) -> etree._Element | None:
    if not tag:
        return None
    full_tag = bpmn(tag.removeprefix("bpmn:")) if tag.startswith("bpmn:") else tag
    return next(document.root.iter(full_tag), None)
