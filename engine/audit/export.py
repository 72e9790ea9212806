"""Audit events as CSV, JSON Lines and XES (IEEE 1849), streamed: constant memory."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from xml.sax.saxutils import quoteattr

from ..read_models import AuditEventView
from ..vocabulary import EventType

COLUMNS = ("seq", "at", "actor", "type", "cycle_id", "task_id", "element_id", "data", "hash")


def _row(event: AuditEventView) -> dict:
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "type": event.type,
        "cycle_id": event.cycle_id,
        "task_id": event.task_id,
        "element_id": event.element_id,
        "data": event.data,
        "hash": event.hash,
    }


def to_jsonl(events: Iterable[AuditEventView]) -> Iterator[str]:
    for event in events:
        yield json.dumps(_row(event), ensure_ascii=False) + "\n"


def to_csv(events: Iterable[AuditEventView]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for event in events:
        row = _row(event)
        row["data"] = json.dumps(row["data"], ensure_ascii=False)
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


XES_HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xes.features="" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <extension name="Lifecycle" prefix="lifecycle"
             uri="http://www.xes-standard.org/lifecycle.xesext"/>
  <global scope="trace"><string key="concept:name" value="cycle"/></global>
  <global scope="event">
    <string key="concept:name" value="activity"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00+00:00"/>
    <string key="lifecycle:transition" value="complete"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
"""
# Task events become XES lifecycle transitions of the activity named by the task's title;
# evidence attached to a task is an event of that activity with no transition of its own
# ("unknown" in the standard model), carrying the file's name, size, type and SHA-256.
_TRANSITIONS = {
    EventType.TASK_CLAIMED: "start",
    EventType.TASK_COMPLETED: "complete",
    EventType.EVIDENCE_ATTACHED: "unknown",
}
_EVIDENCE_KEYS = ("name", "size", "media_type", "sha256")
# Characters XML 1.0 cannot hold even escaped: a member's microproject title may carry
# them into a task's title, and one would leave the whole file unreadable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _attribute(value: object) -> str:
    """``value`` as a quoted XML attribute, each character XML cannot hold as U+FFFD."""
    return quoteattr(_NOT_XML.sub("\ufffd", str(value)))


def to_xes(events: Iterable[AuditEventView]) -> Iterator[str]:
    """One trace per cycle (events must come ordered by cycle, then sequence); activities
    are the tasks' titles, resources the people who worked them."""
    yield XES_HEADER
    current_cycle: int | None = None
    titles: dict[str, str] = {}
    for event in events:
        if event.cycle_id is None:
            continue
        if event.cycle_id != current_cycle:
            if current_cycle is not None:
                yield "  </trace>\n"
            current_cycle = event.cycle_id
            titles.clear()
            yield f'  <trace>\n    <string key="concept:name" value="cycle {current_cycle}"/>\n'
        if event.type == EventType.TASK_CREATED:
            titles[event.task_id] = event.data.get("title") or event.element_id
        transition = _TRANSITIONS.get(event.type)
        if transition is None:
            continue
        activity = event.data.get("title") or titles.get(event.task_id) or event.element_id
        yield (
            "    <event>"
            f'<string key="concept:name" value={_attribute(activity)}/>'
            f'<string key="org:resource" value={_attribute(event.actor)}/>'
            f'<date key="time:timestamp" value="{event.at.isoformat()}"/>'
            f'<string key="lifecycle:transition" value="{transition}"/>'
            f"{_evidence(event)}</event>\n"
        )
    if current_cycle is not None:
        yield "  </trace>\n"
    yield "</log>\n"


def _evidence(event: AuditEventView) -> str:
    if event.type != EventType.EVIDENCE_ATTACHED:
        return ""
    return "".join(
        f'<string key="evidence:{key}" value={_attribute(event.data[key])}/>'
        for key in _EVIDENCE_KEYS
    )
