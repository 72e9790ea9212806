"""The organisation's units as a tree: adding, renaming, moving and deactivating them, and
finding the units a name or a membership covers.

The tree's closure (``unit_paths``: each unit with every unit at or above it) is kept with
every change, so "U and every unit below it" is one indexed lookup.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import delete, insert, select, update

from ..actors import Actor, require_admin
from ..db.models import Cycle, Membership, Unit, UnitPath, User
from ..errors import Conflict, Message, NotFound, PermissionDenied, ValidationFailed
from ..inputs import display_name, name_as_stored
from ..read_models import UnitMember, UnitView
from ..repository import new_revision
from ..uow import UnitOfWork
from ..vocabulary import CycleStatus, EventType


class _Keep:
    """An argument left out: the value stays as it is (None means something else)."""


KEEP: Final = _Keep()


def _tree(uow: UnitOfWork) -> dict[int, Unit]:
    return {unit.id: unit for unit in uow.session.scalars(select(Unit))}


def _path(units: dict[int, Unit], unit: Unit) -> list[str]:
    names = [unit.name]
    while unit.parent_id is not None:
        unit = units[unit.parent_id]
        names.append(unit.name)
    return names[::-1]


def _view(units: dict[int, Unit], unit: Unit) -> UnitView:
    return UnitView(
        unit.id, unit.name, unit.parent_id, unit.active, unit.created_at, _path(units, unit)
    )


def list_units(uow: UnitOfWork, actor: Actor) -> list[UnitView]:
    """Every unit, as the tree reads from the top down: each unit followed by the units
    below it, siblings by name. Any user may read the tree."""
    units = _tree(uow)
    children: dict[int | None, list[Unit]] = {}
    for unit in units.values():
        children.setdefault(unit.parent_id, []).append(unit)
    ordered: list[UnitView] = []

    def walk(parent: int | None) -> None:
        for unit in sorted(children.get(parent, []), key=lambda u: (u.name, u.id)):
            ordered.append(_view(units, unit))
            walk(unit.id)

    walk(None)
    return ordered


def get_unit(uow: UnitOfWork, actor: Actor, unit_id: int) -> UnitView:
    units = _tree(uow)
    if unit_id not in units:
        raise NotFound(Message(f"there is no unit #{unit_id}", "no_unit"))
    return _view(units, units[unit_id])


def _clean_name(name: str) -> str:
    return display_name("name", name, 255)


def _parent(uow: UnitOfWork, parent_id: int | None) -> Unit | None:
    if parent_id is None:
        return None
    parent = uow.session.get(Unit, parent_id)
    if parent is None:
        message = f"there is no unit #{parent_id} to be the parent"
        raise ValidationFailed(message, {"parent_id": [message]})
    if not parent.active:
        message = f"unit #{parent_id} ({parent.name}) is inactive"
        raise ValidationFailed(message, {"parent_id": [message]})
    return parent


def _require_free_name(
    uow: UnitOfWork, name: str, parent_id: int | None, unit_id: int | None = None
) -> None:
    """No sibling of the unit (``unit_id``, or one about to be added) has its name."""
    parent = Unit.parent_id.is_(None) if parent_id is None else Unit.parent_id == parent_id
    found = uow.session.scalar(
        select(Unit.id).where(Unit.name == name, parent, Unit.id != (unit_id or 0))
    )
    if found is not None:
        where = f"unit #{parent_id}" if parent_id is not None else "the top of the tree"
        raise Conflict(
            Message(
                f"there is already a unit called {name} under {where} (#{found})",
                "unit_exists",
                name=name,
            )
        )


def add_unit(uow: UnitOfWork, actor: Actor, name: str, parent_id: int | None = None) -> UnitView:
    """A new unit, at the top of the tree or below ``parent_id`` (admins)."""
    require_admin(actor, "add units")
    name = _clean_name(name)
    _parent(uow, parent_id)
    _require_free_name(uow, name, parent_id)
    unit = Unit(name=name, parent_id=parent_id, active=True, created_at=uow.now)
    uow.session.add(unit)
    uow.session.flush()
    uow.session.execute(
        insert(UnitPath).values(ancestor_id=unit.id, descendant_id=unit.id, depth=0)
    )
    if parent_id is not None:
        _link(uow, [(unit.id, 0)], parent_id)
    uow.record(
        actor.name, EventType.UNIT_CREATED, unit_id=unit.id, before=None, after=_state_of(unit)
    )
    added = get_unit(uow, actor, unit.id)
    uow.commit()
    return added


def _link(uow: UnitOfWork, subtree: list[tuple[int, int]], parent_id: int) -> None:
    """Put ``subtree`` (each unit with its depth below the subtree's top) under
    ``parent_id``: every unit at or above the parent becomes an ancestor of each."""
    above = uow.session.execute(
        select(UnitPath.ancestor_id, UnitPath.depth).where(UnitPath.descendant_id == parent_id)
    ).all()
    uow.session.execute(
        insert(UnitPath),
        [
            {"ancestor_id": ancestor, "descendant_id": unit, "depth": depth + 1 + below}
            for ancestor, depth in above
            for unit, below in subtree
        ],
    )


def _state_of(unit: Unit) -> dict[str, Any]:
    return {"name": unit.name, "parent_id": unit.parent_id, "active": unit.active}


def update_unit(
    uow: UnitOfWork,
    actor: Actor,
    unit_id: int,
    *,
    name: str | None = None,
    parent_id: int | None | _Keep = KEEP,
    active: bool | None = None,
) -> UnitView:
    """Rename a unit, move it (with every unit below it) under another parent or to the
    top (``parent_id`` None), or (de)activate it (admins). A unit cannot move under itself
    or a unit below it, cannot be deactivated while one of its cycles runs or a unit below
    it is active, and is reactivated only under an active unit."""
    require_admin(actor, "change units")
    # Tree changes queue behind each other: two moves at once could otherwise make a loop.
    uow.session.execute(select(Unit.id).with_for_update()).all()
    unit = uow.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(Message(f"there is no unit #{unit_id}", "no_unit"))
    before = _state_of(unit)
    new_name = unit.name if name is None else _clean_name(name)
    moving = not isinstance(parent_id, _Keep) and parent_id != unit.parent_id
    if new_name != unit.name or moving:
        _require_free_name(uow, new_name, parent_id if moving else unit.parent_id, unit.id)
    if active is False and unit.active:
        # Checked before the unit changes, so a refusal names the unit as it is.
        _require_no_running_cycle(uow, unit)
        _require_no_active_unit_below(uow, unit)
    if active and not unit.active and not moving:  # a move checks its new parent
        _require_active_parent(uow, unit)
    if moving:
        _move(uow, unit, parent_id)
    unit.name = new_name
    if active is not None:
        unit.active = active
    after = _state_of(unit)
    if after != before:
        changed = sorted(key for key in after if after[key] != before[key])
        uow.session.flush()
        if "name" in changed:
            # Kept cycles show their unit's name: make every process load them afresh.
            uow.session.execute(
                update(Cycle).where(Cycle.unit_id == unit.id).values(revision=new_revision())
            )
        uow.record(
            actor.name,
            EventType.UNIT_CHANGED,
            unit_id=unit.id,
            changed=changed,
            before={key: before[key] for key in changed},
            after={key: after[key] for key in changed},
        )
    changed_unit = get_unit(uow, actor, unit.id)
    uow.commit()
    return changed_unit


def _move(uow: UnitOfWork, unit: Unit, parent_id: int | None) -> None:
    subtree = uow.session.execute(
        select(UnitPath.descendant_id, UnitPath.depth).where(UnitPath.ancestor_id == unit.id)
    ).all()
    if parent_id in {below for below, _ in subtree}:
        raise Conflict(
            f"unit #{unit.id} ({unit.name}) cannot move under unit #{parent_id}: that unit is "
            f"{'the unit itself' if parent_id == unit.id else 'below it'}, which would make "
            "a loop in the tree"
        )
    _parent(uow, parent_id)
    members = [below for below, _ in subtree]
    # Cut the subtree from everything above it, then hang it under its new parent.
    uow.session.execute(
        delete(UnitPath).where(
            UnitPath.descendant_id.in_(members), UnitPath.ancestor_id.not_in(members)
        )
    )
    if parent_id is not None:
        _link(uow, [tuple(row) for row in subtree], parent_id)
    unit.parent_id = parent_id


def _require_no_running_cycle(uow: UnitOfWork, unit: Unit) -> None:
    running = uow.session.scalar(
        select(Cycle.id).where(Cycle.unit_id == unit.id, Cycle.status == CycleStatus.RUNNING)
    )
    if running is not None:
        raise Conflict(
            Message(
                f"unit #{unit.id} ({unit.name}) has a running cycle (#{running}); complete or "
                "cancel it before deactivating the unit",
                "unit_has_running_cycle",
                unit=unit.name,
            )
        )


def _require_no_active_unit_below(uow: UnitOfWork, unit: Unit) -> None:
    """An inactive unit has no active unit below it, as no unit is added or moved under an
    inactive one."""
    below = uow.session.execute(
        select(Unit.id, Unit.name)
        .join(UnitPath, UnitPath.descendant_id == Unit.id)
        .where(UnitPath.ancestor_id == unit.id, UnitPath.depth > 0, Unit.active)
        .order_by(UnitPath.depth, Unit.name, Unit.id)
        .limit(1)
    ).first()
    if below is not None:
        raise Conflict(
            Message(
                f"unit #{unit.id} ({unit.name}) has an active unit below it, #{below.id} "
                f"({below.name}); deactivate the units below it first, or move them elsewhere",
                "unit_has_active_unit_below",
                unit=unit.name,
                below=below.name,
            )
        )


def _require_active_parent(uow: UnitOfWork, unit: Unit) -> None:
    """The other half of that rule: a unit is reactivated only under an active one."""
    parent = uow.session.get(Unit, unit.parent_id) if unit.parent_id is not None else None
    if parent is not None and not parent.active:
        raise Conflict(
            Message(
                f"unit #{unit.id} ({unit.name}) is below unit #{parent.id} ({parent.name}), "
                "which is inactive; reactivate that unit first, or move this one elsewhere",
                "unit_under_inactive",
                unit=unit.name,
                parent=parent.name,
            )
        )


def unit_members(uow: UnitOfWork, actor: Actor, unit_id: int) -> list[UnitMember]:
    """The active users whose memberships cover the unit: held in it, in a unit above it,
    or in the whole organisation; by user and group. For admins, auditors and the members
    whose reach includes the unit (403 for others)."""
    unit = uow.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(Message(f"there is no unit #{unit_id}", "no_unit"))
    require_sight(actor, unit_id, unit.name, "members")
    covering = select(UnitPath.ancestor_id).where(UnitPath.descendant_id == unit_id)
    rows = uow.session.execute(
        select(User.name, Membership.group_name, Membership.unit_id, Unit.name)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(Unit, Unit.id == Membership.unit_id)
        .where(
            User.active,
            Membership.unit_id.is_(None) | Membership.unit_id.in_(covering),
        )
        .order_by(User.name, Membership.group_name, Membership.unit_id)
    )
    return [UnitMember(*row) for row in rows]


# --- finding units -----------------------------------------------------------------------


@dataclass(frozen=True)
class FoundUnit:
    id: int
    name: str
    active: bool


def find_unit(uow: UnitOfWork, ref: int | str, field: str = "unit") -> FoundUnit:
    """The unit with id ``ref``, or the one unit called ``ref``; a 422 naming it when there
    is none, or when several units share the name."""
    query = select(Unit.id, Unit.name, Unit.active)
    if isinstance(ref, int):
        found = uow.session.execute(query.where(Unit.id == ref)).all()
        label = f"#{ref}"
    else:
        found = uow.session.execute(
            query.where(Unit.name == name_as_stored(ref)).order_by(Unit.id)
        ).all()
        label = f"'{ref}'"
    if not found:
        message = Message(f"there is no unit {label}", "no_unit")
        raise ValidationFailed(message, {field: [message]})
    if len(found) > 1:
        ids = ", ".join(f"#{row.id}" for row in found)
        message = f"several units are called {label} ({ids}): give the unit's id"
        raise ValidationFailed(message, {field: [message]})
    return FoundUnit(*found[0])


def unit_at_path(uow: UnitOfWork, path: Iterable[str]) -> int | None:
    """The id of the active unit reached from the top of the tree by ``path``'s names, one
    level each; None when there is none."""
    unit_id = None
    for name in path:
        parent = Unit.parent_id.is_(None) if unit_id is None else Unit.parent_id == unit_id
        unit_id = uow.session.scalar(select(Unit.id).where(Unit.name == name, parent, Unit.active))
        if unit_id is None:
            return None
    return unit_id


def units_at_or_below(uow: UnitOfWork, name: str) -> list[int]:
    """The ids of the units called ``name`` (written any way a name may be) and of every
    unit below them; a 422 at ``unit`` when no unit is called so: a misspelt filter would
    otherwise pass for one that matched nothing."""
    found = list(
        uow.session.scalars(
            select(UnitPath.descendant_id)
            .join(Unit, Unit.id == UnitPath.ancestor_id)
            .where(Unit.name == name_as_stored(name))
            .distinct()
            .order_by(UnitPath.descendant_id)
        )
    )
    if not found:
        message = Message(f"there is no unit '{name}'", "no_unit")
        raise ValidationFailed(message, {"unit": [message]})
    return found


def require_reach(actor: Actor, unit: FoundUnit) -> None:
    """Whether ``actor`` may start a cycle for ``unit``: admins anywhere, a member where
    one of their memberships covers it."""
    if not (actor.is_admin or actor.groups or unit.id in actor.unit_ids):
        raise PermissionDenied(
            Message(
                f"{actor.name} is a member of no group in unit {unit.name} or a unit above it",
                "unit_out_of_reach",
                unit=unit.name,
            )
        )


def require_sight(actor: Actor, unit_id: int, unit_name: str, what: str) -> None:
    """Whether ``actor`` may see ``what`` of the unit (its members, its results): admins,
    auditors and the members whose memberships cover it. The tree is public, so a unit
    beyond reach is refused (403), not passed off as missing."""
    if not actor.sees_unit(unit_id):
        raise PermissionDenied(
            Message(
                f"{actor.name} is a member of no group in unit {unit_name} or a unit above it, "
                f"so may not see its {what}",
                "unit_out_of_reach",
                unit=unit_name,
            )
        )


def units_exist(uow: UnitOfWork, unit_ids: Iterable[int]) -> set[int]:
    wanted = sorted(set(unit_ids))
    return set(uow.session.scalars(select(Unit.id).where(Unit.id.in_(wanted))))
