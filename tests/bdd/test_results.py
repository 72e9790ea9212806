"""Steps for features/results.feature, in the users' words, through the HTTP API."""

from __future__ import annotations

import pytest
from picycle.api import create_app
from picycle.engine.actors import SYSTEM
from picycle.engine.services import units, users
from pytest_bdd import given, parsers, scenarios, then, when

from tests.cycles_over_time import work_cycle

scenarios("results.feature")

MINISTRY = "Ministry of Public Works"
PLANNING = "Directorate of Planning"
FINANCE = "Directorate of Finance"


@pytest.fixture
def org(driver):
    """The units' ids, the people's tokens, the last answer read, and an API client."""
    app = create_app({"PICYCLE_ENGINE": driver.engine, "TESTING": True})
    tokens = {}
    for name in ("pia", "ada"):
        with driver.engine.unit_of_work() as uow:
            tokens[name] = users.issue_token(uow, SYSTEM, name).token
    return {"units": {}, "tokens": tokens, "client": app.test_client(), "answer": None}


def call(org, who: str, path: str):
    headers = {"Authorization": f"Bearer {org['tokens'][who]}"}
    return org["client"].get("/api/v1" + path, headers=headers)


def read(org, who: str, path: str) -> dict:
    response = call(org, who, path)
    assert response.status_code == 200, response.json
    org["answer"] = response.json
    return response.json


def overview_row(org, unit: str) -> dict:
    return next(row for row in org["answer"]["units"] if row["unit"] == unit)


@given(
    "the Ministry of Public Works with the Directorate of Planning and the Directorate of "
    "Finance below it"
)
def ministry(driver, org):
    with driver.engine.unit_of_work() as uow:
        org["units"][MINISTRY] = units.add_unit(uow, SYSTEM, MINISTRY).id
    for name in (PLANNING, FINANCE):
        with driver.engine.unit_of_work() as uow:
            directorate = units.find_unit(uow, name).id
            units.update_unit(uow, SYSTEM, directorate, parent_id=org["units"][MINISTRY])
        org["units"][name] = directorate


@given(
    parsers.parse("the Directorate of Planning has worked three cycles on {indicator}:"),
)
def three_cycles(driver, clock, datatable):
    header, *rows = datatable
    for row in rows:
        cycle = dict(zip(header, row, strict=True))
        baseline, target, actual = (float(cycle[k]) for k in ("baseline", "target", "actual"))
        # Open complaints (the other indicator) go the way permits go.
        backlog = 55 if actual >= target else 90
        work_cycle(driver, clock, permits=(baseline, target), actuals=(actual, backlog))


@given("the Directorate of Planning has worked a cycle")
@given("the Directorate of Planning has worked a cycle whose microprojects were reported on time")
def planning_cycle(driver, clock):
    work_cycle(driver, clock, unit=PLANNING)


@given(parsers.parse("a cycle whose microprojects were reported {days:d} days late"))
def late_cycle(driver, clock, days):
    work_cycle(driver, clock, unit=PLANNING, late_days=days)


@given("the Directorate of Planning and the Directorate of Finance have each worked a cycle")
def each_worked_a_cycle(driver, clock):
    for unit in (PLANNING, FINANCE):
        work_cycle(driver, clock, unit=unit)


@given(parsers.parse("{days:d} days later the Directorate of Finance starts its next cycle"))
def finance_starts_again(driver, clock, days):
    clock.advance(days=days)
    driver.start(unit=FINANCE)


@given(parsers.parse("fred is a member of the {group} in the Directorate of Finance"))
def fred(driver, org, group):
    with driver.engine.unit_of_work() as uow:
        added = users.add_user(uow, SYSTEM, "fred", "member", [], [(group, org["units"][FINANCE])])
    org["tokens"]["fred"] = added.token


@when("the PI unit reads the results of the Directorate of Planning")
def pi_unit_reads(org):
    read(org, "pia", f"/units/{org['units'][PLANNING]}/results")


@when("the PI unit reads the results of the Ministry of Public Works with the units below it")
def pi_unit_reads_the_ministry(org):
    read(org, "pia", f"/units/{org['units'][MINISTRY]}/results?below=true")


@when("the PI unit compares the units")
def pi_unit_compares(org):
    read(org, "pia", "/results/overview")


@when("fred asks for the results of the Directorate of Planning")
def fred_asks(org):
    org["answer"] = call(org, "fred", f"/units/{org['units'][PLANNING]}/results")


@then("permits issued within 30 days read, cycle after cycle:")
def permits_trend(org, datatable):
    header, *rows = datatable
    (trend,) = [t for t in org["answer"]["indicators"] if t["key"] == "permits"]
    seen = [
        [
            str(point["cycle_number"]),
            f"{point['baseline']:g}",
            f"{point['target']:g}",
            f"{point['actual']:g}",
            "yes" if point["met"] else "no",
        ]
        for point in trend["points"]
    ]
    assert [dict(zip(header, row, strict=True)) for row in seen] == [
        dict(zip(header, row, strict=True)) for row in rows
    ]


@then(parsers.parse("{found:d} gaps were found and {closed:d} of them closed"))
def gaps(org, found, closed):
    assert (org["answer"]["gaps_found"], org["answer"]["gaps_closed"]) == (found, closed)


@then("it sees the cycles of the Directorate of Planning and of the Directorate of Finance")
def ministry_cycles(org):
    assert sorted(c["unit"] for c in org["answer"]["cycles"]) == [FINANCE, PLANNING]


@then("the Ministry's own results have no cycles")
def ministry_alone(org):
    assert read(org, "pia", f"/units/{org['units'][MINISTRY]}/results")["cycles"] == []


@then(
    parsers.parse(
        "the Directorate of Planning has reported {on_time:d} of {due:d} microprojects on "
        "time, a share of {percent:d}%"
    )
)
def on_time_share(org, on_time, due, percent):
    row = overview_row(org, PLANNING)
    assert (row["on_time"], row["microprojects_due"]) == (on_time, due)
    assert round(row["on_time_share"] * 100) == percent


@then("the Directorate of Planning is flagged as quiet")
def planning_quiet(org):
    assert overview_row(org, PLANNING)["quiet"] is True


@then("the Directorate of Finance is not")
def finance_not_quiet(org):
    assert overview_row(org, FINANCE)["quiet"] is False


@then("the Ministry of Public Works, which never ran a cycle, is not")
def ministry_not_quiet(org):
    row = overview_row(org, MINISTRY)
    assert (row["cycles"], row["quiet"]) == (0, False)


@then("he is refused, told that none of his groups is in that unit")
def refused(org):
    assert org["answer"].status_code == 403
    assert org["answer"].mimetype == "application/problem+json"
    assert "fred is a member of no group in unit" in org["answer"].json["detail"]


@then("comparing the units, fred sees the Directorate of Finance only")
def fred_compares(org):
    found = read(org, "fred", "/results/overview")
    assert [row["unit"] for row in found["units"]] == [FINANCE]
