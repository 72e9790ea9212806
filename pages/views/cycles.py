"""Cycles: the list, and one cycle's page with what it has recorded, its open tasks, the
next cycle it planned, the evidence attached to the tasks one may read and, for those
allowed to read it, where it stands on its diagram and its history."""

from __future__ import annotations

import flask_babel
from flask import jsonify, make_response, request
from picycle.api.context import request_uow
from picycle.api.downloads import pdf_download
from picycle.engine.services import (
    audit,
    cycle_path,
    cycles,
    evidence,
    microprojects,
    planned_cycles,
    report,
)

from ..blueprint import blueprint
from ..context import signed_in
from ..event_names import event_names
from ..numbers import page_number
from ..rendering import DUE_SOON, process_texts, render
from ..report_pdf import render_report, report_language

PAGE_SIZE = 25
HISTORY_SIZE = 500
PRIORITIES = {"high": 0, "medium": 1, "low": 2}
CYCLE = "/cycles/<int(min=1, max=2147483647):cycle_id>"
# The model is the deployer's text: shown as XML, nothing in it may run or load.
XML_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "no-cache",
}


@blueprint.get("/cycles")
def cycle_list():
    page = page_number(request.args.get("page"))
    found = cycles.list_cycles(
        request_uow(), signed_in(), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    pages = max(1, -(-found.total // PAGE_SIZE))
    return render("cycles.html", cycles=found.items, page=page, pages=pages)


@blueprint.get(CYCLE)
def cycle(cycle_id: int):
    return cycle_page(cycle_id)


def cycle_page(cycle_id: int, *, plan_form=None, errors=None, notice=None, status=200):
    """The cycle's page as it now is; ``plan_form`` (the fields posted) and ``errors`` when
    a change of its planned next cycle is shown again, ``notice`` to say why."""
    uow, actor = request_uow(), signed_in()
    detail = cycles.get_cycle(uow, actor, cycle_id)
    records = detail.records
    history = path = steps = None
    if audit.may_read_cycle(uow, actor, cycle_id):
        history = audit.cycle_history(uow, actor, cycle_id, limit=HISTORY_SIZE).items
        path = cycle_path.cycle_path(uow, actor, cycle_id)
        steps = cycle_path.steps_done(uow, actor, cycle_id)
    plan = planned_cycles.planned_cycle(uow, actor, cycle_id)
    return render(
        "cycle.html",
        status,
        cycle=detail,
        plan=plan,
        plan_form=_plan_form(plan, plan_form or {}),
        errors=errors or {},
        notice=notice,
        indicators=_indicators(records),
        gaps=sorted(
            (g for g in records.get("gaps", []) if isinstance(g, dict)),
            key=lambda gap: PRIORITIES.get(gap.get("priority"), len(PRIORITIES)),
        ),
        microprojects=microprojects.cycle_microprojects(uow, actor, cycle_id),
        targets_met=records.get("targets_met"),
        lessons_learned=records.get("lessons_learned"),
        evidence=evidence.cycle_evidence(uow, actor, cycle_id),
        history=history,
        event_names=event_names(),
        path=path,
        steps=steps,
        now=uow.now,
        soon=uow.now + DUE_SOON,
        process_text=process_texts([cycle_id]),
    )


@blueprint.get(f"{CYCLE}/diagram")
def cycle_diagram(cycle_id: int):
    """The BPMN file of the cycle's version, for the viewer; revalidated, as a migration
    moves the cycle to another version."""
    diagram = cycle_path.cycle_diagram(request_uow(), signed_in(), cycle_id)
    return model_xml(diagram.xml, f"{diagram.process_id}-{diagram.version}")


def model_xml(xml: str, etag: str):
    """A deployed model file, for the viewer: XML that nothing in may run or load; the
    same version's file never changes, so its ETag names the version."""
    response = make_response(xml, XML_HEADERS)
    response.mimetype = "application/xml"
    response.set_etag(etag)
    return response.make_conditional(request)


@blueprint.get(f"{CYCLE}/report.pdf")
def cycle_report(cycle_id: int):
    """The leadership report, in the language the pages are in."""
    found = report.leadership_report(request_uow(), signed_in(), cycle_id)
    language = report_language(str(flask_babel.get_locale()))
    return pdf_download(render_report(found, language), f"cycle-{cycle_id}-report-{language}")


@blueprint.get(f"{CYCLE}/marks")
def cycle_marks(cycle_id: int):
    """The ids to mark on the diagram: elements done and current, connections taken."""
    path = cycle_path.cycle_path(request_uow(), signed_in(), cycle_id)
    return jsonify(
        done=[element.element_id for element in path.done],
        current=[element.element_id for element in path.current],
        flows=[[flow.source, flow.target] for flow in path.flows],
    )


def _plan_form(plan, posted: dict[str, str]) -> dict[str, str]:
    """The plan's fields as the forms show them: as posted, else as planned."""
    planned = {"start_on": plan.start_on.isoformat(), "title": plan.title} if plan else {}
    return {"start_on": "", "title": "", "reason": "", **planned, **posted}


def _indicators(records: dict) -> list[dict]:
    """Each indicator with its latest actual, where the cycle has evaluated it."""
    actuals = {
        row.get("indicator"): row.get("actual")
        for row in records.get("evaluation", [])
        if isinstance(row, dict)
    }
    return [
        {**indicator, "actual": actuals.get(indicator.get("key"))}
        for indicator in records.get("indicators", [])
        if isinstance(indicator, dict)
    ]
