"""The organisation's units, as a tree, and who is a member there."""

from __future__ import annotations

from flask import url_for
from picycle.engine.read_models import MAX_ID
from picycle.engine.services import units

from ..context import current_actor, request_uow
from ..parsing import PicycleBlueprint
from ..schemas import (
    NewUnitSchema,
    UnitChangeSchema,
    UnitListSchema,
    UnitMemberListSchema,
    UnitSchema,
)

blp = PicycleBlueprint(
    "units", __name__, description="Units (ministry, directorate, department) as a tree"
)

BODY = (400, 413, 415)
UNIT_ID = f"<int(min=1, max={MAX_ID}):unit_id>"


@blp.route("", methods=["GET"])
@blp.response(200, UnitListSchema)
@blp.problems(401)
def list_units():
    """Every unit, from the top of the tree down"""
    found = units.list_units(request_uow(), current_actor())
    return {"items": found, "total": len(found)}


@blp.route("", methods=["POST"])
@blp.arguments(NewUnitSchema)
@blp.response(201, UnitSchema, headers={"Location": {"schema": {"type": "string"}}})
@blp.problems(401, 403, 409, *BODY)
def add_unit(body):
    """Add a unit (admins), at the top of the tree or below a parent

    409 when a sibling has the name; 422 when the parent does not exist or is inactive.
    """
    added = units.add_unit(request_uow(), current_actor(), body["name"], body["parent_id"])
    return added, 201, {"Location": url_for(".get_unit", unit_id=added.id)}


@blp.route(f"/{UNIT_ID}", methods=["GET"])
@blp.response(200, UnitSchema)
@blp.problems(401, 404)
def get_unit(unit_id):
    """One unit"""
    return units.get_unit(request_uow(), current_actor(), unit_id)


@blp.route(f"/{UNIT_ID}", methods=["PATCH"])
@blp.arguments(UnitChangeSchema)
@blp.response(200, UnitSchema)
@blp.problems(401, 403, 404, 409, *BODY)
def change_unit(body, unit_id):
    """Rename, move or (de)activate a unit (admins)

    A unit moves with every unit below it; never under itself or a unit below it (409). A
    unit with a running cycle or an active unit below it cannot be deactivated, nor a unit
    below an inactive one reactivated (409).
    """
    return units.update_unit(request_uow(), current_actor(), unit_id, **body)


@blp.route(f"/{UNIT_ID}/members", methods=["GET"])
@blp.response(200, UnitMemberListSchema)
@blp.problems(401, 403, 404)
def unit_members(unit_id):
    """Who is a member of which group here: memberships held in the unit, in a unit above
    it or in the whole organisation (admins, auditors, members whose reach includes it;
    403 for other members)"""
    found = units.unit_members(request_uow(), current_actor(), unit_id)
    return {"items": found, "total": len(found)}
