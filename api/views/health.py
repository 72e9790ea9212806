"""Is the service up, and who am I."""

from __future__ import annotations

from flask import current_app
from picycle.engine.services.health import readiness

from ..context import current_actor, picycle, public
from ..parsing import PicycleBlueprint
from ..schemas import HealthSchema, LivenessSchema, MeSchema

blp = PicycleBlueprint("health", __name__, description="Service health and the caller")


@blp.route("/health")
@public
@blp.doc(security=[])
@blp.response(200, HealthSchema, description="Ready: the database answers, its schema is current")
@blp.alt_response(
    503, schema=HealthSchema, description="Not ready: no database, or its schema is outdated"
)
@blp.problems()
def health():
    """Readiness (no token needed)

    Whether this server can take requests: the database answers and its schema is the one
    this version expects (`picycle init` upgrades it). A load balancer sends traffic only
    to servers that answer 200.
    """
    found = readiness(picycle().engine)
    if not found.database:
        current_app.logger.warning("health: the database is unreachable")
        return {"status": "unavailable", "database": "unreachable", "schema": "unknown"}, 503
    if not found.schema_current:
        current_app.logger.warning(
            "health: the schema is at %s, not %s: run `picycle init`", found.schema, found.head
        )
        return {"status": "unavailable", "database": "ok", "schema": "outdated"}, 503
    return {"status": "ok", "database": "ok", "schema": "ok"}


@blp.route("/health/live")
@public
@blp.doc(security=[])
@blp.response(200, LivenessSchema, description="The process answers")
@blp.problems()
def live():
    """Liveness (no token needed)

    Whether this server process answers at all; it does not touch the database, so a
    database outage does not get every server restarted.
    """
    return {"status": "ok"}


@blp.route("/me")
@blp.response(200, MeSchema)
@blp.problems(401)
def me():
    """The caller: name, role, groups, and the units where their unit memberships hold"""
    actor = current_actor()
    return {
        "name": actor.name,
        "role": actor.role,
        "groups": sorted(actor.groups),
        "unit_groups": [{"group": g, "unit": u} for g, u in sorted(actor.unit_groups)],
    }
