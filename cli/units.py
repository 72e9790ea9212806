"""``picycle unit``: the organisation's units, as a tree."""

from __future__ import annotations

import click
from picycle.engine import Engine
from picycle.engine.read_models import MAX_ID
from picycle.engine.services import units

from .common import acting_as, as_option
from .render import echo, shown


def unit_ref(text: str) -> int | str:
    """A unit named on the command line: its id, or its name when no other unit has it.
    Only decimal digits in an id's range make an id (``int`` refuses '²', which ``isdigit``
    accepts, and thousands of digits); any other text is a name, found or said missing."""
    is_id = text.isdecimal() and len(text) <= len(str(MAX_ID)) and int(text) <= MAX_ID
    return int(text) if is_id else text


def unit_id(uow, text: str, field: str = "unit") -> int:
    return units.find_unit(uow, unit_ref(text), field).id


@click.group()
def unit() -> None:
    """Add, list and change units (ministry, directorate, department)."""


@unit.command("add")
@click.argument("name")
@click.option("--parent", metavar="UNIT", help="The unit above it (name or id).")
@as_option
@click.pass_obj
def unit_add(engine: Engine, name: str, parent: str | None, as_user: str | None) -> None:
    """Add a unit NAME at the top of the tree, or below --parent (admins)."""
    with engine.unit_of_work() as uow:
        parent_id = unit_id(uow, parent, "parent_id") if parent else None
        added = units.add_unit(uow, acting_as(uow, as_user), name, parent_id)
    echo(f"added unit #{added.id}: {' / '.join(shown(name) for name in added.path)}")


@unit.command("list")
@click.pass_obj
def unit_list(engine: Engine) -> None:
    """Every unit as a tree: each indented below the unit above it."""
    with engine.unit_of_work(write=False) as uow:
        found = units.list_units(uow, acting_as(uow, None))
    for each in found:
        indent = "  " * (len(each.path) - 1)
        inactive = "" if each.active else "  (inactive)"
        echo(f"{indent}#{each.id}  {shown(each.name)}{inactive}")


@unit.command("change")
@click.argument("unit_name", metavar="UNIT")
@click.option("--name", help="Rename it.")
@click.option("--parent", metavar="UNIT", help="Move it, with the units below it, under UNIT.")
@click.option("--top", is_flag=True, help="Move it to the top of the tree.")
@click.option("--active/--inactive", default=None, help="Reactivate or deactivate it.")
@as_option
@click.pass_obj
def unit_change(
    engine: Engine,
    unit_name: str,
    name: str | None,
    parent: str | None,
    top: bool,
    active: bool | None,
    as_user: str | None,
) -> None:
    """Rename, move or (de)activate UNIT (name or id; admins)."""
    if parent and top:
        raise click.UsageError("--parent and --top exclude each other")
    with engine.unit_of_work() as uow:
        actor = acting_as(uow, as_user)
        moved = {"parent_id": unit_id(uow, parent, "parent_id")} if parent else {}
        if top:
            moved = {"parent_id": None}
        changed = units.update_unit(
            uow, actor, unit_id(uow, unit_name), name=name, active=active, **moved
        )
    state = "" if changed.active else " (inactive)"
    echo(f"unit #{changed.id}: {' / '.join(shown(name) for name in changed.path)}{state}")
