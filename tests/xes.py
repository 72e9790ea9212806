"""The audit trail's XES export read back by a process-mining library (pmkoalas), as an
auditor's tool reads it: one trace per cycle, each event an activity with its attributes."""

from __future__ import annotations

from pathlib import Path

from pmkoalas.complex import ComplexTrace
from pmkoalas.read import read_xes_complex


def read_traces(path: Path) -> list[ComplexTrace]:
    """The log's traces (the reader groups them by variant, in the order each first
    appears)."""
    return [trace for _, traces in read_xes_complex(str(path)) for trace in traces]


def trace_name(trace: ComplexTrace) -> str:
    return trace.data()["concept:name"]


def completed(trace: ComplexTrace) -> list[str]:
    """The activities the trace completed, in order."""
    return [event.activity() for event in trace if event["lifecycle:transition"] == "complete"]


def resources(trace: ComplexTrace) -> set[str]:
    return {event["org:resource"] for event in trace}
