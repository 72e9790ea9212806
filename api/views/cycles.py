"""Starting, listing, reading and cancelling cycles."""

from __future__ import annotations

from flask import request, url_for
from marshmallow import RAISE
from picycle.engine.services import cycles, report
from picycle.engine.vocabulary import CycleStatus
from picycle.pages.catalogs import LANGUAGES
from picycle.pages.report_pdf import render_report, report_language

from ..context import current_actor, request_uow
from ..downloads import pdf_download
from ..parsing import MAX_ID, PicycleBlueprint, page_body
from ..schemas import (
    CancelSchema,
    CycleArgs,
    CycleDetailSchema,
    CyclePageSchema,
    NewCycleSchema,
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
