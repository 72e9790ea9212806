"""Rule 8: a process is no bigger and no more parallel than the limits allow.

A cycle runs its automatic steps in the request that moves it on, holding the cycle's row
(and on SQLite the database) while it does: a process with thousands of elements, a gateway
starting hundreds of branches at once or a loop over a literal of a million instances would
hold everyone else up for minutes.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator

from lxml import etree

from ..limits import ModelLimits, variable_name
from .graph import FLOW_NODES
from .model import Bundle, bpmn, describe, local_name
from .problems import Problem, at

# Gateways that take exactly one of their outgoing flows; every other flow node with several
# outgoing flows starts them all (or, inclusive, all whose condition holds).
_ONE_WAY = ("exclusiveGateway", "eventBasedGateway")


def check_size(bundle: Bundle) -> Iterator[Problem]:
    limits = bundle.limits
    for document, process in bundle.checked_processes:
        file = document.name
        nodes = [node for node in process.iter() if local_name(node) in FLOW_NODES]
        if len(nodes) > limits.max_elements:
            message = (
                f"{describe(process)} has {len(nodes):,} elements; a process may have at most "
                f"{limits.max_elements:,} ({variable_name('max_elements')}): split it into "
                "smaller processes"
            )
            yield at(file, process, message)
        yield from _parallel_branches(file, nodes, process, limits)
        yield from _loops(file, process, limits)


def _parallel_branches(
    file: str, nodes: list[etree._Element], process: etree._Element, limits: ModelLimits
) -> Iterator[Problem]:
    outgoing = Counter(flow.get("sourceRef") for flow in process.iter(bpmn("sequenceFlow")))
    for node in nodes:
        branches = outgoing[node.get("id")]
        if branches > limits.max_parallel_branches and local_name(node) not in _ONE_WAY:
            message = (
                f"{describe(node)} starts {branches:,} branches at once; at most "
                f"{limits.max_parallel_branches:,} ({variable_name('max_parallel_branches')}): "
                "use a multi-instance activity over a list, or fewer branches"
            )
            yield at(file, node, message)


def _loops(file: str, process: etree._Element, limits: ModelLimits) -> Iterator[Problem]:
    most = limits.max_loop_count
    variable = variable_name("max_loop_count")
    for cardinality in process.iter(bpmn("loopCardinality")):
        count = _literal_count(cardinality.text)
        if count is not None and count > most:
            activity = cardinality.getparent().getparent()
            message = (
                f"{describe(activity)} runs {count:,} instances; a literal loop cardinality may "
                f"be at most {most:,} ({variable})"
            )
            yield at(file, cardinality, message, owner=activity)
    for loop in process.iter(bpmn("standardLoopCharacteristics")):
        count = _literal_count(loop.get("loopMaximum"))
        if count is not None and count > most:
            activity = loop.getparent()
            message = (
                f"{describe(activity)} may loop {count:,} times; loopMaximum may be at most "
                f"{most:,} ({variable})"
            )
            yield at(file, loop, message, owner=activity)


def _literal_count(source: str | None) -> int | None:
    """The number a loop setting gives when it is written as one; None when it is computed."""
    try:
        value = ast.literal_eval((source or "").strip())
    except Exception:  # computed from task data: bounded when it runs
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
