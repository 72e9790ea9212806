"""Evidence on the pages: attached with a plain form post (CSRF checked), listed with its
hash on the task's page and per task on the cycle's page, downloaded as an attachment;
refusals shown beside the file input."""

from __future__ import annotations

import io
import re

from tests.api.test_body_limits import MiB, Unreadable
from tests.pages.conftest import text_of

SHEET = b"indicator,actual\npermits,82\n"


def assessment(driver):
    cycle_id = driver.start()
    return cycle_id, driver.task(cycle_id, "assess_performance").id


def attach(browser, task_id: str, content: bytes, name: str, csrf: bool = True):
    return browser.post(
        f"/tasks/{task_id}/evidence",
        {"file": (io.BytesIO(content), name)},
        csrf=csrf,
        content_type="multipart/form-data",
    )


def test_a_file_is_attached_with_a_plain_form_and_downloaded(browser, driver):
    cycle_id, task_id = assessment(driver)
    pia = browser("pia")
    page = text_of(pia.get(f"/tasks/{task_id}"))
    assert 'enctype="multipart/form-data"' in page
    assert '<label for="evidence-file">Attach evidence</label>' in page
    posted = attach(pia, task_id, SHEET, "march.csv")
    assert posted.status_code == 302
    assert posted.location == f"/tasks/{task_id}#evidence"
    page = text_of(pia.get(f"/tasks/{task_id}"))
    assert "The file is attached." in page
    (link,) = re.findall(rf'href="(/tasks/{task_id}/evidence/\d+)" download>march.csv<', page)
    got = pia.get(link)
    assert got.data == SHEET
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    cycle_page = text_of(browser("audrey").get(f"/cycles/{cycle_id}"))
    assert "march.csv" in cycle_page and link in cycle_page


def test_a_refused_file_is_named_beside_the_input(browser, driver):
    _, task_id = assessment(driver)
    pia = browser("pia")
    refused = attach(pia, task_id, b"MZ\x90\x00" + bytes(300), "photo.png")
    assert refused.status_code == 422
    page = text_of(refused)
    assert "The file was not attached." in page
    assert "application/x-msdownload" in page
    assert 'aria-invalid="true"' in page
    empty = attach(pia, task_id, b"", "")
    assert empty.status_code == 422 and "Choose a file to attach." in text_of(empty)


def test_without_the_csrf_token_nothing_is_attached(browser, driver):
    _, task_id = assessment(driver)
    pia = browser("pia")
    assert attach(pia, task_id, SHEET, "march.csv", csrf=False).status_code == 400
    assert "No evidence attached yet." in text_of(pia.get(f"/tasks/{task_id}"))


def test_a_body_over_the_evidence_limit_is_refused_unread(browser, driver):
    _, task_id = assessment(driver)
    pia = browser("pia")
    Unreadable.reads = 0
    refused = pia.client.post(
        f"/tasks/{task_id}/evidence",
        content_type="multipart/form-data; boundary=x",
        environ_overrides={"wsgi.input": Unreadable(), "CONTENT_LENGTH": str(21 * MiB)},
    )
    assert refused.status_code == 413
    assert Unreadable.reads == 0


def test_who_may_not_read_the_task_neither_attaches_nor_downloads(browser, driver):
    cycle_id, task_id = assessment(driver)
    attach(browser("pia"), task_id, SHEET, "march.csv")
    lena = browser("lena")
    assert attach(lena, task_id, b"x,y\n1,2\n", "mine.csv").status_code == 403
    assert lena.get(f"/tasks/{task_id}/evidence/1").status_code == 403
    assert "march.csv" not in text_of(lena.get(f"/cycles/{cycle_id}"))
    auditor = text_of(browser("audrey").get(f"/tasks/{task_id}"))
    assert "march.csv" in auditor and "Attach evidence" not in auditor
