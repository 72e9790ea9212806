"""Rule 6: the groups a model hands user tasks to exist, and someone can claim every task.

A user task goes to its candidateGroup property or else to its lane's name (a task in a
subprocess has the lane of the subprocess). Missing groups are warnings: the admin can
create them after deploying, before the first task arrives.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from lxml import etree

from .model import Bundle, bpmn, describe, spiff_properties
from .problems import WARNING, Problem, at


def check_groups(bundle: Bundle) -> Iterator[Problem]:
    known = None if bundle.known_groups is None else set(bundle.known_groups)
    for document, process in bundle.checked_processes:
        lanes = _lanes_by_node(process)
        if known is not None:
            for lane in set(lanes.values()):
                name = lane.get("name")
                if name and name not in known:
                    yield _missing(at(document.name, lane, "", WARNING), "lane", name)
        for task in process.iter(bpmn("userTask")):
            properties = spiff_properties(task)
            candidate = properties.get("candidateGroup")
            group = candidate.get("value") if candidate is not None else None
            if group and known is not None and group not in known:
                yield _missing(at(document.name, candidate, "", WARNING), "candidateGroup", group)
            if not group and not _lane_name(task, lanes) and "assignee" not in properties:
                message = (
                    f"nobody can claim {describe(task)}: put it in a lane named after a group, "
                    "or give it a candidateGroup or assignee property"
                )
                yield at(document.name, task, message, WARNING)


def _missing(problem: Problem, where: str, group: str) -> Problem:
    """The warning at ``problem``'s place that ``group`` has nobody in it yet."""
    message = (
        f"{where} '{group}' names no existing group, so nobody can claim its tasks: create it "
        f'with a member, e.g. picycle user add NAME --group "{group}"'
    )
    return replace(problem, message=message, group=group)


def _lanes_by_node(process: etree._Element) -> dict[str, etree._Element]:
    """The lane that directly lists each flow node (nested lanes: the innermost one)."""
    return {
        ref.text.strip(): ref.getparent()
        for ref in process.iter(bpmn("flowNodeRef"))
        if ref.text and ref.text.strip()
    }


def _lane_name(task: etree._Element, lanes: dict[str, etree._Element]) -> str | None:
    for node in (task, *task.iterancestors()):
        if node.get("id") in lanes:
            return lanes[node.get("id")].get("name")
    return None
