"""The admin pages of people and the organisation: users (search, paging, adding), a
user's page (role, memberships, tokens, password, deactivation) and the units tree; for
admins only, every change on the audit trail as from the API."""

from __future__ import annotations

import re

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.services import units, users
from picycle.engine.services.users import hash_token
from picycle.pages.views import people

from tests.pages.conftest import text_of


def names(page: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/admin/users/[^"]+">([^<]+)</a></th>', page)


def unit_id(driver, name: str) -> int:
    with driver.engine.unit_of_work(write=False) as uow:
        return units.find_unit(uow, name).id


def user(driver, name: str):
    with driver.engine.unit_of_work(write=False) as uow:
        return users.read_user(uow, SYSTEM, name)


def last_event(driver):
    return driver.events()[-1]


def test_users_are_searched_and_paged(browser, monkeypatch):
    monkeypatch.setattr(people, "PAGE_SIZE", 4)
    ada = browser("ada")
    first = text_of(ada.get("/admin/users"))
    assert names(first) == ["ada", "audrey", "dana", "lena"]
    assert "Page 1 of 2" in first and 'href="/admin/users?page=2"' in first
    assert names(text_of(ada.get("/admin/users?page=2"))) == ["omar", "pia"]
    assert names(text_of(ada.get("/admin/users?q=A"))) == ["ada", "audrey", "dana", "lena"]
    assert names(text_of(ada.get("/admin/users?q=AU"))) == ["audrey"]
    assert names(text_of(ada.get("/admin/users?q=%25"))) == []  # a wildcard is a character
    assert names(text_of(ada.get("/admin/users?page=junk"))) == names(first)


def test_a_user_is_added_with_a_token_shown_once(browser, driver):
    ada = browser("ada")
    response = ada.post(
        "/admin/users", {"name": "Nora", "role": "member", "groups": "PI Unit, Leadership"}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    token = re.search(r'<p class="secret" id="new-token">([^<]+)</p>', text_of(response))[1]
    assert user(driver, "nora").groups == ["Leadership", "PI Unit"]
    with driver.engine.unit_of_work(write=False) as uow:
        assert users.authenticate(uow, token).name == "nora"
    assert token not in text_of(ada.get("/admin/users/nora"))
    assert [e.type for e in driver.events()[-2:]] == ["user_created", "token_issued"]
    assert "is new" not in text_of(response)


def test_a_new_user_in_a_group_no_one_was_in_is_told_of_it(browser, driver):
    response = browser("ada").post(
        "/admin/users", {"name": "nora", "role": "member", "groups": "PI Unit, Departmnet Team"}
    )
    page = text_of(response)
    assert "The group \u2068Departmnet Team\u2069 is new: no one was in it before." in page
    assert "The group PI Unit is new" not in page


@pytest.mark.parametrize(
    ("form", "field", "status"),
    [
        ({"name": "", "role": "member"}, "new-name", 422),
        ({"name": "a/b", "role": "member"}, "new-name", 422),
        ({"name": "nora", "role": "king"}, "new-role", 422),
        ({"name": "nora", "role": "member", "groups": "x" * 101}, "new-groups", 422),
    ],
)
def test_a_bad_new_user_is_named_at_its_field_and_nothing_is_added(
    browser, driver, form, field, status
):
    ada = browser("ada")
    events = len(driver.events())
    response = ada.post("/admin/users", form)
    assert response.status_code == status
    assert f'id="{field}-error-1"' in text_of(response)
    assert len(driver.events()) == events
    assert names(text_of(ada.get("/admin/users?q=nora"))) == []


def test_a_taken_name_is_refused_at_the_name(browser, driver):
    response = browser("ada").post("/admin/users", {"name": "PIA", "role": "admin"})
    assert response.status_code == 409
    assert 'id="new-name-error-1"' in text_of(response)
    assert user(driver, "pia").role == "member"


def test_tokens_are_issued_once_and_revoked(browser, driver):
    ada = browser("ada")
    response = ada.post("/admin/users/dana/tokens")
    assert response.headers["Cache-Control"] == "no-store"
    token = re.search(r'id="new-token">([^<]+)<', text_of(response))[1]
    with driver.engine.unit_of_work(write=False) as uow:
        assert users.authenticate(uow, token).name == "dana"
    page = text_of(ada.get("/admin/users/dana"))
    assert token not in page and hash_token(token) not in page
    assert page.count("In use") == 2  # the first token and the new one
    response = ada.post("/admin/users/dana/tokens/revoke")
    assert response.status_code == 302
    assert "Tokens revoked: 2." in text_of(ada.get(response.location))
    with driver.engine.unit_of_work(write=False) as uow:
        assert users.authenticate(uow, token) is None
    assert last_event(driver).type == "token_revoked" and last_event(driver).actor == "ada"


def test_one_token_is_revoked_from_its_row_and_the_others_keep_working(browser, driver):
    ada = browser("ada")
    kept = re.search(r'id="new-token">([^<]+)<', text_of(ada.post("/admin/users/dana/tokens")))[1]
    page = text_of(ada.get("/admin/users/dana"))
    forms = re.findall(r'action="/admin/users/dana/tokens/(\d+)/revoke"', page)
    assert len(forms) == 2 and 'aria-label="Revoke token #' in page
    leaked, new = sorted(int(token_id) for token_id in forms)  # the first token, the new one
    response = ada.post(f"/admin/users/dana/tokens/{leaked}/revoke")
    assert response.status_code == 302
    page = text_of(ada.get(response.location))
    assert f"Token #{leaked} is revoked; the other tokens keep working." in page
    assert re.findall(r'action="/admin/users/dana/tokens/(\d+)/revoke"', page) == [str(new)]
    with driver.engine.unit_of_work(write=False) as uow:
        assert users.authenticate(uow, kept).name == "dana"
    event = last_event(driver)
    assert (event.type, event.actor, event.data) == (
        "token_revoked",
        "ada",
        {"user": "dana", "token": leaked},
    )
    events = len(driver.events())
    again = ada.post(f"/admin/users/dana/tokens/{leaked}/revoke")
    assert again.status_code == 409 and f"Token #{leaked} was revoked already." in text_of(again)
    assert len(driver.events()) == events


def test_a_token_of_another_user_is_not_found_on_this_users_page(browser, driver):
    ada = browser("ada")
    with driver.engine.unit_of_work(write=False) as uow:
        (pias,) = users.list_tokens(uow, SYSTEM, "pia")
    events = len(driver.events())
    assert ada.post(f"/admin/users/dana/tokens/{pias.id}/revoke").status_code == 404
    assert ada.post("/admin/users/dana/tokens/0/revoke").status_code == 404
    assert ada.post("/admin/users/dana/tokens/2147483648/revoke").status_code == 404
    assert len(driver.events()) == events
    with driver.engine.unit_of_work(write=False) as uow:
        assert users.list_tokens(uow, SYSTEM, "pia")[0].revoked_at is None


def test_a_user_is_deactivated_and_reactivated(browser, driver):
    ada = browser("ada")
    dana = browser("dana")
    assert ada.post("/admin/users/dana/active", {"active": "0"}).status_code == 302
    assert not user(driver, "dana").active
    assert dana.get("/").status_code == 302  # signed out
    change = last_event(driver)
    assert (change.type, change.actor) == ("token_revoked", "ada")
    assert "Reactivate \u2068dana\u2069" in text_of(ada.get("/admin/users/dana"))
    assert ada.post("/admin/users/dana/active", {"active": "1"}).status_code == 302
    assert user(driver, "dana").active


def test_the_last_admin_cannot_deactivate_themself(browser, driver):
    response = browser("ada").post("/admin/users/ada/active", {"active": "0"})
    assert response.status_code == 409
    page = text_of(response)
    assert "ada is the last active administrator: make another user" in page
    assert '<span lang="en"' not in page[page.index('class="notice"') :][:200]
    assert user(driver, "ada").active


def test_a_refusal_reads_in_the_readers_language(browser, driver):
    ada = browser("ada")
    ada.post("/language", {"language": "ar", "next": "/"})
    page = text_of(ada.post("/admin/users/ada/active", {"active": "0"}))
    assert "ada هو آخر مسؤول نشط" in page


def test_field_errors_read_in_the_readers_language(browser, driver):
    ada = browser("ada")
    ada.post("/language", {"language": "nl", "next": "/"})
    named = text_of(ada.post("/admin/users", {"name": "nora smit", "role": "member"}))
    assert "Gebruik alleen kleine letters a-z, cijfers" in named
    assert "(niet U+0020 SPACE)" in named
    short = text_of(ada.post("/admin/users/omar/password", {"password": "short"}))
    assert "Gebruik ten minste 12 tekens." in short


def test_role_memberships_and_password(browser, driver):
    ada = browser("ada")
    planning = unit_id(driver, "Planning")
    assert ada.post("/admin/users/omar/role", {"role": "auditor"}).status_code == 302
    assert user(driver, "omar").role == "auditor"
    form = {"group": "Leadership", "unit": str(planning)}
    assert ada.post("/admin/users/omar/memberships", form).status_code == 302
    held = [(m.group, m.unit_id) for m in user(driver, "omar").memberships]
    assert held == [("Department Team", None), ("Leadership", planning)]
    assert ada.post("/admin/users/omar/memberships/remove", form).status_code == 302
    assert [(m.group, m.unit_id) for m in user(driver, "omar").memberships] == [
        ("Department Team", None)
    ]
    assert last_event(driver).type == "user_changed"
    response = ada.post("/admin/users/omar/password", {"password": "a new long password"})
    assert response.status_code == 302
    assert last_event(driver).type == "password_set"
    assert browser().sign_in("omar", "a new long password").status_code == 302


@pytest.mark.parametrize(
    ("path", "form", "field"),
    [
        ("role", {"role": "king"}, "role"),
        ("memberships", {"group": "", "unit": ""}, "group"),
        ("memberships", {"group": "   ", "unit": ""}, "group"),
        ("memberships", {"group": "Leadership", "unit": "x"}, "unit"),
        ("memberships", {"group": "Leadership", "unit": "99999"}, "unit"),
        ("password", {"password": "short"}, "password"),
    ],
)
def test_a_bad_change_is_named_at_its_field_and_changes_nothing(browser, driver, path, form, field):
    ada = browser("ada")
    before, events = user(driver, "omar"), len(driver.events())
    response = ada.post(f"/admin/users/omar/{path}", form)
    assert response.status_code == 422
    assert f'id="{field}-error-1"' in text_of(response)
    assert user(driver, "omar") == before and len(driver.events()) == events


def test_the_units_tree_grows_renames_and_moves(browser, driver):
    ada = browser("ada")
    planning = unit_id(driver, "Planning")
    response = ada.post("/admin/units", {"name": "Permits", "parent": str(planning)})
    assert response.status_code == 302
    permits = unit_id(driver, "Permits")
    tree = text_of(ada.get("/admin/units"))
    assert f'<li class="depth-2"><a href="/admin/units/{permits}">Permits</a>' in tree
    roads = unit_id(driver, "Roads")
    form = {"name": "Road permits", "parent": str(roads)}
    assert ada.post(f"/admin/units/{permits}", form).status_code == 302
    with driver.engine.unit_of_work(write=False) as uow:
        moved = units.get_unit(uow, SYSTEM, permits)
    assert moved.path == ["Roads", "Road permits"]
    assert last_event(driver).type == "unit_changed"
    # Planning cannot move below itself: it is no choice, and refused when posted.
    page = text_of(ada.get(f"/admin/units/{planning}"))
    assert f'<option value="{planning}"' not in page
    response = ada.post(f"/admin/units/{roads}", {"name": "Roads", "parent": str(permits)})
    assert response.status_code == 409 and "loop" in text_of(response)


def test_unit_members_are_added_and_ended(browser, driver):
    ada = browser("ada")
    roads = unit_id(driver, "Roads")
    form = {"user": "Dana", "group": "Leadership"}
    assert ada.post(f"/admin/units/{roads}/members", form).status_code == 302
    page = text_of(ada.get(f"/admin/units/{roads}"))
    assert "<td>Leadership</td><td>Roads</td>" in page
    assert ada.post(f"/admin/units/{roads}/members/remove", form).status_code == 302
    assert [(m.group, m.unit_id) for m in user(driver, "dana").memberships] == [
        ("Department Team", None)
    ]


def test_the_group_fields_offer_the_groups_there_are(browser, driver):
    ada = browser("ada")
    for path in ("/admin/users/omar", f"/admin/units/{unit_id(driver, 'Roads')}"):
        page = text_of(ada.get(path))
        assert 'list="group-suggestions"' in page
        offered = re.findall(r'<option value="([^"]+)"></option>', page)
        assert offered == ["Department Team", "Leadership", "PI Unit"]


def test_a_group_no_one_was_in_is_said_to_be_new(browser, driver):
    """A misspelt group shows when it is made, not when its member never gets a task."""
    ada = browser("ada")
    roads = unit_id(driver, "Roads")
    ada.post(f"/admin/units/{roads}/members", {"user": "dana", "group": "Leadership"})
    page = text_of(ada.get(f"/admin/units/{roads}"))
    assert "The member is added." in page and "is new" not in page
    ada.post(f"/admin/units/{roads}/members", {"user": "omar", "group": "Leadersihp"})
    page = text_of(ada.get(f"/admin/units/{roads}"))
    assert "The group \u2068Leadersihp\u2069 is new: no one was in it before." in page
    ada.post("/admin/users/omar/memberships", {"group": "Audit Committee", "unit": ""})
    page = text_of(ada.get("/admin/users/omar"))
    assert "The group \u2068Audit Committee\u2069 is new" in page
    ada.post("/admin/users/omar/memberships", {"group": "<b>Board</b>", "unit": ""})
    page = text_of(ada.get("/admin/users/omar"))
    assert (
        "The group \u2068&lt;b&gt;Board&lt;/b&gt;\u2069 is new" in page and "<b>Board" not in page
    )


def test_spaces_around_a_group_name_make_no_other_group(browser, driver):
    ada = browser("ada")
    form = {"group": "  Leadership ", "unit": ""}
    assert ada.post("/admin/users/omar/memberships", form).status_code == 302
    assert [m.group for m in user(driver, "omar").memberships] == ["Department Team", "Leadership"]
    assert "is new" not in text_of(ada.get("/admin/users/omar"))
    assert ada.post("/admin/users/omar/memberships/remove", form).status_code == 302
    assert [m.group for m in user(driver, "omar").memberships] == ["Department Team"]
    with driver.engine.unit_of_work(write=False) as uow:
        assert users.group_names(uow, SYSTEM) == ["Department Team", "Leadership", "PI Unit"]


@pytest.mark.parametrize(
    ("path", "form", "field", "status"),
    [
        ("", {"name": "", "parent": ""}, "name", 422),
        ("", {"name": "Roads", "parent": ""}, None, 409),
        ("", {"name": "New", "parent": "abc"}, "parent", 422),
        ("", {"name": "New", "parent": "99999"}, "parent", 422),
        ("/members", {"user": "nobody", "group": "Leadership"}, "user", 422),
        ("/members", {"user": "", "group": "Leadership"}, "user", 422),
        ("/members", {"user": "dana", "group": ""}, "group", 422),
    ],
)
def test_bad_unit_changes_are_named_and_change_nothing(browser, driver, path, form, field, status):
    ada = browser("ada")
    events = len(driver.events())
    target = f"/admin/units/{unit_id(driver, 'Roads')}{path}" if path else "/admin/units"
    response = ada.post(target, form)
    assert response.status_code == status
    if field:
        assert f'id="{field}-error-1"' in text_of(response)
    assert len(driver.events()) == events


PAGES = ["/admin/users", "/admin/users/dana", "/admin/units", "/admin/units/1"]
POSTS = [
    ("/admin/users", {"name": "eve", "role": "admin"}),
    ("/admin/users/dana/role", {"role": "admin"}),
    ("/admin/users/dana/active", {"active": "0"}),
    ("/admin/users/dana/memberships", {"group": "Leadership", "unit": ""}),
    ("/admin/users/dana/memberships/remove", {"group": "Department Team", "unit": ""}),
    ("/admin/users/dana/tokens", {}),
    ("/admin/users/dana/tokens/revoke", {}),
    ("/admin/users/dana/tokens/1/revoke", {}),
    ("/admin/users/dana/password", {"password": "a hostile new password"}),
    ("/admin/units", {"name": "Mine", "parent": ""}),
    ("/admin/units/1", {"name": "Mine", "parent": ""}),
    ("/admin/units/1/active", {"active": "0"}),
    ("/admin/units/1/members", {"user": "dana", "group": "Leadership"}),
    ("/admin/units/1/members/remove", {"user": "dana", "group": "Department Team"}),
]


@pytest.mark.parametrize("name", ["pia", "audrey"])
def test_every_page_and_post_is_for_admins_only(browser, driver, name):
    someone = browser(name)
    for path in PAGES:
        assert someone.get(path).status_code == 403, path
    before = [e.type for e in driver.events()]
    for path, form in POSTS:
        assert someone.post(path, form).status_code == 403, path
    # Nothing changed: the trail holds only the refusals.
    assert {e.type for e in driver.events()[len(before) :]} == {"access_denied"}
    assert user(driver, "dana").role == "member" and user(driver, "dana").active
    assert 'href="/admin/users"' not in text_of(someone.get("/"))


def test_posts_without_their_csrf_token_change_nothing(browser, driver):
    ada = browser("ada")
    events = len(driver.events())
    for path, form in POSTS:
        assert ada.post(path, form, csrf=False).status_code == 400, path
    assert len(driver.events()) == events


def test_names_that_hold_markup_are_shown_as_text(browser, driver):
    ada = browser("ada")
    hostile = '<script>alert("unit")</script>'
    assert ada.post("/admin/units", {"name": hostile, "parent": ""}).status_code == 302
    tree = text_of(ada.get("/admin/units"))
    assert hostile not in tree and "&lt;script&gt;alert(&#34;unit&#34;)&lt;/script&gt;" in tree
    roads = unit_id(driver, "Roads")
    form = {"user": "dana", "group": '"><img src=x onerror=alert(1)>'}
    assert ada.post(f"/admin/units/{roads}/members", form).status_code == 302
    page = text_of(ada.get("/admin/users/dana"))
    assert "<img src=x" not in page and "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
