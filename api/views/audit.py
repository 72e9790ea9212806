"""The audit trail: a cycle's history and path, every event filtered or exported, and
verification of the hash chains."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import asdict
from itertools import chain

from flask import current_app, stream_with_context
from marshmallow import RAISE
from picycle.engine.audit import export
from picycle.engine.services import audit, cycle_path

from ..context import current_actor, picycle, unit_of_work
from ..parsing import MAX_ID, PicycleBlueprint
from ..schemas import (
    AuditEventArgs,
    AuditEventPageSchema,
    CyclePathSchema,
    PageArgs,
    VerificationSchema,
)

blp = PicycleBlueprint(
    "audit",
    __name__,
    description="The audit trail: who did what, when; exports; tamper evidence",
)

CYCLE_ID = f"<int(min=1, max={MAX_ID}):cycle_id>"

# format -> (renderer, media type, file extension)
EXPORTS = {
    "csv": (export.to_csv, "text/csv", "csv"),
    "jsonl": (export.to_jsonl, "application/x-ndjson", "jsonl"),
    "xes": (export.to_xes, "application/xml", "xes"),
}
ATTACHMENT = {
    "Content-Disposition": {
        "description": "Exports only: `attachment; filename=audit-events-<time>.<format>`",
        "schema": {"type": "string"},
    }
}


def _page(rows, total: int, args) -> dict:
    return {
        "items": rows,  # the schema reads the events' own attributes
        "total": total,
        "limit": args["limit"],
        "offset": args["offset"],
    }


@blp.route(f"/cycles/{CYCLE_ID}/history", methods=["GET"])
@blp.arguments(PageArgs, location="query", unknown=RAISE)
@blp.response(200, AuditEventPageSchema)
@blp.problems(401, 403, 404)
def cycle_history(args, cycle_id):
    """A cycle's history: every event recorded about it, in order

    Auditors and admins read every cycle's; a member the cycles they take part in (they
    acted in it, or hold or were assigned one of its tasks), 403 otherwise.
    """
    with unit_of_work(write=False) as uow:
        rows, total = audit.cycle_history(
            uow, current_actor(), cycle_id, limit=args["limit"], offset=args["offset"]
        )
        return _page(rows, total, args)


@blp.route(f"/cycles/{CYCLE_ID}/path", methods=["GET"])
@blp.response(200, CyclePathSchema)
@blp.problems(401, 403, 404)
def path(cycle_id):
    """The path a cycle has taken through its process model

    The BPMN elements it completed (how often, first and last time) and the ones it is at
    now, with the connections it took between them: ready to draw over the diagram. Read
    as the history is (auditors, admins, members taking part).
    """
    with unit_of_work(write=False) as uow:
        found = cycle_path.cycle_path(uow, current_actor(), cycle_id)
    return {
        "cycle_id": found.cycle_id,
        "process_id": found.process_id,
        "version": found.version,
        "elements": [asdict(element) for element in found.elements],
        "flows": [asdict(flow) for flow in found.flows],
    }


@blp.route("/audit/events", methods=["GET"])
@blp.arguments(AuditEventArgs, location="query", unknown=RAISE)
@blp.response(200, AuditEventPageSchema, headers=ATTACHMENT)
@blp.alt_response(200, schema={"type": "string"}, content_type="text/csv")
@blp.alt_response(200, schema={"type": "string"}, content_type="application/x-ndjson")
@blp.alt_response(200, schema={"type": "string"}, content_type="application/xml")
@blp.problems(401, 403)
def events(args):
    """Every event, filtered; or all of them exported as a file

    Auditors and admins. Filters combine: `cycle`, `unit` (its cycles' events), `actor`,
    `type`, and the time the event was recorded, from `since` (inclusive) to `until`
    (exclusive): ISO 8601 date-times, taken as UTC when they carry no offset.

    Without `format`, a page of events in order (`limit`, `offset`/`page`, `total`). With
    `format=csv|jsonl|xes`, every matching event is streamed as an attachment, a year of
    events as easily as a day's: CSV (`text/csv`, `data` as JSON text), JSON Lines
    (`application/x-ndjson`) or XES (`application/xml`, IEEE 1849) for process-mining
    tools: one trace per cycle, its tasks' titles as the activities, who worked them as
    the resources.
    """
    filters = audit.EventFilter(
        cycle_id=args.get("cycle"),
        unit=args.get("unit"),
        actor=args.get("actor"),
        type=args.get("type"),
        since=args.get("since"),
        until=args.get("until"),
    )
    if "format" in args:
        return _export(filters, args["format"])
    with unit_of_work(write=False) as uow:
        rows, total = audit.list_events(
            uow, current_actor(), filters, limit=args["limit"], offset=args["offset"]
        )
        return _page(rows, total, args)


def _export(filters: audit.EventFilter, kind: str):
    """Stream the selection from a server-side cursor; the unit of work stays open until
    the last byte is sent, or the response is closed."""
    render, media_type, extension = EXPORTS[kind]
    with ExitStack() as stack:
        uow = stack.enter_context(unit_of_work(write=False))
        events = audit.stream_events(uow, current_actor(), filters, by_cycle=kind == "xes")
        stack.callback(events.close)  # the cursor first, then the unit of work
        # Run the query (and the permission check) now, so that a refusal or a database
        # error is a problem document, not a broken download.
        first = next(events, None)
        selection = events if first is None else chain([first], events)
        stamp = uow.now.strftime("%Y%m%dT%H%M%SZ")
        close = stack.pop_all().close

    def body() -> Iterator[str]:
        try:
            yield from render(selection)
        finally:
            close()

    response = current_app.response_class(stream_with_context(body()), mimetype=media_type)
    response.call_on_close(close)  # also when the body is never read
    response.headers["Content-Disposition"] = (
        f"attachment; filename=audit-events-{stamp}.{extension}"
    )
    return response


@blp.route("/audit/verify", methods=["GET"])
@blp.response(200, VerificationSchema)
@blp.problems(401, 403)
def verify():
    """Verify that the record was not altered

    Auditors and admins. Recomputes every hash chain (one per cycle, one for everything
    else) and compares it with the recorded chain heads: an edited event, a deleted one
    or a whole deleted chain is a break. 200 either way; `intact` says which, and
    `first_break` names the earliest broken event by its `seq`.
    """
    result = audit.verify(picycle().engine, current_actor())
    return {
        "intact": result.intact,
        "events_checked": result.events_checked,
        "chains_checked": result.chains_checked,
        "first_break": _break(result.first_break) if result.first_break else None,
        "breaks": [_break(b) for b in result.breaks],
    }


def _break(found) -> dict:
    return {"seq": found.seq, "chain": found.chain, "reason": found.reason}
