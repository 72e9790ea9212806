"""What the validator reports: one Problem per thing a modeller has to fix."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

ERROR = "error"
WARNING = "warning"
# The file named by problems that concern the bundle as a whole (too big, no process at all).
BUNDLE = "bundle"


@dataclass(frozen=True)
class Problem:
    severity: str  # ERROR or WARNING
    file: str  # bundle path, e.g. "pi_cycle.bpmn" or "forms/x.schema.json"
    line: int | None  # source line where known
    element_id: str | None  # BPMN/DMN element id
    message: str  # what is wrong and what to write instead, for a modeller
    # A warning that a lane or task names a group nobody is in yet: that group, so that a
    # first install can say so once for all of them.
    group: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def as_dict(self) -> dict:
        """The members a problem document lists."""
        return {
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "element_id": self.element_id,
            "message": self.message,
        }


def owner_id(element: etree._Element) -> str | None:
    """The id of the element, or of the nearest enclosing element that has one."""
    for node in (element, *element.iterancestors()):
        if node.get("id"):
            return node.get("id")
    return None


def at(
    file: str,
    element: etree._Element,
    message: str,
    severity: str = ERROR,
    line: int | None = None,
    owner: etree._Element | None = None,
) -> Problem:
    """A problem at an element's source line, named by the id a modeller sees: the owner's
    (the sequence flow of a condition, the event of a timer) or else the element's own."""
    element_id = owner_id(owner if owner is not None else element)
    return Problem(severity, file, line or element.sourceline, element_id, message)
