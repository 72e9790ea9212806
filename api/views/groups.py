"""The groups users work in: a process model hands its tasks to one by name."""

from __future__ import annotations

from picycle.engine.services import users

from ..context import current_actor, request_uow
from ..parsing import PicycleBlueprint
from ..schemas import GroupListSchema

blp = PicycleBlueprint("groups", __name__, description="The groups users work in")


@blp.route("", methods=["GET"])
@blp.response(200, GroupListSchema)
@blp.problems(401, 403)
def list_groups():
    """Every group, by name (admins and auditors): a group is made with its first member"""
    found = users.group_names(request_uow(), current_actor())
    return {"items": found, "total": len(found)}
