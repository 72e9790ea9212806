"""For admins: the deployed process models, what changed between two versions (on both
diagrams and as lists), and moving running cycles onto another version."""

from __future__ import annotations

from flask import jsonify, request
from picycle.api.context import engine_for_own_transactions, request_uow
from picycle.engine.actors import require_admin
from picycle.engine.bundles import MAX_NAME, printable
from picycle.engine.errors import NotFound, ValidationFailed
from picycle.engine.services import cycles, definitions, migration
from picycle.engine.services.cycles import CycleFilter
from picycle.engine.vocabulary import CycleStatus

from ..blueprint import blueprint
from ..context import signed_in
from ..i18n import gettext as _
from ..numbers import id_number
from ..rendering import render
from .cycles import model_xml

MODEL = f"/models/<string(maxlength={MAX_NAME}):process_id>"
# The migrate page lists every running cycle of a process: a bound keeps it a page.
MAX_LISTED = 500


def _admin() -> None:
    require_admin(signed_in(), "manage process models")


def _process(process_id: str) -> str:
    """Process ids are BPMN ids: one with control characters names nothing."""
    if not printable(process_id):
        raise NotFound("no process definition with such an id is deployed")
    return process_id


def _version_arg(name: str) -> int | None:
    return id_number(request.values.get(name))


@blueprint.get(f"{MODEL}/diff")
def model_diff(process_id: str):
    """Both versions' diagrams with the changes marked, and the changes listed."""
    _admin()
    uow = request_uow()
    numbers = _numbers(uow, _process(process_id))
    old, new = _version_arg("from"), _version_arg("to")
    if old is None or new is None:
        old, new = numbers[-2] if len(numbers) > 1 else numbers[-1], numbers[-1]
    diff = definitions.diff_versions(uow, process_id, old, new)
    return render("model_diff.html", process_id=process_id, versions=numbers, diff=diff)


@blueprint.get(f"{MODEL}/versions/<int(min=1, max=2147483647):version>/diagram")
def model_diagram(process_id: str, version: int):
    """The version's BPMN file, for the viewer."""
    _admin()
    diagram = definitions.version_diagram(request_uow(), _process(process_id), version)
    return model_xml(diagram.xml, f"{diagram.process_id}-{diagram.version}")


@blueprint.get(f"{MODEL}/diff/marks")
def model_diff_marks(process_id: str):
    """The ids to mark on one side's diagram: on the old one what was removed or changed,
    on the new one what was added or changed."""
    _admin()
    old, new = _version_arg("from"), _version_arg("to")
    if old is None or new is None:
        raise NotFound("name both versions: from and to")
    elements = definitions.diff_versions(request_uow(), _process(process_id), old, new)["elements"]
    shown = ("removed", "changed") if request.args.get("side") == "old" else ("added", "changed")
    return jsonify({kind: [e["id"] for e in elements[kind]] for kind in shown})


@blueprint.get(f"{MODEL}/migrate")
def model_migrate(process_id: str):
    _admin()
    return _migrate_page(_process(process_id), _version_arg("to"))


@blueprint.post(f"{MODEL}/migrate")
def model_migrate_post(process_id: str):
    """Each chosen cycle moves in a transaction of its own: one that cannot move (its data
    changed since the page was shown) holds none of the others back, and the page then
    says which moved and why the others did not."""
    actor = signed_in()
    migration.require_migrator(actor)
    numbers = _numbers(request_uow(), _process(process_id))
    to_version = _version_arg("to")
    if to_version not in numbers:
        return _migrate_page(process_id, None, errors={"to": [_("Choose a version.")]})
    chosen = request.form.getlist("cycles")
    if not all(id_number(c) for c in chosen):
        return _migrate_page(process_id, to_version, errors={"cycles": [_("Choose cycles.")]})
    try:
        plans = migration.migrate_chosen(
            engine_for_own_transactions(), actor, process_id, [int(c) for c in chosen], to_version
        )
    except ValidationFailed as refused:
        return _migrate_page(process_id, to_version, errors=refused.errors)
    return _migrate_page(process_id, to_version, done=plans)


def _numbers(uow, process_id: str) -> list[int]:
    return [v.version for v in definitions.versions_of(uow, process_id)]


def _migrate_page(process_id: str, to_version: int | None, errors=None, done=()):
    """The running cycles on other versions than the target, those that can move and those
    that cannot with the reasons (a dry run of each move), and what was just done. Read in
    units of work of its own: the dry runs lock each cycle in turn, as a move would."""
    actor = signed_in()
    engine = engine_for_own_transactions()
    with engine.unit_of_work(write=False) as uow:
        numbers = _numbers(uow, process_id)
        running = cycles.list_cycles(
            uow, actor, CycleFilter(status=CycleStatus.RUNNING, process_id=process_id), MAX_LISTED
        ).items
    target = to_version if to_version in numbers else numbers[-1]
    others = {c.id: c for c in running if c.version != target}
    plans = migration.migrate_all(engine, actor, process_id, target, dry_run=True)
    candidates = [(others[p.cycle_id], p) for p in plans if p.cycle_id in others]
    return render(
        "model_migrate.html",
        422 if errors else 200,
        process_id=process_id,
        versions=numbers,
        target=target,
        movable=[(c, p) for c, p in candidates if p.possible],
        blocked=[(c, p) for c, p in candidates if not p.possible],
        errors=errors or {},
        done=done,
    )
