"""The parsed bundle the rules look at, and how to find things in BPMN and DMN XML."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from functools import cached_property

from lxml import etree
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS

from ...errors import ValidationFailed
from ..limits import DEFAULT_LIMITS, ModelLimits
from .documents import Document

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
_PREFIXES = {
    BPMN_NS: "bpmn:",
    SPIFF_NS: "spiffworkflow:",
    "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi:",
    "http://www.omg.org/spec/DD/20100524/DC": "dc:",
    "http://www.omg.org/spec/DD/20100524/DI": "di:",
    **{namespace: "dmn:" for namespace in DMN_SCHEMAS},
}
_QUALIFIED = re.compile(r"\{([^}]*)\}")

# Reads one form file (name, content); raises ValidationFailed saying what is wrong with it
# (FormFaults when it can say on which lines).
FormParser = Callable[[str, bytes], object]


class FormFaults(ValidationFailed):
    """A form file's faults, each with its line (None when unknown)."""

    def __init__(self, name: str, faults: list[tuple[int | None, str]]):
        messages = [message for _, message in faults]
        super().__init__(f"{name}: {'; '.join(messages)}", {name: messages})
        self.faults = faults


def bpmn(local_name: str) -> str:
    return f"{{{BPMN_NS}}}{local_name}"


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def with_prefixes(text: str) -> str:
    """Messages name elements 'bpmn:userTask', not '{http://www.omg.org/...}userTask'."""
    return _QUALIFIED.sub(lambda found: _PREFIXES.get(found.group(1), found.group(0)), text)


def describe(element: etree._Element) -> str:
    """How a modeller knows the element: "user task 'Assess performance'"."""
    kind = re.sub(r"(?<!^)(?=[A-Z])", " ", local_name(element)).lower()
    name = " ".join((element.get("name") or element.get("id") or "?").split())
    return f"{kind} '{name}'"


def spiff_properties(element: etree._Element) -> dict[str, etree._Element]:
    """A task's spiffworkflow:property elements by name (as SpiffWorkflow reads them)."""
    found = element.xpath(
        "./bpmn:extensionElements/spiffworkflow:properties//spiffworkflow:property", namespaces=NS
    )
    return {prop.get("name"): prop for prop in found if prop.get("name")}


def spiff_extension(element: etree._Element, name: str) -> etree._Element | None:
    found = element.xpath(f"./bpmn:extensionElements/spiffworkflow:{name}", namespaces=NS)
    return found[0] if found else None


def is_executable(process: etree._Element) -> bool:
    # SpiffWorkflow's reading: a process without isExecutable counts as executable.
    return process.get("isExecutable", "true") == "true"


@dataclass
class Bundle:
    files: dict[str, bytes]
    bpmn: list[Document]
    dmn: list[Document]
    rule_names: Collection[str]
    parse_form: FormParser
    known_groups: Collection[str] | None = None
    limits: ModelLimits = DEFAULT_LIMITS

    def processes(self) -> Iterator[tuple[Document, etree._Element]]:
        for document in self.bpmn:
            for process in document.root.iter(bpmn("process")):
                yield document, process

    @cached_property
    def process_ids(self) -> set[str]:
        return {process.get("id") for _, process in self.processes() if process.get("id")}

    @cached_property
    def decision_ids(self) -> set[str]:
        return {
            decision.get("id")
            for document in self.dmn
            for decision in document.root
            if local_name(decision) == "decision" and decision.get("id")
        }

    @cached_property
    def checked_processes(self) -> list[tuple[Document, etree._Element]]:
        """The processes that will run: executable ones and those they call.

        Non-executable pools are documentation and are left alone. When nothing is executable
        every process is checked, so the modeller sees all problems at once, not one by one.
        """
        processes = list(self.processes())
        by_id = {process.get("id"): (doc, process) for doc, process in processes}
        todo = [(doc, process) for doc, process in processes if is_executable(process)]
        if not todo:
            return processes
        checked: set[etree._Element] = set()
        while todo:
            _, process = todo.pop()
            if process not in checked:
                checked.add(process)
                todo += [
                    by_id[call.get("calledElement")]
                    for call in process.iter(bpmn("callActivity"))
                    if call.get("calledElement") in by_id
                ]
        return [(doc, process) for doc, process in processes if process in checked]

    def checked_elements(self, local: str) -> Iterator[tuple[Document, etree._Element]]:
        """Every element with this BPMN tag inside the checked processes."""
        for document, process in self.checked_processes:
            for element in process.iter(bpmn(local)):
                yield document, element

    def locate(self, element_id: str, file: str | None = None) -> tuple[str, int | None] | None:
        """The file and line of an element id, looking in the given file first."""
        for name in sorted(self._lines_by_id, key=lambda name: name != file):
            if element_id in self._lines_by_id[name]:
                return name, self._lines_by_id[name][element_id]
        return None

    @cached_property
    def _lines_by_id(self) -> dict[str, dict[str, int | None]]:
        return {
            document.name: {
                element.get("id"): element.sourceline
                for element in document.root.iter()
                if isinstance(element.tag, str) and element.get("id")
            }
            for document in (*self.bpmn, *self.dmn)
        }
