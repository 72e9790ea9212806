"""Numbers typed into addresses and forms by hand, or by a prober: a page number, an id or
a row index that is not a small decimal number is read as absent or refused at its field,
never a server error. ('²' passes ``isdigit`` but not ``int``; ``int`` refuses a number of
thousands of digits.)"""

from __future__ import annotations

import pytest

from tests.pages.conftest import text_of
from tests.pages.test_task_form import assessment, assessment_form
from tests.support import INDICATORS

HUGE = "9" * 5000
ODD = ["²", "٣٣", HUGE, "-1", "0"]


@pytest.mark.parametrize("typed", ODD)
def test_addresses_with_odd_numbers_answer_as_without_them(browser, driver, typed):
    driver.start()
    audrey = browser("audrey")
    for path in ("/cycles?page=", "/?cycle=", "/?page=", "/results?quiet_days="):
        assert audrey.get(path + typed).status_code == 200, path
    filtered = audrey.get(f"/audit?cycle={typed}")
    if typed == "٣٣":  # Arabic-Indic digits, as an Arabic keyboard types them: cycle 33
        assert filtered.status_code == 200
    else:
        assert filtered.status_code == 400
        assert "Enter a whole number from 1 to" in text_of(filtered)


@pytest.mark.parametrize("typed", ["²", HUGE])
def test_a_form_row_with_an_odd_index_is_left_out(browser, driver, typed):
    cycle_id, task = assessment(driver)
    pia = browser("pia")
    pia.get(f"/tasks/{task.id}")
    form = {**assessment_form(INDICATORS), f"indicators.{typed}.key": "extra"}
    done = pia.post(f"/tasks/{task.id}", form)
    assert (done.status_code, done.location) == (302, "/")
    assert driver.cycle(cycle_id).records["indicators"] == INDICATORS
    removed = pia.post(f"/tasks/{task.id}", {**form, "remove_row": f"indicators.{typed}"})
    assert removed.status_code in (200, 409)
