"""Results across cycles: a unit's, and the organisation overview; JSON, or CSV with
``format=csv``."""

from __future__ import annotations

from marshmallow import RAISE
from picycle.engine.read_models import MAX_ID
from picycle.engine.services import results, results_csv

from ..context import current_actor, request_uow
from ..downloads import csv_download
from ..parsing import PicycleBlueprint
from ..results_schemas import OverviewArgs, OverviewSchema, UnitResultsArgs, UnitResultsSchema

blp = PicycleBlueprint("results", __name__, description="Results across cycles")

UNIT_ID = f"<int(min=1, max={MAX_ID}):unit_id>"
ATTACHMENT = {
    "Content-Disposition": {
        "description": "With format=csv: `attachment; filename=<name>-<time>.csv`",
        "schema": {"type": "string"},
    }
}


@blp.route(f"/units/{UNIT_ID}/results", methods=["GET"])
@blp.arguments(UnitResultsArgs, location="query", unknown=RAISE)
@blp.response(200, UnitResultsSchema, headers=ATTACHMENT)
@blp.alt_response(200, schema={"type": "string"}, content_type="text/csv")
@blp.problems(401, 403, 404)
def unit_results(args, unit_id):
    """A unit's results across its cycles

    Each indicator's baseline, target and actual cycle after cycle; gaps found and closed;
    microprojects reported on time; how long each step took (median and slowest); who took
    part; what is overdue now. `below=true` takes every unit below it too. Admins,
    auditors and the members whose memberships cover the unit; 403 for other members.
    `format=csv`: one row per cycle and indicator, as a download.
    """
    found = results.unit_results(request_uow(), current_actor(), unit_id, args["below"])
    if args["format"] == "csv":
        return csv_download(results_csv.unit_results_csv(found), f"unit-{unit_id}-results")
    return found


@blp.route("/results/overview", methods=["GET"])
@blp.arguments(OverviewArgs, location="query", unknown=RAISE)
@blp.response(200, OverviewSchema, headers=ATTACHMENT)
@blp.alt_response(200, schema={"type": "string"}, content_type="text/csv")
@blp.problems(401)
def overview(args):
    """The organisation's units compared

    Per unit, its own cycles: how many (and in the last 365 days), running, completed,
    completed with every target met, microprojects reported on time, the latest activity,
    and whether it has gone quiet. Admins, auditors and members holding a group in the
    whole organisation (such as the PI Unit) see every unit; other members the units their
    memberships cover (`whole_organisation` false). `format=csv`: one row per unit.
    """
    found = results.overview(request_uow(), current_actor(), args["quiet_days"])
    if args["format"] == "csv":
        return csv_download(results_csv.overview_csv(found), "results-overview")
    return found
