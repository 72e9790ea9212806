"""Results across cycles through the API: JSON and CSV, and who may read them."""

from __future__ import annotations

import csv
import io

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.db.models import Cycle
from picycle.engine.services import units, users
from sqlalchemy import update

from tests.api.conftest import assert_problem
from tests.cycles_over_time import work_cycle
from tests.support import UNIT, Driver


@pytest.fixture
def planning(engine, tokens, clock) -> int:
    """Two whole cycles of the Directorate of Planning: the first misses its targets three
    times and is closed, the second (titled like a spreadsheet formula) meets them."""
    driver = Driver(lambda: engine)
    work_cycle(driver, clock, actuals=(70, 90))
    cycle_id = work_cycle(driver, clock, permits=(70, 80), backlog=(90, 60))
    with engine.unit_of_work() as uow:
        uow.session.execute(update(Cycle).where(Cycle.id == cycle_id).values(title="=HYPERLINK(1)"))
        uow.commit()
    with engine.unit_of_work(write=False) as uow:
        return units.find_unit(uow, UNIT).id


@pytest.fixture
def fred(engine, tokens) -> str:
    """A member of the Department Team in the Directorate of Finance only; his token."""
    with engine.unit_of_work() as uow:
        finance = units.find_unit(uow, "Directorate of Finance").id
    with engine.unit_of_work() as uow:
        made = users.add_user(uow, SYSTEM, "fred", "member", [], [("Department Team", finance)])
    tokens["fred"] = made.token
    return made.token


def rows_of(response) -> list[dict]:
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_a_units_results_as_json(api, planning):
    found = api.get("dana", f"/units/{planning}/results").json
    assert [c["cycle_number"] for c in found["cycles"]] == [1, 2]
    assert [c["targets_met"] for c in found["cycles"]] == [False, True]
    permits = next(t for t in found["indicators"] if t["key"] == "permits")
    assert [(p["baseline"], p["actual"]) for p in permits["points"]] == [(55, 70), (70, 82)]
    assert (found["gaps_found"], found["gaps_closed"]) == (4, 2)
    assert found["on_time_share"] == 1.0
    assert {p["element_id"] for p in found["phases"]} >= {"assess_performance", "decide_on_cycle"}
    assert "pia" in {p["name"] for p in found["people"]}
    assert found["overdue"] == []
    assert found["below"] is False


def test_a_units_results_as_csv_one_row_per_cycle_and_indicator(api, planning):
    response = api.get("audrey", f"/units/{planning}/results?format=csv&below=true")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith(
        f"attachment; filename=unit-{planning}-results-"
    )
    rows = rows_of(response)
    assert [(r["cycle_number"], r["indicator"]) for r in rows] == [
        ("1", "permits"),
        ("1", "backlog"),
        ("2", "permits"),
        ("2", "backlog"),
    ]
    assert (rows[2]["baseline"], rows[2]["actual"], rows[2]["met"]) == ("70", "82", "true")
    assert rows[0]["targets_met"] == "false"
    # Text a spreadsheet would run as a formula is kept as text.
    assert rows[2]["title"] == "'=HYPERLINK(1)"


def test_a_member_of_another_unit_is_refused_saying_what_she_lacks(api, planning, fred):
    assert api.get("fred", f"/units/{planning}").status_code == 200  # units are public
    for query in ("", "?format=csv"):
        refused = assert_problem(api.get("fred", f"/units/{planning}/results{query}"), 403)
        assert refused["detail"] == (
            f"fred is a member of no group in unit {UNIT} or a unit above it, so may not see "
            "its results"
        )
    assert_problem(api.get("ada", "/units/999999/results"), 404)
    assert_problem(api.get("fred", "/units/999999/results"), 404)


def test_the_overview_as_json_and_csv(api, planning, clock):
    clock.advance(days=181)
    found = api.get("pia", "/results/overview").json
    assert found["whole_organisation"] is True
    row = next(u for u in found["units"] if u["unit_id"] == planning)
    assert (row["cycles"], row["completed"], row["targets_met"]) == (2, 2, 1)
    assert (row["targets_met_share"], row["on_time_share"], row["quiet"]) == (0.5, 1.0, True)
    longer = api.get("pia", "/results/overview?quiet_days=365").json["units"]
    assert next(u for u in longer if u["unit_id"] == planning)["quiet"] is False

    rows = rows_of(api.get("audrey", "/results/overview?format=csv"))
    assert {r["unit"]: r["quiet"] for r in rows}[UNIT] == "true"
    assert {r["unit"]: r["on_time_share"] for r in rows}[UNIT] == "1.0"


def test_a_member_compares_only_the_units_they_cover(api, planning, fred):
    found = api.get("fred", "/results/overview").json
    assert found["whole_organisation"] is False
    assert [u["unit"] for u in found["units"]] == ["Directorate of Finance"]


@pytest.mark.parametrize("query", ["quiet_days=0", "quiet_days=99999", "format=xml", "colour=red"])
def test_bad_query_parameters_are_refused(api, query):
    assert_problem(api.get("ada", f"/results/overview?{query}"), 422)
