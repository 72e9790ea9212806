"""What the results endpoints take and answer (api/views/results.py)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate
from picycle.engine.services.results import MAX_QUIET_DAYS, QUIET_DAYS

from .schemas import TaskSchema

FORMATS = ("json", "csv")


def _format():
    return fields.String(
        load_default="json",
        validate=validate.OneOf(FORMATS),
        metadata={"description": "json (default), or csv: the same results as a download"},
    )


class UnitResultsArgs(ma.Schema):
    below = fields.Boolean(
        load_default=False,
        metadata={"description": "true: the unit with every unit below it"},
    )
    format = _format()


class OverviewArgs(ma.Schema):
    quiet_days = fields.Integer(
        load_default=QUIET_DAYS,
        validate=validate.Range(1, MAX_QUIET_DAYS),
        metadata={
            "description": "A unit that had cycles is quiet when no cycle started or ended, "
            f"and no task of its running cycle was completed, in this many days (default "
            f"{QUIET_DAYS})"
        },
    )
    format = _format()


def _share():
    return fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "A fraction from 0 to 1; null when there is nothing to share"},
    )


def _figure():
    return fields.Float(required=True, allow_none=True)


class IndicatorResultSchema(ma.Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    measure = fields.String(
        required=True, allow_none=True, metadata={"description": "Unit of measurement"}
    )
    direction = fields.String(required=True, metadata={"description": "increase or decrease"})
    baseline = _figure()
    target = _figure()
    actual = _figure()
    met = fields.Boolean(required=True, allow_none=True)


class CycleResultSchema(ma.Schema):
    cycle_id = fields.Integer(required=True)
    unit_id = fields.Integer(required=True)
    unit = fields.String(required=True)
    cycle_number = fields.Integer(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    started_at = fields.DateTime(required=True)
    ended_at = fields.DateTime(required=True, allow_none=True)
    targets_met = fields.Boolean(required=True, allow_none=True)
    indicators = fields.List(fields.Nested(IndicatorResultSchema), required=True)
    gaps_found = fields.Integer(
        required=True, metadata={"description": "Indicators whose baseline missed the target"}
    )
    gaps_closed = fields.Integer(
        required=True, metadata={"description": "Of those, the ones evaluated at their target"}
    )
    microprojects = fields.Integer(required=True)
    done = fields.Integer(required=True, metadata={"description": "Microprojects reported done"})
    due = fields.Integer(
        required=True,
        metadata={"description": "Microprojects reported, or past their due date unreported"},
    )
    on_time = fields.Integer(
        required=True, metadata={"description": "Microprojects reported by their due date"}
    )


class TrendPointSchema(ma.Schema):
    cycle_id = fields.Integer(required=True)
    cycle_number = fields.Integer(required=True)
    baseline = _figure()
    target = _figure()
    actual = _figure()
    met = fields.Boolean(required=True, allow_none=True)


class IndicatorTrendSchema(ma.Schema):
    unit_id = fields.Integer(required=True)
    unit = fields.String(required=True)
    key = fields.String(required=True)
    name = fields.String(required=True)
    measure = fields.String(required=True, allow_none=True)
    direction = fields.String(required=True)
    points = fields.List(fields.Nested(TrendPointSchema), required=True)


class PhaseTimeSchema(ma.Schema):
    element_id = fields.String(required=True)
    name = fields.String(required=True)
    tasks = fields.Integer(required=True, metadata={"description": "Tasks completed"})
    median_seconds = fields.Float(required=True)
    slowest_seconds = fields.Float(required=True)
    slowest_cycle_id = fields.Integer(required=True)


class ParticipantSchema(ma.Schema):
    name = fields.String(required=True)
    cycles = fields.Integer(required=True)
    tasks_completed = fields.Integer(required=True)


class UnitResultsSchema(ma.Schema):
    unit_id = fields.Integer(required=True)
    unit = fields.String(required=True)
    path = fields.List(fields.String(), required=True)
    below = fields.Boolean(required=True)
    as_of = fields.DateTime(required=True)
    gaps_found = fields.Integer(required=True)
    gaps_closed = fields.Integer(required=True)
    microprojects_due = fields.Integer(required=True)
    on_time = fields.Integer(required=True)
    on_time_share = _share()
    cycles = fields.List(fields.Nested(CycleResultSchema), required=True)
    indicators = fields.List(
        fields.Nested(IndicatorTrendSchema),
        required=True,
        metadata={"description": "Each unit's indicator, cycle after cycle"},
    )
    phases = fields.List(
        fields.Nested(PhaseTimeSchema),
        required=True,
        metadata={"description": "How long each step's tasks took, from ready to completed"},
    )
    people = fields.List(fields.Nested(ParticipantSchema), required=True)
    overdue = fields.List(
        fields.Nested(TaskSchema),
        required=True,
        metadata={"description": "Open tasks past their due date now"},
    )


class UnitOverviewSchema(ma.Schema):
    unit_id = fields.Integer(required=True)
    unit = fields.String(required=True)
    path = fields.List(fields.String(), required=True)
    active = fields.Boolean(required=True)
    cycles = fields.Integer(required=True)
    cycles_last_year = fields.Integer(
        required=True, metadata={"description": "Cycles started in the last 365 days"}
    )
    running = fields.Integer(required=True)
    completed = fields.Integer(required=True)
    targets_met = fields.Integer(
        required=True, metadata={"description": "Completed cycles that met every target"}
    )
    targets_met_share = _share()
    microprojects_due = fields.Integer(required=True)
    on_time = fields.Integer(required=True)
    on_time_share = _share()
    last_activity = fields.DateTime(required=True, allow_none=True)
    quiet = fields.Boolean(required=True)


class OverviewSchema(ma.Schema):
    as_of = fields.DateTime(required=True)
    quiet_days = fields.Integer(required=True)
    whole_organisation = fields.Boolean(
        required=True,
        metadata={"description": "false: only the units the caller's memberships cover"},
    )
    units = fields.List(fields.Nested(UnitOverviewSchema), required=True)
