"""The XES export stays a readable file whatever a trail holds: a task title with control
characters (titles are checked now, but a trail keeps what was written before) has each
character XML cannot hold as U+FFFD, and a title that is not text is written as text."""

from __future__ import annotations

from datetime import UTC, datetime

from picycle.engine.audit.export import to_xes
from picycle.engine.read_models import AuditEventView
from picycle.engine.vocabulary import EventType

from tests.xes import completed, read_traces

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


def event(seq: int, type: EventType, task_id: str, data: dict) -> AuditEventView:
    return AuditEventView(seq, AT, "dana", type, 1, task_id, "implement", data, "h")


def test_titles_xml_cannot_hold_are_written_readable(tmp_path):
    events = [
        event(1, EventType.TASK_CREATED, "t1", {"title": "Implement: Intake\x0bform\x1b"}),
        event(2, EventType.TASK_COMPLETED, "t1", {}),
        event(3, EventType.TASK_CREATED, "t2", {"title": 42}),
        event(4, EventType.TASK_COMPLETED, "t2", {}),
    ]
    path = tmp_path / "trail.xes"
    path.write_text("".join(to_xes(events)))
    [trace] = read_traces(path)
    assert completed(trace) == ["Implement: Intake\ufffdform\ufffd", "42"]
