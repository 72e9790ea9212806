"""``picycle definition``: deployed process definitions and their versions."""

from __future__ import annotations

import click
from picycle.engine import Engine
from picycle.engine.services import definitions

from .common import ID, echo_json, json_option
from .render import echo, shown, when

MARKS = {"added": "+", "removed": "-", "changed": "~"}


@click.group()
def definition() -> None:
    """Deployed process definitions, their versions and what changed between them."""


@definition.command("list")
@click.argument("process_id", required=False)
@json_option
@click.pass_obj
def definition_list(engine: Engine, process_id: str | None, as_json: bool) -> None:
    """The latest version of each process, or every version of PROCESS_ID."""
    with engine.unit_of_work(write=False) as uow:
        if process_id:
            rows = definitions.versions_of(uow, process_id)
        else:
            rows = definitions.latest_definitions(uow)
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo(
            f"{row.process_id} v{row.version}  {row.name}  (deployed {when(row.deployed_at)})"
        )


@definition.command("diff")
@click.argument("process_id")
@click.option("--from", "old", type=ID, required=True, help="The older version.")
@click.option("--to", "new", type=ID, required=True, help="The newer version.")
@json_option
@click.pass_obj
def definition_diff(engine: Engine, process_id: str, old: int, new: int, as_json: bool) -> None:
    """What changed between two versions: elements, decision rules, form fields."""
    with engine.unit_of_work(write=False) as uow:
        diff = definitions.diff_versions(uow, process_id, old, new)
    if as_json:
        echo_json(diff)
        return
    echo(f"{shown(process_id)} v{old} -> v{new}")
    for part, title in (("elements", "elements"), ("decision_rules", "decision rules")):
        _print_keyed(title, diff[part])
    _print_forms(diff["forms"])


def _print_keyed(title: str, changes: dict[str, list[dict]]) -> None:
    click.echo(f"{title}: {_counts(changes)}")
    for change, items in changes.items():
        for item in items:
            name = f"  '{shown(item['name'])}'" if item["name"] else ""
            echo(f"  {MARKS[change]} {item['type']} {shown(item['id'])}{name}")


def _print_forms(changes: dict) -> None:
    click.echo(f"forms: {_counts(changes)}")
    for change in ("added", "removed"):
        for name in changes[change]:
            echo(f"  {MARKS[change]} {shown(name)}")
    for form in changes["changed"]:
        details = [
            f"{what} {', '.join(shown(field) for field in form[key])}"
            for key, what in (
                ("fields_added", "fields added:"),
                ("fields_removed", "fields removed:"),
                ("fields_changed", "fields changed:"),
            )
            if form[key]
        ]
        if form["required_before"] != form["required_after"]:
            before = ", ".join(form["required_before"]) or "none"
            details.append(f"required: {before} -> {', '.join(form['required_after']) or 'none'}")
        echo(f"  ~ {shown(form['file'])}: {'; '.join(details) or 'form details changed'}")


def _counts(changes: dict[str, list]) -> str:
    said = [f"{len(items)} {change}" for change, items in changes.items() if items]
    return ", ".join(said) or "no change"
