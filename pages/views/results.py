"""Results across cycles: a unit's (charts of each indicator, with tables), and the
organisation overview with quiet units flagged; each also as a CSV download."""

from __future__ import annotations

from datetime import timedelta

import flask_babel
from flask import request
from picycle.api.context import request_uow
from picycle.api.downloads import csv_download
from picycle.engine.services import results, results_csv

from ..blueprint import blueprint
from ..context import signed_in
from ..i18n import gettext
from ..numbers import whole_number
from ..rendering import DUE_SOON, process_texts, render

UNIT_ID = "<int(min=1, max=2147483647):unit_id>"


def _below() -> bool:
    return request.args.get("below") == "1"


def _quiet_days() -> int:
    given = request.args.get("quiet_days", "")
    days = whole_number(given, 99_999)
    days = results.QUIET_DAYS if days is None else days
    return min(max(days, 1), results.MAX_QUIET_DAYS)


@blueprint.get(f"/units/{UNIT_ID}/results")
def unit_results(unit_id: int):
    uow = request_uow()
    found = results.unit_results(uow, signed_in(), unit_id, _below())
    return render(
        "unit_results.html",
        found=found,
        charts=[_chart(trend) for trend in found.indicators],
        duration=_duration,
        percent=_percent,
        now=uow.now,
        soon=uow.now + DUE_SOON,
        process_text=process_texts(
            [
                *(task.cycle_id for task in found.overdue),
                *(p.slowest_cycle_id for p in found.phases),
            ]
        ),
    )


@blueprint.get(f"/units/{UNIT_ID}/results.csv")
def unit_results_csv(unit_id: int):
    found = results.unit_results(request_uow(), signed_in(), unit_id, _below())
    return csv_download(results_csv.unit_results_csv(found), f"unit-{unit_id}-results")


@blueprint.get("/results")
def overview():
    found = results.overview(request_uow(), signed_in(), _quiet_days())
    return render("results_overview.html", found=found, percent=_percent)


@blueprint.get("/results.csv")
def overview_csv():
    found = results.overview(request_uow(), signed_in(), _quiet_days())
    return csv_download(results_csv.overview_csv(found), "results-overview")


def _chart(trend) -> dict:
    """What the page's script draws (data-* attributes: the pages run no inline script)."""
    return {
        "labels": [
            gettext("Cycle %(number)s", number=point.cycle_number) for point in trend.points
        ],
        "series": [
            {"label": label, "values": [getattr(point, name) for point in trend.points]}
            for name, label in (
                ("baseline", gettext("Baseline")),
                ("target", gettext("Target")),
                ("actual", gettext("Actual")),
            )
        ],
    }


def _duration(seconds: float) -> str:
    return flask_babel.format_timedelta(timedelta(seconds=seconds), threshold=1.5)


def _percent(fraction: float | None) -> str:
    return "–" if fraction is None else flask_babel.format_percent(fraction)
