"""The audit pages: the event browser (filters, keyset paging, downloads), a cycle's trail
beside its diagram, and verifying the trail; for auditors and admins, as the API allows."""

from __future__ import annotations

import csv
import io
import json
import re
import threading

import pytest
from picycle.engine.services import comments
from picycle.pages.views import audit as audit_pages

from tests.integration.test_audit_tampering import behind_the_apps_back
from tests.pages.conftest import text_of
from tests.xes import completed, read_traces, resources, trace_name

ROW_SEQ = re.compile(r'<th scope="row">(\d+)</th>')
CYCLE_LINK = re.compile(r'href="/audit/cycles/(\d+)"')


def seqs(page: str) -> list[int]:
    return [int(seq) for seq in ROW_SEQ.findall(page)]


def link(page: str, rel: str) -> str | None:
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', page)
    return found and found.group(1).replace("&amp;", "&")


def two_cycles(driver, clock) -> tuple[int, int]:
    first = driver.start()
    driver.assess(first)
    driver.identify_gaps(first)
    driver.design(first, clock().date())
    driver.approve(first, approved=False, comment="Too big")
    second = driver.start(unit="Roads", title="Fewer potholes")
    return first, second


@pytest.mark.parametrize(
    "path",
    [
        "/audit",
        "/audit?cycle=1",
        "/audit/events.csv",
        "/audit/events.xes?cycle=1",
        "/audit/verify",
        "/audit/verify?run=1",
    ],
)
def test_a_team_member_may_not_read_the_whole_trail(browser, driver, path):
    driver.start()  # pia's cycle: she took part, and still may not read the whole trail
    for name in ("pia", "dana"):
        response = browser(name).get(path)
        assert response.status_code == 403, (name, path)
        assert "You may not do this" in text_of(response)
        assert "cycle_started" not in text_of(response)


def test_auditors_and_admins_read_the_trail(browser, driver):
    driver.start()
    for name in ("audrey", "ada"):
        page = browser(name).get("/audit")
        assert page.status_code == 200
        assert "cycle_started" in text_of(page) and 'href="/audit/verify"' in text_of(page)
    assert 'href="/audit"' in text_of(browser("audrey").get("/"))  # in the menu
    assert 'href="/audit"' not in text_of(browser("dana").get("/"))


def test_a_cycles_trail_is_read_as_its_history_is(browser, driver, clock):
    first, second = two_cycles(driver, clock)
    assert browser("dana").get(f"/audit/cycles/{first}").status_code == 200  # took part
    # The design sent back is open to omar's group: he takes part before he acts.
    assert browser("omar").get(f"/audit/cycles/{first}").status_code == 200
    # Nothing of the other cycle is his: only its assessment, the PI unit's, is open.
    refused = browser("omar").get(f"/audit/cycles/{second}")
    assert refused.status_code == 403
    assert "You take no part in this cycle yet" in text_of(refused)
    assert browser("omar").get(f"/audit/cycles/{second}/marks").status_code == 403
    assert browser("audrey").get(f"/audit/cycles/{first}").status_code == 200
    assert browser("audrey").get("/audit/cycles/999").status_code == 404


def test_filters_narrow_the_events(browser, driver, clock):
    first, second = two_cycles(driver, clock)
    audrey = browser("audrey")
    everything = text_of(audrey.get("/audit"))
    assert {str(first), str(second)} <= set(CYCLE_LINK.findall(everything))

    one_cycle = text_of(audrey.get(f"/audit?cycle={first}"))
    assert set(CYCLE_LINK.findall(one_cycle)) == {str(first)}
    assert seqs(one_cycle) == sorted(seqs(one_cycle), reverse=True)  # newest first
    assert [e.seq for e in driver.events(first)][::-1] == seqs(one_cycle)

    by_unit = text_of(audrey.get("/audit", query_string={"unit": "Roads"}))
    assert set(CYCLE_LINK.findall(by_unit)) == {str(second)}

    lena = text_of(audrey.get("/audit", query_string={"actor": "Lena", "type": "task_completed"}))
    (approval,) = [
        e for e in driver.events(first) if e.actor == "lena" and e.type == "task_completed"
    ]
    assert seqs(lena) == [approval.seq]
    assert 'value="Lena"' in lena  # the filter as typed, shown again

    later = text_of(audrey.get("/audit", query_string={"since": "2027-01-01T00:00"}))
    assert seqs(later) == [] and "No events match." in later
    within = audrey.get("/audit", query_string={"since": "2026-03-02", "until": "2026-03-03"})
    assert len(seqs(text_of(within))) == min(audit_pages.PAGE_SIZE, len(driver.events()))


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ({"cycle": "abc"}, "cycle", "Enter a whole number from 1 to 2,147,483,647."),
        ({"cycle": "0"}, "cycle", "Enter a whole number from 1 to 2,147,483,647."),
        ({"cycle": "99999999999"}, "cycle", "Enter a whole number from 1 to 2,147,483,647."),
        ({"cycle": "²"}, "cycle", "Enter a whole number"),  # a digit, not a decimal one
        ({"unit": "Nowhere"}, "unit", "Choose a unit from the list."),
        ({"type": "task_done"}, "type", "Choose a type from the list."),
        ({"actor": "x" * 101}, "actor", "Enter a user name of at most 100 characters."),
        ({"since": "yesterday"}, "since", "Enter a date, or a date and time"),
        ({"until": "2026-13-01"}, "until", "Enter a date, or a date and time"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "until", "Enter a moment after"),
        ({"since": "2026-03-02T10:00", "until": "2026-03-02T10:00"}, "until", "Enter a moment"),
        ({"before": "-1"}, None, "Enter a whole number"),
        ({"after": "1e3"}, None, "Enter a whole number"),
    ],
)
def test_a_bad_filter_is_named_at_its_field_and_lists_nothing(
    browser, driver, args, field, message
):
    driver.start()
    response = browser("audrey").get("/audit", query_string=args)
    page = text_of(response)
    assert response.status_code == 400
    assert message in page
    assert seqs(page) == [] and "Download these events" not in page
    if field:
        assert f'<a href="#filter-{field}">' in page  # the summary leads to the field
        assert f'id="filter-{field}-error"' in page and 'aria-invalid="true"' in page
    download = browser("audrey").get("/audit/events.csv", query_string=args)
    assert download.status_code == 400 and "text/csv" not in download.content_type


def test_paging_is_stable_while_new_events_arrive(browser, driver, clock, monkeypatch):
    monkeypatch.setattr(audit_pages, "PAGE_SIZE", 4)
    first, _ = two_cycles(driver, clock)
    audrey = browser("audrey")
    query = f"/audit?cycle={first}"
    newest = text_of(audrey.get(query))
    older = link(newest, "next")
    assert older is not None and link(newest, "prev") is None
    second_page = seqs(text_of(audrey.get(older)))
    assert len(second_page) == 4 and max(second_page) < min(seqs(newest))

    driver.design(first, clock().date())  # new events of the same cycle arrive
    assert seqs(text_of(audrey.get(older))) == second_page  # the link shows what it showed
    assert seqs(text_of(audrey.get(query)))[0] > seqs(newest)[0]  # the newest page has them

    walked, page_link = [], query
    while page_link:  # older and older, to the first event: each event once, in order
        page = text_of(audrey.get(page_link))
        walked += seqs(page)
        page_link = link(page, "next")
    assert walked == [e.seq for e in driver.events(first)][::-1]

    newer = link(text_of(audrey.get(older)), "prev")
    assert seqs(text_of(audrey.get(newer))) == seqs(newest)  # back to the events before them
    assert f"cycle={first}" in older and f"cycle={first}" in newer  # the filter stays


def test_a_cursor_that_names_no_event_is_not_found(browser, driver):
    driver.start()
    for cursor in ("before", "after", "start"):
        response = browser("audrey").get(f"/audit?{cursor}=999999")
        assert response.status_code == 404 and "There is nothing here" in text_of(response)


def test_the_xes_download_reads_back_with_the_current_filter(browser, driver, clock, tmp_path):
    first, second = two_cycles(driver, clock)
    response = browser("audrey").get(f"/audit/events.xes?cycle={first}")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert re.fullmatch(
        r"attachment; filename=audit-events-\d{8}T\d{6}Z\.xes",
        response.headers["Content-Disposition"],
    )
    path = tmp_path / "trail.xes"
    path.write_bytes(response.get_data())
    (trace,) = read_traces(path)  # the other cycle is filtered out
    assert trace_name(trace) == f"cycle {first}"
    assert completed(trace) == [
        "Assess performance",
        "Identify gaps",
        "Design microprojects",
        "Leadership approval",
    ]
    assert resources(trace) == {"pia", "dana", "lena"}


def test_csv_and_json_lines_downloads_hold_every_matching_event(browser, driver, clock):
    first, _ = two_cycles(driver, clock)
    audrey = browser("audrey")
    expected = [e.seq for e in driver.events(first) if e.type == "task_completed"]
    query = {"cycle": first, "type": "task_completed"}
    table = audrey.get("/audit/events.csv", query_string=query)
    rows = list(csv.DictReader(io.StringIO(text_of(table))))
    assert [int(row["seq"]) for row in rows] == expected
    assert json.loads(rows[0]["data"])["title"] == "Assess performance"
    lines = text_of(audrey.get("/audit/events.jsonl", query_string=query)).splitlines()
    assert [json.loads(line)["seq"] for line in lines] == expected
    assert audrey.get("/audit/events.pdf").status_code == 404


def test_a_cycles_trail_shows_its_path_with_counts_and_who_acted(browser, driver, clock):
    first, _ = two_cycles(driver, clock)
    driver.design(first, clock().date())  # designed twice: the path passes design twice
    audrey = browser("audrey")
    page = text_of(audrey.get(f"/audit/cycles/{first}"))
    design = page[page.index('<tr data-element="design_microprojects">') :]
    design = design[: design.index("</tr>")]
    assert "<td>2</td>" in design and design.count("dana") == 4  # claimed and completed twice
    approval = page[page.index('<tr data-element="leadership_approval">') :]
    assert "lena" in approval[: approval.index("</tr>")]
    assert "Design microprojects → Leadership approval" in page  # the connections, by name
    timeline = page[page.index('id="timeline-heading"') :]
    assert timeline.index("Cycle started") < timeline.index("Task completed")
    gateway = page[page.index('<tr data-element="design_approved">') :]
    assert "Automatic: no one acts here" in gateway[: gateway.index("</tr>")]

    marks = audrey.get(f"/audit/cycles/{first}/marks").get_json()
    assert marks["counts"]["design_microprojects"] == 2
    assert marks["current"] == ["leadership_approval"]
    assert ["design_microprojects", "leadership_approval", 2] in marks["flow_counts"]
    assert len(marks["acts"]["design_microprojects"]) == 4
    assert all(act.startswith("dana ") for act in marks["acts"]["design_microprojects"])


def test_a_cycles_trail_gives_every_time_in_one_format_with_its_zone(browser, driver, clock):
    first, _ = two_cycles(driver, clock)
    audrey = browser("audrey")
    audrey.post("/language", {"language": "nl", "next": "/"})
    page = text_of(audrey.get(f"/audit/cycles/{first}"))
    second = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
    steps = page[page.index('id="steps-caption"') : page.index("</table>")]
    timeline = page[page.index('id="timeline-heading"') :]
    assert "Wie en wanneer (UTC)" in steps and "Tijdlijn (UTC)" in timeline
    shown = [
        re.findall(r'<time datetime="[^"]+"( dir="ltr")?>([^<]*)</time>', part)
        for part in (steps, timeline)
    ]
    assert all(shown)
    for times in shown:
        assert all(isolated and re.fullmatch(second, when) for isolated, when in times), times
    acts = audrey.get(f"/audit/cycles/{first}/marks").get_json()["acts"]
    assert re.fullmatch(rf"dana · {second} \(UTC\)", acts["design_microprojects"][0])


def test_a_cycles_trail_reads_in_the_readers_language(browser, driver, clock):
    first, _ = two_cycles(driver, clock)
    audrey = browser("audrey")
    audrey.post("/language", {"language": "nl", "next": "/"})
    page = text_of(audrey.get(f"/audit/cycles/{first}"))
    assert "Microprojecten ontwerpen → Goedkeuring door de leiding" in page  # the model's texts
    design = page[page.index('<tr data-element="design_microprojects">') :]
    assert "Taak afgerond" in design[: design.index("</tr>")]  # the event types
    gateway = page[page.index('<tr data-element="design_approved">') :]
    assert "Ontwerp goedgekeurd?" in gateway and "Automatisch: hier handelt niemand" in gateway
    assert "task_completed" not in page[page.index('id="timeline-heading"') :]
    browsed = text_of(audrey.get("/audit"))
    assert '<option value="task_completed" >Taak afgerond</option>' in browsed


def test_verifying_an_intact_trail_says_so_with_counts(browser, driver, clock):
    two_cycles(driver, clock)
    audrey = browser("audrey")
    before = text_of(audrey.get("/audit/verify"))
    events = len(driver.events())
    assert f"It checks {events} events in 3 chains" in before and "intact" not in before
    page = text_of(audrey.get("/audit/verify?run=1"))
    assert "The trail is intact" in page and f"{events} events in 3 chains checked." in page
    assert "The server has no audit key" in page


def test_verifying_a_tampered_trail_names_the_first_break(browser, driver, clock):
    first, _ = two_cycles(driver, clock)
    (approval,) = [
        e for e in driver.events(first) if e.type == "task_completed" and e.actor == "lena"
    ]
    behind_the_apps_back(
        driver, f"UPDATE audit_events SET actor = 'mallory' WHERE seq = {approval.seq}"
    )
    page = text_of(browser("audrey").get("/audit/verify?run=1"))
    assert "The trail is not intact" in page
    first_break = page[page.index("The first break") :]
    assert f"cycle:{first}" in first_break
    assert (
        f'href="/audit?cycle={first}&amp;start={approval.seq}">Number {approval.seq}' in first_break
    )
    assert f"event {approval.seq} (task_completed) was altered after it was recorded" in first_break
    assert "can no longer be trusted" in first_break and "picycle backup" in first_break
    shown = browser("audrey").get(f"/audit?cycle={first}&start={approval.seq}")
    assert seqs(text_of(shown))[0] == approval.seq  # the link leads to the event itself
    assert "mallory" in text_of(shown)


def test_verifying_a_trail_with_deleted_events_says_where(browser, driver, clock):
    first, _ = two_cycles(driver, clock)
    last = driver.events(first)[-1]
    behind_the_apps_back(driver, f"DELETE FROM audit_events WHERE seq = {last.seq}")
    page = text_of(browser("ada").get("/audit/verify?run=1"))
    first_break = page[page.index("The first break") :]
    assert "none: events were deleted" in first_break and "Events are missing" in first_break
    assert f"chain cycle:{first} should hold" in first_break


def test_a_second_verification_waits_for_the_first(browser, driver, monkeypatch):
    held = threading.Lock()
    monkeypatch.setattr(audit_pages, "_VERIFYING", held)
    with held:  # a verification under way
        response = browser("audrey").get("/audit/verify?run=1")
    assert response.status_code == 409
    assert "A verification is running already" in text_of(response)
    assert "The trail is intact" in text_of(browser("audrey").get("/audit/verify?run=1"))


def test_the_audit_pages_speak_arabic_right_to_left(browser, driver, clock):
    first, _ = two_cycles(driver, clock)
    audrey = browser("audrey")
    for path, words in (
        ("/audit", "سجل التدقيق"),
        (f"/audit/cycles/{first}", "المسار الذي سلكته"),
        ("/audit/verify?run=1", "السجل سليم"),
        ("/audit?cycle=x", "صحّح عوامل التصفية هذه"),
    ):
        page = text_of(audrey.get(path, headers={"Accept-Language": "ar"}))
        assert '<html lang="ar" dir="rtl">' in page and words in page, path


def test_what_users_wrote_is_shown_as_text_and_exported_as_data(browser, driver):
    cycle_id = driver.start()
    (task,) = driver.open_tasks(cycle_id)
    hostile = "<script>alert('x')</script> =HYPERLINK(\"http://evil.example\")"
    with driver.engine.unit_of_work() as uow:
        comments.add_comment(uow, driver.actor("pia"), task.id, hostile)
    audrey = browser("audrey")
    page = text_of(audrey.get("/audit?type=task_commented"))
    assert "<script>alert" not in page and "&lt;script&gt;alert(" in page
    exported = text_of(audrey.get("/audit/events.csv?type=task_commented"))
    (row,) = csv.DictReader(io.StringIO(exported))
    assert row["data"].startswith("{")  # a spreadsheet reads no formula from it
    assert json.loads(row["data"])["text"] == hostile
