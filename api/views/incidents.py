"""Incidents: model steps that failed, for admins to see, retry and dismiss."""

from __future__ import annotations

from marshmallow import RAISE
from picycle.engine.read_models import MAX_ID
from picycle.engine.services import incidents

from ..context import current_actor, request_uow
from ..parsing import PicycleBlueprint, page_body
from ..schemas import DismissSchema, IncidentArgs, IncidentPageSchema, IncidentSchema

blp = PicycleBlueprint(
    "incidents",
    __name__,
    description="Model steps that failed (a script over its budget, data JSON cannot hold)",
)

INCIDENT_ID = f"<int(min=1, max={MAX_ID}):incident_id>"


@blp.route("", methods=["GET"])
@blp.arguments(IncidentArgs, location="query", unknown=RAISE)
@blp.response(200, IncidentPageSchema)
@blp.problems(401, 403)
def list_incidents(args):
    """Incidents, newest first: open ones unless state=all (admins)"""
    page = incidents.list_incidents(
        request_uow(),
        current_actor(),
        open_only=args["state"] == "open",
        cycle_id=args.get("cycle_id"),
        limit=args["limit"],
        offset=args["offset"],
    )
    return page_body(page, args)


@blp.route(f"/{INCIDENT_ID}", methods=["GET"])
@blp.response(200, IncidentSchema)
@blp.problems(401, 403, 404)
def get_incident(incident_id):
    """One incident (admins)"""
    return incidents.get_incident(request_uow(), current_actor(), incident_id)


@blp.route(f"/{INCIDENT_ID}/retry", methods=["POST"])
@blp.response(200, IncidentSchema)
@blp.problems(401, 403, 404, 409, 422)
def retry_incident(incident_id):
    """Make the failed attempt again, once the model is fixed or the cycle migrated (admins)

    A completion is submitted again as the member who made it, with their form data; a
    timer incident fires the cycle's due timers. 422 when the step fails again (the
    incident counts the failure and stays open); 409 when the incident is resolved or its
    task is no longer open.
    """
    return incidents.retry_incident(request_uow(), current_actor(), incident_id)


@blp.route(f"/{INCIDENT_ID}/dismiss", methods=["POST"])
@blp.arguments(DismissSchema)
@blp.response(200, IncidentSchema)
@blp.problems(400, 401, 403, 404, 409, 413, 415, 422)
def dismiss_incident(body, incident_id):
    """Close an incident without trying again, giving the reason (admins)"""
    return incidents.dismiss_incident(request_uow(), current_actor(), incident_id, body["reason"])
