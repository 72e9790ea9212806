"""Rule 7: every flow node can be reached from a start event, and no loop lacks a way out.

Each process and each subprocess is its own graph: a subprocess is one node of its parent
and its insides start at its own start events. Boundary events are reached through the
activity they are attached to, link events jump from thrower to catcher, event subprocesses
start by their own trigger and compensation handlers are started by compensation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from lxml import etree

from .model import Bundle, bpmn, describe, local_name
from .problems import Problem, at

FLOW_NODES = frozenset(
    {
        *("task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask"),
        *("receiveTask", "businessRuleTask", "callActivity"),
        *("subProcess", "transaction", "adHocSubProcess"),
        *("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent"),
        "boundaryEvent",
        *("exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway"),
        "complexGateway",
    }
)
_SUBPROCESSES = ("subProcess", "transaction")  # ad hoc subprocesses have no flow to follow
_MAX_NAMED = 8


def check_graph(bundle: Bundle) -> Iterator[Problem]:
    for document, process in bundle.checked_processes:
        containers = [process, *(e for e in process.iter() if local_name(e) in _SUBPROCESSES)]
        for container in containers:
            yield from _container_problems(document.name, container)


def _container_problems(file: str, container: etree._Element) -> Iterator[Problem]:
    nodes = {
        node.get("id"): node
        for node in container
        if local_name(node) in FLOW_NODES and node.get("id")
    }
    edges: dict[str, list[str]] = defaultdict(list)
    for flow in container.iterchildren(bpmn("sequenceFlow")):
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        if source in nodes and target in nodes:
            edges[source].append(target)
        elif source and target:  # a missing reference is the schema check's to report
            stray = target if source in nodes else source
            message = (
                f"{describe(flow)} connects '{source}' to '{target}', but '{stray}' is not a "
                f"flow node of {describe(container)}"
            )
            yield at(file, flow, message)
    _add_boundary_and_link_edges(nodes, edges)

    starts = [i for i, node in nodes.items() if local_name(node) == "startEvent"]
    if not starts:
        message = f"{describe(container)} has no start event: add one before its first step"
        yield at(file, container, message)
    else:
        reached = _reachable([*starts, *_started_by_events(nodes)], edges)
        for node_id, node in nodes.items():
            if node_id not in reached:
                message = (
                    f"{describe(node)} cannot be reached from a start event: connect it with a "
                    "sequence flow, or remove it"
                )
                yield at(file, node, message)
    if not _interruptible(container):
        yield from _loops_without_exit(file, nodes, edges)


def _add_boundary_and_link_edges(
    nodes: dict[str, etree._Element], edges: dict[str, list[str]]
) -> None:
    catchers: dict[str, list[str]] = defaultdict(list)
    throwers: list[tuple[str, str]] = []
    for node_id, node in nodes.items():
        kind = local_name(node)
        if kind == "boundaryEvent" and node.get("attachedToRef") in nodes:
            edges[node.get("attachedToRef")].append(node_id)
        link = node.find(bpmn("linkEventDefinition"))
        if link is not None:
            if kind == "intermediateCatchEvent":
                catchers[link.get("name")].append(node_id)
            elif kind == "intermediateThrowEvent":
                throwers.append((node_id, link.get("name")))
    for node_id, name in throwers:
        edges[node_id].extend(catchers[name])


def _started_by_events(nodes: dict[str, etree._Element]) -> list[str]:
    """Nodes that need no incoming flow: event subprocesses and compensation handlers."""
    return [
        node_id
        for node_id, node in nodes.items()
        if node.get("triggeredByEvent") == "true" or node.get("isForCompensation") == "true"
    ]


def _reachable(roots: list[str], edges: dict[str, list[str]]) -> set[str]:
    reached, todo = set(roots), list(roots)
    while todo:
        for target in edges.get(todo.pop(), ()):
            if target not in reached:
                reached.add(target)
                todo.append(target)
    return reached


def _interruptible(container: etree._Element) -> bool:
    """Whether an interrupting event can end the container (or an enclosing one) from outside
    its flow: a loop there may legitimately run until, say, a deadline timer fires."""
    for node in (container, *container.iterancestors()):
        if local_name(node) not in (*_SUBPROCESSES, "process"):
            break
        for child in node:
            start = child.find(bpmn("startEvent"))
            by_event = child.get("triggeredByEvent") == "true" and start is not None
            if by_event and start.get("isInterrupting", "true") == "true":
                return True
        parent = node.getparent()
        if parent is not None and node.get("id"):
            for boundary in parent.iterchildren(bpmn("boundaryEvent")):
                attached = boundary.get("attachedToRef") == node.get("id")
                if attached and boundary.get("cancelActivity", "true") == "true":
                    return True
    return False


def _loops_without_exit(
    file: str, nodes: dict[str, etree._Element], edges: dict[str, list[str]]
) -> Iterator[Problem]:
    for component in _strongly_connected(list(nodes), edges):
        members = set(component)
        is_loop = len(component) > 1 or component[0] in edges.get(component[0], ())
        has_exit = any(t not in members for m in component for t in edges.get(m, ()))
        has_end = any(local_name(nodes[m]) == "endEvent" for m in component)
        if is_loop and not has_exit and not has_end:
            ordered = [node for node_id, node in nodes.items() if node_id in members]
            named = ", ".join(describe(n) for n in ordered[:_MAX_NAMED])
            more = f" and {len(ordered) - _MAX_NAMED} more" if len(ordered) > _MAX_NAMED else ""
            message = (
                f"these elements loop forever with no way out: {named}{more}; add a gateway "
                "with a sequence flow that leaves the loop"
            )
            yield at(file, ordered[0], message)


def _strongly_connected(nodes: list[str], edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm without recursion (models can be large)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)

    for root in nodes:
        if root in index:
            continue
        visit(root)
        work = [(root, iter(edges.get(root, ())))]
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    visit(successor)
                    work.append((successor, iter(edges.get(successor, ()))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(component)
    return components
