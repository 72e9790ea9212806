"""For admins: users (search, paging, adding), a user's page (role, memberships, API
tokens, password, single sign-on link, deactivation). Every change goes through the
services the API and the command line use, which audit it the same way."""

from __future__ import annotations

from functools import partial

from flask import flash, redirect, request, url_for
from picycle.api.context import request_uow
from picycle.engine.actors import require_admin
from picycle.engine.errors import Conflict, ValidationFailed
from picycle.engine.services import sso_links, units, users
from picycle.engine.vocabulary import Role

from ..blueprint import blueprint
from ..context import pages, signed_in
from ..engine_messages import refusal, say_all
from ..i18n import gettext as _
from ..numbers import id_number, page_number
from ..rendering import render
from .admin_forms import NO_STORE, apply, unit_choice, with_new_group

PAGE_SIZE = 25
USER = "/admin/users/<picycle_name:name>"


def _admin() -> None:
    require_admin(signed_in(), "manage users")


def _roles() -> list[tuple[str, str]]:
    return [(Role.MEMBER, _("Member")), (Role.ADMIN, _("Admin")), (Role.AUDITOR, _("Auditor"))]


def _groups(text: str) -> list[str]:
    """Groups typed as a comma-separated list."""
    return [group.strip() for group in text.split(",") if group.strip()]


@blueprint.get("/admin/users")
def user_list():
    _admin()
    return _list_page()


def _list_page(status: int = 200, errors=None, values=None, created=None, new_groups=()):
    search = request.args.get("q", "")[:100]
    page = page_number(request.args.get("page"))
    found = users.find_users(
        request_uow(), signed_in(), search, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    body = render(
        "users.html",
        status,
        users=found.items,
        total=found.total,
        search=search,
        page=page,
        pages=max(1, -(-found.total // PAGE_SIZE)),
        roles=_roles(),
        errors=errors or {},
        values=values or {},
        created=created,
        new_groups=new_groups,
    )
    return (*body, NO_STORE) if created else body


@blueprint.post("/admin/users")
def user_add():
    """The new user's first API token is shown once, on the answer to this post."""
    _admin()
    uow = request_uow()
    values = {k: request.form.get(k, "") for k in ("name", "role", "groups")}
    known = set(users.group_names(uow, signed_in()))
    try:
        created = users.add_user(
            uow, signed_in(), values["name"], values["role"], _groups(values["groups"])
        )
    except (ValidationFailed, Conflict) as refused:
        uow.rollback()
        errors = say_all(getattr(refused, "errors", None) or {"name": [refused.args[0]]})
        return _list_page(422 if isinstance(refused, ValidationFailed) else 409, errors, values)
    # A misspelt group shows at once, not when its member never gets a task.
    return _list_page(
        created=created, new_groups=[g for g in created.user.groups if g not in known]
    )


@blueprint.get(USER)
def user_page(name: str):
    _admin()
    return _user_page(name)


def _user_page(name: str, status: int = 200, errors=None, notice=None, token=None, values=None):
    uow, actor = request_uow(), signed_in()
    user = users.read_user(uow, actor, name)
    provider = pages().single_sign_on
    body = render(
        "user.html",
        status,
        user=user,
        roles=_roles(),
        tokens=users.list_tokens(uow, actor, user.name),
        link=sso_links.find_link(uow, actor, user.name),
        # The link form names the configured provider unless the admin typed another.
        issuer=(values or {}).get("issuer", provider.issuer if provider else ""),
        subject=(values or {}).get("subject", ""),
        units=unit_choice(units.list_units(uow, actor), _("The whole organisation")),
        groups=users.group_names(uow, actor),
        errors=errors or {},
        notice=notice,
        token=token,
    )
    return (*body, NO_STORE) if token else body


def _change(name: str, change, done: str, values=None):
    again = partial(_user_page, name, values=values)
    return apply(change, again, done, url_for("picycle_pages.user_page", name=name))


@blueprint.post(f"{USER}/role")
def user_role(name: str):
    _admin()
    role = request.form.get("role", "")
    return _change(
        name,
        lambda uow, actor: users.update_user(uow, actor, name, role=role),
        _("The role is saved."),
    )


@blueprint.post(f"{USER}/active")
def user_active(name: str):
    """Deactivating ends the user's sessions and revokes their tokens."""
    _admin()
    active = request.form.get("active") == "1"
    return _change(
        name,
        lambda uow, actor: users.update_user(uow, actor, name, active=active),
        _("The user is active again.") if active else _("The user is deactivated."),
    )


@blueprint.post(f"{USER}/memberships")
def user_membership_add(name: str):
    _admin()
    group = request.form.get("group", "")
    done = with_new_group(group, _("The membership is added."))
    return _membership_change(name, users.add_membership, done)


@blueprint.post(f"{USER}/memberships/remove")
def user_membership_remove(name: str):
    _admin()
    return _membership_change(name, users.remove_membership, _("The membership is ended."))


def _membership_change(name: str, change, done: str):
    """``change`` the membership of the group in the unit posted (none: the whole
    organisation)."""
    unit = request.form.get("unit", "")
    if unit and id_number(unit) is None:
        return _user_page(name, 422, errors={"unit": [_("Choose a unit from the list.")]})
    group = request.form.get("group", "")
    return _change(name, lambda uow, actor: change(uow, actor, name, group, id_number(unit)), done)


@blueprint.post(f"{USER}/tokens")
def user_token_issue(name: str):
    """The token is shown once, on the answer to this post: it is kept only hashed."""
    _admin()
    uow = request_uow()
    try:
        issued = users.issue_token(uow, signed_in(), name)
    except Conflict as refused:
        uow.rollback()
        return _user_page(name, 409, notice=refusal(refused))
    return _user_page(name, token=issued.token)


@blueprint.post(f"{USER}/tokens/revoke")
def user_tokens_revoke(name: str):
    _admin()
    revoked = users.revoke_tokens(request_uow(), signed_in(), name)
    flash(_("Tokens revoked: %(count)s.", count=revoked.revoked))
    return redirect(url_for("picycle_pages.user_page", name=name))


@blueprint.post(f"{USER}/tokens/<int(min=1, max=2147483647):token_id>/revoke")
def user_token_revoke(name: str, token_id: int):
    """One token (a leaked one); the user's others keep working."""
    _admin()
    return _change(
        name,
        lambda uow, actor: users.revoke_token(uow, actor, name, token_id),
        _("Token #%(id)s is revoked; the other tokens keep working.", id=token_id),
    )


@blueprint.post(f"{USER}/password")
def user_password(name: str):
    """Signs the user out everywhere; their API tokens keep working."""
    _admin()
    password = request.form.get("password", "")
    return _change(
        name,
        lambda uow, actor: users.set_password(uow, actor, name, password),
        _("The password is set."),
    )


@blueprint.post(f"{USER}/single-sign-on")
def user_link(name: str):
    """Never linked by name or e-mail: the admin gives the subject the provider names the
    person by."""
    _admin()
    values = {key: request.form.get(key, "").strip() for key in ("issuer", "subject")}
    return _change(
        name,
        lambda uow, actor: sso_links.link(uow, actor, name, values["issuer"], values["subject"]),
        _("The user is linked to the identity at the provider."),
        values,
    )


@blueprint.post(f"{USER}/single-sign-on/remove")
def user_unlink(name: str):
    """Signs the user out everywhere; their password and API tokens keep working."""
    _admin()
    return _change(
        name,
        lambda uow, actor: sso_links.unlink(uow, actor, name),
        _("The link to single sign-on is removed."),
    )
