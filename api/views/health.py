"""Is the service up, and who am I."""

from __future__ import annotations

from flask import current_app
from picycle.engine.services.health import database_answers

from ..context import current_actor, picycle, public
from ..parsing import PicycleBlueprint
from ..schemas import HealthSchema, MeSchema

blp = PicycleBlueprint("health", __name__, description="Service health and the caller")


@blp.route("/health")
@public
@blp.doc(security=[])
@blp.response(200, HealthSchema, description="The service and its database are up")
@blp.alt_response(503, schema=HealthSchema, description="The database cannot be reached")
@blp.problems()
def health():
    """Service health (no token needed)

    Reports whether the database answers.
    """
    if not database_answers(picycle().engine):
        current_app.logger.warning("health: the database is unreachable")
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}


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
