"""The inbox: my tasks and my groups' tasks, read from the inbox service (never from the
workflows), with counts, filters, sorting, paging and due-date badges."""

from __future__ import annotations

from dataclasses import replace

from flask import request
from picycle.api.context import request_uow
from picycle.engine.services.cycles import cycle_summaries
from picycle.engine.services.inbox import SORTS, InboxQuery, list_inbox
from picycle.engine.vocabulary import InboxScope

from ..blueprint import blueprint
from ..context import signed_in
from ..numbers import id_number, page_number
from ..rendering import DUE_SOON, process_texts, render

PAGE_SIZE = 25


@blueprint.get("/")
def inbox():
    actor = signed_in()
    scopes = [InboxScope.MINE, InboxScope.GROUPS]
    if actor.reads_everything:
        scopes.append(InboxScope.ALL)
    scope = request.args.get("scope", InboxScope.MINE)
    scope = InboxScope(scope) if scope in scopes else InboxScope.MINE
    sort = request.args.get("sort", "due")
    page = page_number(request.args.get("page"))
    query = InboxQuery(
        scope=scope,
        cycle_id=id_number(request.args.get("cycle")),
        overdue=request.args.get("overdue") == "1",
        sort=sort if sort in SORTS else "due",
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    uow = request_uow()
    found = list_inbox(uow, actor, query)
    counts = {
        other: found.total
        if other == scope
        else list_inbox(uow, actor, replace(query, scope=other, limit=1, offset=0)).total
        for other in scopes
    }
    pages = max(1, -(-found.total // PAGE_SIZE))
    return render(
        "inbox.html",
        tasks=found.items,
        total=found.total,
        counts=counts,
        query=query,
        page=page,
        pages=pages,
        now=uow.now,
        soon=uow.now + DUE_SOON,
        process_text=process_texts(task.cycle_id for task in found.items),
        cycles=cycle_summaries(uow, actor, (task.cycle_id for task in found.items)),
    )
