"""Cycles: the list, and one cycle's page with what it has recorded, its open tasks and,
for those allowed to read it, its history."""

from __future__ import annotations

from flask import request
from picycle.api.context import request_uow
from picycle.engine.services import audit, cycles

from ..blueprint import blueprint
from ..context import signed_in
from ..rendering import DUE_SOON, render

PAGE_SIZE = 25
HISTORY_SIZE = 500
PRIORITIES = {"high": 0, "medium": 1, "low": 2}


@blueprint.get("/cycles")
def cycle_list():
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    found = cycles.list_cycles(
        request_uow(), signed_in(), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    pages = max(1, -(-found.total // PAGE_SIZE))
    return render("cycles.html", cycles=found.items, page=page, pages=pages)


@blueprint.get("/cycles/<int(min=1, max=2147483647):cycle_id>")
def cycle(cycle_id: int):
    uow, actor = request_uow(), signed_in()
    detail = cycles.get_cycle(uow, actor, cycle_id)
    records = detail.records
    history = None
    if audit.may_read_cycle(uow, actor, cycle_id):
        history = audit.cycle_history(uow, actor, cycle_id, limit=HISTORY_SIZE).items
    return render(
        "cycle.html",
        cycle=detail,
        indicators=_indicators(records),
        gaps=sorted(
            (g for g in records.get("gaps", []) if isinstance(g, dict)),
            key=lambda gap: PRIORITIES.get(gap.get("priority"), len(PRIORITIES)),
        ),
        microprojects=records.get("implemented_microprojects") or records.get("microprojects", []),
        targets_met=records.get("targets_met"),
        lessons_learned=records.get("lessons_learned"),
        history=history,
        now=uow.now,
        soon=uow.now + DUE_SOON,
    )


def _indicators(records: dict) -> list[dict]:
    """Each indicator with its latest actual, where the cycle has evaluated it."""
    actuals = {
        row.get("indicator"): row.get("actual")
        for row in records.get("evaluation", [])
        if isinstance(row, dict)
    }
    return [
        {**indicator, "actual": actuals.get(indicator.get("key"))}
        for indicator in records.get("indicators", [])
        if isinstance(indicator, dict)
    ]
