"""The admin's user page and single sign-on: a user who existed before it is linked to their
identity at the provider (the configured issuer filled in), shown with their link and
unlinked from it; for admins only, every change on the audit trail. Once linked, signing
in through the provider (tests/oidc_provider.py) signs in as that user, history and all."""

from __future__ import annotations

import html

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.services import sso_links

from tests.pages.conftest import Browser, text_of
from tests.pages.sso import sign_in_through


@pytest.fixture
def admin(sso_app, passwords) -> Browser:
    passwords("ada")
    made = Browser(sso_app.test_client())
    assert made.sign_in("ada").status_code == 302
    made.get("/admin/users/pia")
    return made


def _link_of(driver, name: str):
    with driver.engine.unit_of_work(write=False) as uow:
        return sso_links.find_link(uow, SYSTEM, name)


def _types(driver) -> list[str]:
    return [e.type for e in driver.events()]


def test_a_user_who_existed_before_is_linked_then_signs_in_through_the_provider(
    sso_app, provider, driver, admin
):
    provider.user = {"sub": "pia-at-idp", "preferred_username": "pia", "groups": ["pi"]}
    assert sign_in_through(Browser(sso_app.test_client())).status_code == 403  # name taken
    page = text_of(admin.get("/admin/users/pia"))
    assert "Not linked" in page
    assert f'name="issuer" value="{provider.issuer}"' in page
    response = admin.post(
        "/admin/users/pia/single-sign-on", {"issuer": provider.issuer, "subject": "pia-at-idp"}
    )
    assert (response.status_code, response.location) == (302, "/admin/users/pia")
    page = text_of(admin.get(response.location))
    assert "The user is linked to the identity at the provider." in page
    assert "pia-at-idp" in page and ">Unlink</button>" in page
    linked = [e for e in driver.events() if e.type == "user_linked"][-1]
    assert (linked.actor, linked.data["subject"]) == ("ada", "pia-at-idp")
    visitor = Browser(sso_app.test_client())
    assert sign_in_through(visitor).status_code == 302
    assert '<span class="who">pia</span>' in text_of(visitor.get("/"))


def test_unlinking_removes_the_link_and_ends_the_users_sign_ins(sso_app, provider, driver, admin):
    with driver.engine.unit_of_work() as uow:
        sso_links.link(uow, SYSTEM, "pia", provider.issuer, "pia-at-idp")
    provider.user = {"sub": "pia-at-idp", "preferred_username": "pia", "groups": []}
    pia = Browser(sso_app.test_client())
    sign_in_through(pia)
    assert pia.get("/").status_code == 200
    response = admin.post("/admin/users/pia/single-sign-on/remove")
    assert response.status_code == 302
    assert "The link to single sign-on is removed." in text_of(admin.get(response.location))
    assert _link_of(driver, "pia") is None
    assert _types(driver)[-1] == "user_unlinked"
    assert pia.get("/").status_code == 302  # signed out


def test_an_identity_linked_to_another_user_is_refused_on_the_page(
    sso_app, provider, driver, admin
):
    sign_in_through(Browser(sso_app.test_client()))  # sami, provisioned and linked
    response = admin.post(
        "/admin/users/pia/single-sign-on", {"issuer": provider.issuer, "subject": "subject-sami"}
    )
    assert response.status_code == 409
    page = html.unescape(text_of(response))
    assert "This identity is already linked to sami: unlink sami first." in page
    assert 'value="subject-sami"' in page  # what the admin typed stays
    assert _link_of(driver, "pia") is None


def test_a_subject_that_cannot_be_one_is_named_at_its_field(sso_app, provider, driver, admin):
    response = admin.post("/admin/users/pia/single-sign-on", {"issuer": "not a url", "subject": ""})
    assert response.status_code == 422
    page = text_of(response)
    assert 'id="issuer"' in page and 'aria-invalid="true"' in page
    assert _link_of(driver, "pia") is None


@pytest.mark.parametrize("who", ["pia", "audrey"])
def test_only_admins_link_and_unlink_on_the_pages(sso_app, provider, driver, passwords, who):
    with driver.engine.unit_of_work() as uow:
        sso_links.link(uow, SYSTEM, "dana", provider.issuer, "dana-at-idp")
    passwords(who)
    someone = Browser(sso_app.test_client())
    someone.sign_in(who)
    someone.get("/")
    form = {"issuer": provider.issuer, "subject": "mallory"}
    assert someone.post(f"/admin/users/{who}/single-sign-on", form).status_code == 403
    assert someone.post("/admin/users/dana/single-sign-on/remove").status_code == 403
    assert _link_of(driver, who) is None
    assert _link_of(driver, "dana").subject == "dana-at-idp"


def test_linking_without_the_csrf_token_is_refused(sso_app, provider, driver, admin):
    form = {"issuer": provider.issuer, "subject": "pia-at-idp"}
    assert admin.post("/admin/users/pia/single-sign-on", form, csrf=False).status_code == 400
    assert _link_of(driver, "pia") is None
