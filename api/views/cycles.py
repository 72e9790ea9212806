"""Starting, listing, reading and cancelling cycles, and changing the next cycle a
completed one planned."""

from __future__ import annotations

from flask import request, url_for
from marshmallow import RAISE
from picycle.engine.read_models import MAX_ID
from picycle.engine.services import cycles, planned_cycles, report
from picycle.engine.vocabulary import CycleStatus
from picycle.pages.catalogs import LANGUAGES
from picycle.pages.report_pdf import render_report, report_language

from ..context import current_actor, request_uow
from ..downloads import pdf_download
from ..parsing import PicycleBlueprint, page_body
from ..schemas import (
    CancelSchema,
    CycleArgs,
    CycleDetailSchema,
    CyclePageSchema,
    NewCycleSchema,
    PlanChangeSchema,
    PlannedCycleSchema,
    ReportArgs,
)

blp = PicycleBlueprint("cycles", __name__, description="Performance-improvement cycles")

BODY = (400, 413, 415)
CYCLE_ID = f"<int(min=1, max={MAX_ID}):cycle_id>"


@blp.route("", methods=["POST"])
@blp.arguments(NewCycleSchema)
@blp.response(201, CycleDetailSchema, headers={"Location": {"schema": {"type": "string"}}})
@blp.problems(401, 403, 404, 409, *BODY)
def start_cycle(body):
    """Start a unit's next cycle

    Admins, and members for the units their memberships cover (403 otherwise). The next
    cycle of a unit builds on its previous one's results; a unit has one running cycle at
    a time (409). 422 for an unknown unit; 404 when the process is not deployed.
    """
    started = cycles.start_cycle(
        request_uow(),
        current_actor(),
        body["unit_id"] if "unit_id" in body else body["unit"],
        body["title"],
        process_id=body["process_id"],
        data=body.get("data"),
    )
    return started, 201, {"Location": url_for(".get_cycle", cycle_id=started.id)}


@blp.route("", methods=["GET"])
@blp.arguments(CycleArgs, location="query", unknown=RAISE)
@blp.response(200, CyclePageSchema)
@blp.problems(401)
def list_cycles(args):
    """The cycles the caller may see, newest first, filtered by unit (and those below it),
    status and process"""
    status = args.get("status")
    filters = cycles.CycleFilter(
        unit=args.get("unit"),
        status=CycleStatus(status) if status else None,
        process_id=args.get("process_id"),
    )
    page = cycles.list_cycles(
        request_uow(), current_actor(), filters, limit=args["limit"], offset=args["offset"]
    )
    return page_body(page, args)


@blp.route(f"/{CYCLE_ID}", methods=["GET"])
@blp.response(200, CycleDetailSchema)
@blp.problems(401, 404)
def get_cycle(cycle_id):
    """One cycle: its state, open tasks and what it has recorded so far"""
    return cycles.get_cycle(request_uow(), current_actor(), cycle_id)


@blp.route(f"/{CYCLE_ID}/report", methods=["GET"])
@blp.arguments(ReportArgs, location="query", unknown=RAISE)
@blp.response(
    200,
    {"type": "string", "format": "binary"},
    content_type="application/pdf",
    headers={
        "Content-Disposition": {
            "description": "`attachment; filename=cycle-<id>-report-<language>.pdf`",
            "schema": {"type": "string"},
        }
    },
)
@blp.problems(401, 404)
def cycle_report(args, cycle_id):
    """The cycle's leadership report, as a one-page PDF

    Its indicators before and after (a chart and a table), its microprojects and what each
    delivered, the lessons learned and each leadership decision with who took it and when.
    In English, Dutch or Arabic (right to left): `lang`, else the best match of
    Accept-Language, else English. Whoever may see the cycle; 404 for anyone else.
    """
    found = report.leadership_report(request_uow(), current_actor(), cycle_id)
    language = report_language(args.get("lang") or request.accept_languages.best_match(LANGUAGES))
    return pdf_download(render_report(found, language), f"cycle-{cycle_id}-report-{language}")


@blp.route(f"/{CYCLE_ID}/cancel", methods=["POST"])
@blp.arguments(CancelSchema)
@blp.response(200, CycleDetailSchema)
@blp.problems(401, 403, 404, 409, *BODY)
def cancel_cycle(body, cycle_id):
    """Cancel a running cycle (admins); its open tasks are withdrawn"""
    return cycles.cancel_cycle(request_uow(), current_actor(), cycle_id, body["reason"])


@blp.route(f"/{CYCLE_ID}/next-cycle", methods=["PATCH"])
@blp.arguments(PlanChangeSchema)
@blp.response(200, PlannedCycleSchema)
@blp.problems(401, 403, 404, 409, *BODY)
def change_planned_cycle(body, cycle_id):
    """Move the next cycle a completed cycle planned to another date, or retitle it

    Before it starts: the timer worker starts it on the new date. Admins, and members for
    the units their memberships cover (403 otherwise; 404 for a cycle the caller cannot
    see). 409 when the cycle is not completed or its plan has started, was skipped or was
    called off; 422 for a date in the past or more than a year away, or an empty title.
    """
    return planned_cycles.change_planned_cycle(
        request_uow(),
        current_actor(),
        cycle_id,
        start_on=body.get("start_on"),
        title=body.get("title"),
    )


@blp.route(f"/{CYCLE_ID}/next-cycle/cancel", methods=["POST"])
@blp.arguments(CancelSchema)
@blp.response(200, PlannedCycleSchema)
@blp.problems(401, 403, 404, 409, *BODY)
def call_off_planned_cycle(body, cycle_id):
    """Call off the next cycle a completed cycle planned: it never starts by itself

    Who may move the plan may call it off; the trail records `next_cycle_skipped` with
    the reason. 409 when there is no plan waiting to start.
    """
    return planned_cycles.call_off_planned_cycle(
        request_uow(), current_actor(), cycle_id, body["reason"]
    )
