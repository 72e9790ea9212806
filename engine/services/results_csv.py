"""Results across cycles as CSV, for spreadsheets: a unit's results one row per cycle and
indicator, the overview one row per unit."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ..read_models import OrganisationOverview, UnitResults

CYCLE_COLUMNS = (
    "unit_id",
    "unit",
    "cycle_id",
    "cycle_number",
    "title",
    "status",
    "started_at",
    "ended_at",
    "targets_met",
    "gaps_found",
    "gaps_closed",
    "microprojects",
    "done",
    "due",
    "on_time",
)
INDICATOR_COLUMNS = (
    "indicator",
    "name",
    "measure",
    "direction",
    "baseline",
    "target",
    "actual",
    "met",
)
OVERVIEW_COLUMNS = (
    "unit_id",
    "unit",
    "path",
    "active",
    "cycles",
    "cycles_last_year",
    "running",
    "completed",
    "targets_met",
    "targets_met_share",
    "microprojects_due",
    "on_time",
    "on_time_share",
    "last_activity",
    "quiet",
)
# A cell a spreadsheet would read as a formula (OWASP's list) is kept as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def unit_results_csv(found: UnitResults) -> str:
    """One row per cycle and indicator (a cycle without indicators: one row)."""
    rows = []
    for cycle in found.cycles:
        base = [getattr(cycle, column) for column in CYCLE_COLUMNS]
        for indicator in cycle.indicators:
            rows.append(base + [indicator.key, *_values(indicator, INDICATOR_COLUMNS[1:])])
        if not cycle.indicators:
            rows.append(base + [None] * len(INDICATOR_COLUMNS))
    return _table(CYCLE_COLUMNS + INDICATOR_COLUMNS, rows)


def overview_csv(found: OrganisationOverview) -> str:
    rows = []
    for unit in found.units:
        row = _values(unit, OVERVIEW_COLUMNS)
        row[OVERVIEW_COLUMNS.index("path")] = " / ".join(unit.path)
        rows.append(row)
    return _table(OVERVIEW_COLUMNS, rows)


def _values(item: Any, columns: Iterable[str]) -> list[Any]:
    return [getattr(item, column) for column in columns]


def _table(columns: Iterable[str], rows: Iterable[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
