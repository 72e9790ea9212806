"""Starting, listing, reading and cancelling cycles."""

from __future__ import annotations

from flask import url_for
from marshmallow import RAISE
from picycle.engine.services import cycles

from ..context import current_actor, unit_of_work
from ..parsing import MAX_ID, PicycleBlueprint
from ..schemas import CancelSchema, CycleArgs, CycleDetailSchema, CyclePageSchema, NewCycleSchema
from . import render

blp = PicycleBlueprint("cycles", __name__, description="Performance-improvement cycles")

BODY = (400, 413, 415)
CYCLE_ID = f"<int(min=1, max={MAX_ID}):cycle_id>"


@blp.route("", methods=["POST"])
@blp.arguments(NewCycleSchema)
@blp.response(201, CycleDetailSchema, headers={"Location": {"schema": {"type": "string"}}})
@blp.problems(401, 403, 404, 409, *BODY)
def start_cycle(body):
    """Start a unit's next cycle

    Members and admins. The next cycle of a unit builds on its previous one's results; a
    unit has one running cycle at a time (409). 404 when the process is not deployed.
    """
    with unit_of_work() as uow:
        started = cycles.start_cycle(
            uow,
            current_actor(),
            body["unit"],
            body["title"],
            process_id=body["process_id"],
            data=body.get("data"),
        )
        uow.commit()
        shown = render.cycle_detail(uow, started)
    return shown, 201, {"Location": url_for(".get_cycle", cycle_id=shown["id"])}


@blp.route("", methods=["GET"])
@blp.arguments(CycleArgs, location="query", unknown=RAISE)
@blp.response(200, CyclePageSchema)
@blp.problems(401)
def list_cycles(args):
    """Cycles, newest first, filtered by unit, status and process"""
    filters = cycles.CycleFilter(
        unit=args.get("unit"), status=args.get("status"), process_id=args.get("process_id")
    )
    with unit_of_work(write=False) as uow:
        rows, total = cycles.list_cycles(uow, filters, limit=args["limit"], offset=args["offset"])
        items = [render.cycle(row) for row in rows]
    return {"items": items, "total": total, "limit": args["limit"], "offset": args["offset"]}


@blp.route(f"/{CYCLE_ID}", methods=["GET"])
@blp.response(200, CycleDetailSchema)
@blp.problems(401, 404)
def get_cycle(cycle_id):
    """One cycle: its state, open tasks and what it has recorded so far"""
    with unit_of_work(write=False) as uow:
        return render.cycle_detail(uow, cycles.get_cycle(uow, cycle_id))


@blp.route(f"/{CYCLE_ID}/cancel", methods=["POST"])
@blp.arguments(CancelSchema)
@blp.response(200, CycleDetailSchema)
@blp.problems(401, 403, 404, 409, *BODY)
def cancel_cycle(body, cycle_id):
    """Cancel a running cycle (admins); its open tasks are withdrawn"""
    with unit_of_work() as uow:
        cancelled = cycles.cancel_cycle(uow, current_actor(), cycle_id, body["reason"])
        uow.commit()
        return render.cycle_detail(uow, cancelled)
