"""The leadership report from the cycle's page: a link on the page, the PDF in the
language the pages are in, and nothing for someone who cannot see the cycle."""

from __future__ import annotations

from picycle.engine.actors import SYSTEM
from picycle.engine.services import units, users
from picycle.engine.vocabulary import Role

from tests.pages.conftest import text_of
from tests.pdf_pages import read_pdf
from tests.support import UNIT


def test_the_cycle_page_links_to_the_report_in_the_page_language(browser, driver, tmp_path):
    cycle_id = driver.start(unit=UNIT)
    driver.work_whole_cycle(cycle_id)
    pia = browser("pia")
    pia.post("/language", {"language": "ar", "next": "/"})
    page = text_of(pia.get(f"/cycles/{cycle_id}"))
    link = f'href="/cycles/{cycle_id}/report.pdf"'
    assert link in page and "تقرير القيادة (PDF)" in page

    response = pia.client.get(f"/cycles/{cycle_id}/report.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert f"cycle-{cycle_id}-report-ar.pdf" in response.headers["Content-Disposition"]
    pdf = read_pdf(response.data, tmp_path)
    assert len(pdf.pages) == 1
    assert pdf.shows("تقرير القيادة") and pdf.shows("Digital permit intake")


def test_someone_who_cannot_see_the_cycle_gets_no_report(browser, driver):
    cycle_id = driver.start(unit=UNIT)
    with driver.engine.unit_of_work() as uow:
        finance = units.find_unit(uow, "Directorate of Finance").id
    with driver.engine.unit_of_work() as uow:
        users.add_user(uow, SYSTEM, "fatima", Role.MEMBER, [], [("Department Team", finance)])
    assert browser("fatima").client.get(f"/cycles/{cycle_id}/report.pdf").status_code == 404
    # Signed in as no one: to the sign-in page, no PDF.
    visitor = browser().get(f"/cycles/{cycle_id}/report.pdf")
    assert visitor.status_code == 302 and "/sign-in" in visitor.location
