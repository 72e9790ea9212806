"""The audit pages, for auditors and admins: every event filtered and paged, the filtered
events as CSV, JSON Lines or XES, a cycle's history beside the path it took on its diagram,
and verification of the hash chains. Who may read what is the API's rule, checked by the
same services."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from flask import abort, jsonify, request, url_for
from picycle.api.context import engine_for_own_transactions, request_uow
from picycle.api.downloads import audit_export
from picycle.engine.services import audit, cycle_trail, units

from ..blueprint import blueprint
from ..context import signed_in
from ..event_filters import EVENT_TYPES, read_filters
from ..event_names import event_names
from ..i18n import gettext as _
from ..rendering import process_texts, render

PAGE_SIZE = 50
CYCLE = "/audit/cycles/<int(min=1, max=2147483647):cycle_id>"
# Verifying reads the whole trail (a million events take some seconds, in worker
# processes): one at a time per serving process, so a second click waits for no second run.
_VERIFYING = threading.Lock()
# What verifying checks in a second, measured in bench/audit.py (about 100,000 with two
# workers): the lower figure, for the wait the page announces.
VERIFIED_PER_SECOND = 50_000


def utc(moment: datetime) -> str:
    """An event's time as the filters take it: UTC, to the second. Exact and quick, where a
    page of events would otherwise format hundreds of dates in the user's language."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _read_filters():
    uow, actor = request_uow(), signed_in()
    audit.require_auditor(actor)
    tree = units.list_units(uow, actor)
    return read_filters(request.args, {unit.name for unit in tree}), tree


@blueprint.get("/audit")
def events():
    read, tree = _read_filters()
    found = None
    if not read.errors:
        found = audit.browse_events(
            request_uow(),
            signed_in(),
            read.filters,
            limit=PAGE_SIZE,
            before=read.before,
            after=read.after,
            start=read.start,
        )
    return render(
        "audit_events.html",
        400 if read.errors else 200,
        read=read,
        found=found,
        units=tree,
        event_types=EVENT_TYPES,
        event_names=event_names(),
        formats=audit.EXPORT_FORMATS,
        utc=utc,
    )


@blueprint.get("/audit/events.<any(csv, jsonl, xes):format>")
def download(format: str):
    read, _tree = _read_filters()
    if read.errors:
        abort(400)
    return audit_export(read.filters, format)


@blueprint.get(CYCLE)
def cycle_trail_page(cycle_id: int):
    trail = cycle_trail.cycle_trail(request_uow(), signed_in(), cycle_id)
    return render(
        "audit_cycle.html",
        trail=trail,
        utc=utc,
        event_names=event_names(),
        process_text=process_texts([cycle_id]),
    )


@blueprint.get(f"{CYCLE}/marks")
def cycle_trail_marks(cycle_id: int):
    """The diagram's marks (as the cycle page's) with how often each element and flow was
    passed and who acted on each element, for the overlays."""
    trail = cycle_trail.cycle_trail(request_uow(), signed_in(), cycle_id)
    return jsonify(
        done=[s.element.element_id for s in trail.steps if not s.element.active],
        current=[s.element.element_id for s in trail.steps if s.element.active],
        flows=[[flow.source, flow.target] for flow in trail.flows],
        counts={s.element.element_id: s.element.times_completed for s in trail.steps},
        flow_counts=[[flow.source, flow.target, flow.times] for flow in trail.flows],
        acts={
            s.element.element_id: [f"{act.actor} · {utc(act.at)} (UTC)" for act in s.acts]
            for s in trail.steps
            if s.acts
        },
    )


@blueprint.get("/audit/verify")
def verify():
    actor = signed_in()
    size = audit.trail_size(request_uow(), actor)
    seconds = max(1, -(-size.events // VERIFIED_PER_SECOND))
    if request.args.get("run") != "1":
        return render("audit_verify.html", size=size, seconds=seconds, result=None, busy=False)
    if not _VERIFYING.acquire(blocking=False):
        return render("audit_verify.html", 409, size=size, seconds=seconds, result=None, busy=True)
    try:
        result = audit.verify(engine_for_own_transactions(), actor)
    finally:
        _VERIFYING.release()
    return render(
        "audit_verify.html",
        size=size,
        seconds=seconds,
        result=result,
        busy=False,
        break_link=_break_link,
        advice=_advice,
    )


def _break_link(seq: int | None, chain: str) -> str:
    """The event browser showing the broken event at the top (its cycle's events)."""
    cycle = audit.cycle_of(chain)
    args = {} if cycle is None else {"cycle": cycle}
    if seq is not None:
        args["start"] = seq
    return url_for("picycle_pages.events", **args)


def _advice(seq: int | None) -> str:
    if seq is None:
        return _(
            "Events are missing from this chain. Change nothing; keep a copy of the database "
            "as it is now (picycle backup), find what was deleted by comparing with your last "
            "seal document (picycle audit verify --against FILE) or backup, and report it."
        )
    return _(
        "This event, and every later event of its chain, can no longer be trusted. Change "
        "nothing; keep a copy of the database as it is now (picycle backup), compare the "
        "event with your last backup or seal document (picycle audit verify --against FILE), "
        "and report it."
    )
