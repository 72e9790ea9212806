"""Rule 2: every BPMN file is valid against the BPMN 2.0 XSD (with SpiffWorkflow's extension
elements), every DMN file against the DMN 1.1/1.2/1.3 XSD its namespace names."""

from __future__ import annotations

import copy
from collections.abc import Iterator

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import SPIFF_XSD

from .documents import Document
from .model import BPMN_NS, Bundle, bpmn, with_prefixes
from .problems import ERROR, Problem, owner_id

MAX_SCHEMA_ERRORS_PER_FILE = 50  # past this, the file was not saved by a modeller
_RETRIEVAL_EXPRESSIONS = (
    f".//{bpmn('correlationPropertyRetrievalExpression')}/{bpmn('formalExpression')}"
)


def check_schemas(bundle: Bundle) -> Iterator[Problem]:
    # Fresh validators per run: lxml schema objects must not be shared between threads.
    if bundle.bpmn:
        bpmn_schema = BpmnValidator(imports={"spiffworkflow": SPIFF_XSD}).validator
        for document in bundle.bpmn:
            if document.root.tag != bpmn("definitions"):
                yield _not_a(document, "BPMN 2.0", f"bpmn:definitions in namespace {BPMN_NS}")
            else:
                yield from _schema_problems(bpmn_schema, document, "BPMN 2.0")
    for document in bundle.dmn:
        namespace = etree.QName(document.root).namespace
        if namespace not in DMN_SCHEMAS or etree.QName(document.root).localname != "definitions":
            yield _not_a(document, "DMN", "definitions in a DMN 1.1, 1.2 or 1.3 namespace")
        else:
            dmn_schema = BpmnValidator(DMN_SCHEMAS[namespace]).validator
            yield from _schema_problems(dmn_schema, document, "DMN")


def _not_a(document: Document, kind: str, expected: str) -> Problem:
    found = etree.QName(document.root)
    message = (
        f"is not a {kind} file: its root element is '{found.localname}' in namespace "
        f"'{found.namespace or ''}'; expected {expected}"
    )
    return Problem(ERROR, document.name, document.root.sourceline, None, message)


def _schema_problems(schema: etree.XMLSchema, document: Document, kind: str) -> Iterator[Problem]:
    schema.validate(_as_spiffworkflow_validates_it(document.root))
    elements_by_line: dict[int, etree._Element] = {}
    for element in document.root.iter():
        if isinstance(element.tag, str):
            elements_by_line.setdefault(element.sourceline, element)
    for error in list(schema.error_log)[:MAX_SCHEMA_ERRORS_PER_FILE]:
        element = elements_by_line.get(error.line)
        message = with_prefixes(error.message)
        yield Problem(
            ERROR,
            document.name,
            error.line or None,
            owner_id(element) if element is not None else None,
            f"does not match the {kind} schema: {message}",
        )


def _as_spiffworkflow_validates_it(root: etree._Element) -> etree._Element:
    # bpmn-js writes correlation retrieval expressions in a form the XSD refuses;
    # SpiffWorkflow renames the tag before validating, and so do we (on a copy).
    if root.find(_RETRIEVAL_EXPRESSIONS) is None:
        return root
    root = copy.deepcopy(root)
    for expression in root.iterfind(_RETRIEVAL_EXPRESSIONS):
        expression.tag = bpmn("messagePath")
    return root
