"""GET /cycles/{id}/report: the leadership report as a PDF, in the language asked for."""

from __future__ import annotations

from picycle.engine.actors import SYSTEM
from picycle.engine.services import units, users
from picycle.engine.vocabulary import Role

from tests.api.conftest import PROBLEM, assert_problem
from tests.pdf_pages import read_pdf


def test_accept_language_chooses_the_report_language(api, start_cycle, tmp_path):
    cycle = start_cycle()
    answer = api.get("pia", f"/cycles/{cycle['id']}/report", headers={"Accept-Language": "nl"})
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    assert answer.headers["Content-Disposition"] == (
        f"attachment; filename=cycle-{cycle['id']}-report-nl.pdf"
    )
    pdf = read_pdf(answer.data, tmp_path)
    assert pdf.shows("Leiderschapsrapport")
    # A running cycle not yet assessed says so, rather than leaving parts out unseen.
    assert pdf.shows("Nog geen indicatoren vastgelegd.")
    assert pdf.shows("Nog geen besluiten genomen.")


def test_a_language_it_does_not_speak_is_refused_at_the_field(api, start_cycle):
    cycle = start_cycle()
    answer = assert_problem(api.get("pia", f"/cycles/{cycle['id']}/report?lang=fr"), 422)
    assert answer["errors"] == {"lang": ["Must be one of: en, nl, ar."]}
    unknown = assert_problem(api.get("pia", f"/cycles/{cycle['id']}/report?language=ar"), 422)
    assert list(unknown["errors"]) == ["language"]


def test_only_those_who_see_the_cycle_get_its_report(api, client, start_cycle, engine, tokens):
    cycle = start_cycle()
    with engine.unit_of_work() as uow:
        finance = units.find_unit(uow, "Directorate of Finance").id
    with engine.unit_of_work() as uow:
        outsider = users.add_user(
            uow, SYSTEM, "fatima", Role.MEMBER, [], [("Department Team", finance)]
        ).token
    path = f"/api/v1/cycles/{cycle['id']}/report"
    assert client.get(path).status_code == 401
    hidden = client.get(path, headers={"Authorization": f"Bearer {outsider}"})
    assert hidden.status_code == 404 and hidden.mimetype == PROBLEM
    assert api.get("audrey", f"/cycles/{cycle['id']}/report").status_code == 200
    assert api.get("pia", "/cycles/999999/report").status_code == 404


def test_the_openapi_document_describes_the_report(api):
    document = api.get(None, "/openapi.json").json
    operation = document["paths"]["/api/v1/cycles/{cycle_id}/report"]["get"]
    assert "application/pdf" in operation["responses"]["200"]["content"]
    assert {p["name"] for p in operation["parameters"] if p["in"] == "query"} == {"lang"}
    assert {"401", "404", "422"} <= set(operation["responses"])
