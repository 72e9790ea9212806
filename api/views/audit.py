"""The audit trail: a cycle's history and path, every event filtered or exported, and
verification of the hash chains."""

from __future__ import annotations

from marshmallow import RAISE
from picycle.engine.read_models import MAX_ID
from picycle.engine.services import audit, cycle_path

from ..context import current_actor, engine_for_own_transactions, request_uow
from ..downloads import audit_export
from ..parsing import PicycleBlueprint, page_body
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

ATTACHMENT = {
    "Content-Disposition": {
        "description": "Exports only: `attachment; filename=audit-events-<time>.<format>`",
        "schema": {"type": "string"},
    }
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
    history = audit.cycle_history(
        request_uow(), current_actor(), cycle_id, limit=args["limit"], offset=args["offset"]
    )
    return page_body(history, args)


@blp.route(f"/cycles/{CYCLE_ID}/path", methods=["GET"])
@blp.response(200, CyclePathSchema)
@blp.problems(401, 403, 404)
def path(cycle_id):
    """The path a cycle has taken through its process model

    The BPMN elements it completed (how often, first and last time) and the ones it is at
    now, with the connections it took between them: ready to draw over the diagram. Read
    as the history is (auditors, admins, members taking part).
    """
    return cycle_path.cycle_path(request_uow(), current_actor(), cycle_id)


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
        return audit_export(filters, args["format"])
    events = audit.list_events(
        request_uow(), current_actor(), filters, limit=args["limit"], offset=args["offset"]
    )
    return page_body(events, args)


@blp.route("/audit/verify", methods=["GET"])
@blp.response(200, VerificationSchema)
@blp.problems(401, 403)
def verify():
    """Verify that the record was not altered

    Auditors and admins. Recomputes every hash chain (one per cycle, one for everything
    else) and compares it with the recorded chain heads: an edited event, a deleted one,
    a whole deleted chain or a cycle without one is a break; with the server's audit key,
    so is a head that does not carry its seal (a chain rewritten and rehashed). 200 either
    way; `intact` says which, and `first_break` names the earliest broken event by its
    `seq`. Verifying against a seal document is `picycle audit verify --against`.
    """
    return audit.verify(engine_for_own_transactions(), current_actor())
