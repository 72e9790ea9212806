"""The pages in English, Dutch and Arabic (right to left), chosen by the user or the
browser; error pages in the user's language; every message translated; the pages mounted
in a host app beside the API without disturbing either."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask import Flask
from picycle.api import init_picycle
from picycle.engine.actors import SYSTEM
from picycle.engine.services import users

from tests.pages.conftest import text_of

PAGES = Path(__file__).resolve().parents[2] / "pages"


def test_the_browser_language_is_used(browser):
    dutch = text_of(browser().get("/sign-in", headers={"Accept-Language": "nl-BE,nl;q=0.9"}))
    assert '<html lang="nl" dir="ltr">' in dutch and "Gebruikersnaam" in dutch


def test_arabic_pages_run_right_to_left(browser):
    arabic = text_of(browser().get("/sign-in", headers={"Accept-Language": "ar-IQ"}))
    assert '<html lang="ar" dir="rtl">' in arabic
    assert "تسجيل الدخول" in arabic


def test_the_users_choice_wins_over_the_browser(browser):
    pia = browser("pia")
    response = pia.post("/language", {"language": "ar", "next": "/cycles"})
    assert (response.status_code, response.location) == (302, "/cycles")
    page = text_of(pia.get("/cycles", headers={"Accept-Language": "nl"}))
    assert 'dir="rtl"' in page and "الدورات" in page
    pia.post("/sign-out")
    assert 'lang="ar"' in text_of(pia.get("/sign-in"))  # the choice outlives the session


def test_dates_and_numbers_are_in_the_users_language(browser, driver):
    driver.start()
    inbox = text_of(browser("pia").get("/", headers={"Accept-Language": "nl"}))
    assert "2 mrt 2026" in inbox


@pytest.mark.parametrize(
    "language, title",
    [("en", "There is nothing here"), ("nl", "Hier is niets"), ("ar", "لا يوجد شيء هنا")],
)
def test_not_found_pages_are_in_the_users_language(browser, language, title):
    headers = {"Accept-Language": language}
    for path in ("/nothing/here", "/cycles/4242", "/tasks/00000000-0000-0000-0000-000000000000"):
        response = browser("pia").get(path, headers=headers)
        assert response.status_code == 404 and response.mimetype == "text/html"
        assert title in text_of(response)
        assert f'lang="{language}"' in text_of(response)


def test_an_unknown_address_is_a_page_like_any_other_for_the_signed_in_user(browser):
    pia = browser("pia")
    pia.post("/language", {"language": "nl", "next": "/"})

    def header(path: str) -> str:
        response = pia.get(path)
        assert response.status_code == 404, path
        page = text_of(response)
        assert "Hier is niets" in page  # the language pia chose, kept with her
        return page[page.index("<header") : page.index("</header>")]

    known_route = header("/cycles/4242")
    assert '<span class="who">pia</span>' in known_route and "Afmelden" in known_route
    assert header("/nothing/here") == header("/cycles/4242").replace(
        "/cycles/4242", "/nothing/here"
    )


def test_forbidden_and_conflict_pages_say_what_to_do(browser, driver):
    cycle_id = driver.start()
    (task,) = driver.open_tasks(cycle_id)
    forbidden = browser("dana").get(f"/tasks/{task.id}", headers={"Accept-Language": "nl"})
    assert forbidden.status_code == 403
    assert "Dit mag u niet doen" in text_of(forbidden)
    assert "vraag dan een beheerder" in text_of(forbidden)
    with driver.engine.unit_of_work() as uow:
        users.add_user(uow, SYSTEM, "pim", "member", ["PI Unit"])
    pia, pim = browser("pia"), browser("pim")
    assert pia.post(f"/tasks/{task.id}/claim").status_code == 302
    taken = pim.post(f"/tasks/{task.id}/claim", headers={"Accept-Language": "ar"})
    assert taken.status_code == 409
    assert "سبقك شخص آخر إلى ذلك" in text_of(taken)
    assert "أعد تحميل الصفحة" in text_of(taken)


@pytest.mark.parametrize(
    "name, path, for_whom",
    [
        ("dana", "/models", "This page is for administrators."),
        ("audrey", "/admin/users", "This page is for administrators."),
        ("dana", "/admin/units", "This page is for administrators."),
        ("dana", "/audit", "This page is for auditors and administrators."),
        ("dana", "/audit/verify", "This page is for auditors and administrators."),
    ],
)
def test_a_page_for_a_role_says_whom_it_is_for(browser, name, path, for_whom):
    refused = browser(name).get(path)
    assert refused.status_code == 403
    assert for_whom in text_of(refused)
    assert "group" not in text_of(refused)  # no group membership opens it


def test_an_auditor_refused_a_change_is_told_the_role_changes_nothing(browser, driver):
    cycle_id = driver.start()
    task = driver.task(cycle_id, "assess_performance")
    refused = browser("audrey").post(f"/tasks/{task.id}/claim", {"next": "/"})
    assert refused.status_code == 403
    assert "Auditors read everything but change nothing." in text_of(refused)
    assert "group" not in text_of(refused)


def test_a_page_for_a_role_says_so_in_the_users_language(browser):
    refused = browser("dana").get("/models", headers={"Accept-Language": "ar"})
    assert refused.status_code == 403 and "هذه الصفحة للمسؤولين." in text_of(refused)


def test_an_unexpected_error_is_a_page_too(app, browser, monkeypatch):
    from picycle.pages.views import inbox

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(inbox, "list_inbox", broken)
    app.testing = False  # as in production: the error is handled, not raised
    response = browser("pia").get("/", headers={"Accept-Language": "ar"})
    assert response.status_code == 500
    assert "حدث خطأ من جهتنا" in text_of(response) and "boom" not in text_of(response)


def test_every_message_is_translated():
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2)}
    used = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(str(PAGES), method_map, keywords=keywords)
    }
    assert len(used) > 50
    for language in ("nl", "ar"):
        with (PAGES / "translations" / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
            catalog = read_po(po)
        # A plural message is known by its singular, and translated when each form is.
        translated = {
            m.id if isinstance(m.id, str) else m.id[0]
            for m in catalog
            if m.id and (all(m.string) if m.pluralizable else m.string)
        }
        assert not used - translated, f"{language} lacks {sorted(used - translated)}"


@pytest.fixture
def host(driver):
    app = Flask("host")
    app.config.update(SECRET_KEY="the host's", PICYCLE_SECURE_COOKIES=False)

    @app.get("/")
    def home():
        return "the host's home page"

    @app.errorhandler(404)
    def host_not_found(error):
        return "host: not found", 404

    init_picycle(app, driver.engine, url_prefix="/picycle")
    return app.test_client()


def test_a_host_app_gets_the_pages_under_its_prefix(host):
    assert host.get("/").get_data(as_text=True) == "the host's home page"
    assert host.get("/nowhere").get_data(as_text=True) == "host: not found"
    sign_in = host.get("/picycle/sign-in")
    assert sign_in.status_code == 200 and 'action="/picycle/sign-in"' in text_of(sign_in)
    assert host.get("/picycle/").location == "/picycle/sign-in?next=/picycle/"
    missing = host.get("/picycle/nowhere")
    assert (missing.status_code, missing.mimetype) == (404, "text/html")
    assert "There is nothing here" in text_of(missing)
    api_missing = host.get("/picycle/api/v1/nowhere")
    assert api_missing.mimetype == "application/problem+json"
    assert host.get("/picycle/assets/picycle.css").status_code == 200


def test_pages_may_not_be_framed_nor_run_injected_script(browser):
    visitor = browser()
    for path in ("/sign-in", "/nothing/here"):
        headers = visitor.get(path).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
