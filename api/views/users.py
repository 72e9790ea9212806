"""Users, their groups and their API tokens."""

from __future__ import annotations

from flask import url_for
from picycle.engine.read_models import MAX_ID
from picycle.engine.services import notification_settings, sso_links, users

from ..context import current_actor, request_uow
from ..notification_schemas import NotificationChangeSchema, NotificationSettingsSchema
from ..parsing import PicycleBlueprint
from ..schemas import (
    CreatedUserSchema,
    KeptTokenListSchema,
    KeptTokenSchema,
    LinkSchema,
    NewLinkSchema,
    NewUserSchema,
    RevokedSchema,
    TokenSchema,
    UserChangeSchema,
    UserListSchema,
    UserSchema,
)

blp = PicycleBlueprint(
    "users",
    __name__,
    description="Users (admins manage them), their groups, API tokens and single sign-on links",
)

BODY = (400, 413, 415)
TOKEN_ID = f"<int(min=1, max={MAX_ID}):token_id>"


@blp.route("", methods=["GET"])
@blp.response(200, UserListSchema)
@blp.problems(401, 403)
def list_users():
    """All users (admins and auditors)"""
    found = users.list_users(request_uow(), current_actor())
    return {"items": found, "total": len(found)}


@blp.route("", methods=["POST"])
@blp.arguments(NewUserSchema)
@blp.response(201, CreatedUserSchema, headers={"Location": {"schema": {"type": "string"}}})
@blp.problems(401, 403, 409, *BODY)
def add_user(body):
    """Add a user (admins); the response holds their first API token, shown only once"""
    created = users.add_user(
        request_uow(),
        current_actor(),
        body["name"],
        body["role"],
        body["groups"],
        _held(body.get("memberships", [])),
    )
    return created, 201, {"Location": url_for(".get_user", name=created.user.name)}


@blp.route("/<picycle_name:name>", methods=["GET"])
@blp.response(200, UserSchema)
@blp.problems(401, 403, 404)
def get_user(name):
    """One user (admins and auditors; anyone for themself)"""
    return users.read_user(request_uow(), current_actor(), name)


@blp.route("/<picycle_name:name>", methods=["PATCH"])
@blp.arguments(UserChangeSchema)
@blp.response(200, UserSchema)
@blp.problems(401, 403, 404, 409, *BODY)
def change_user(body, name):
    """Change a user's memberships, role or active flag (admins)

    `memberships` replaces the whole list; `groups` alone replaces the groups held in the
    whole organisation. The last active admin cannot be demoted or deactivated (409).
    """
    if "memberships" in body:
        body["memberships"] = _held(body["memberships"])
    return users.update_user(request_uow(), current_actor(), name, **body)


def _held(memberships: list[dict]) -> list[tuple[str, int | None]]:
    return [(m["group"], m["unit"]) for m in memberships]


@blp.route("/<picycle_name:name>/tokens", methods=["GET"])
@blp.response(200, KeptTokenListSchema)
@blp.problems(401, 403, 404)
def list_tokens(name):
    """The user's API tokens, newest first: when each was issued and revoked, never the
    token itself (admins, or the user themself)"""
    found = users.list_tokens(request_uow(), current_actor(), name)
    return {"items": found, "total": len(found)}


@blp.route("/<picycle_name:name>/tokens", methods=["POST"])
@blp.response(201, TokenSchema)
@blp.problems(401, 403, 404, 409)
def issue_token(name):
    """Issue a new API token (admins, or the user themself); shown only once

    The user's other tokens keep working; revoke them separately.
    """
    return users.issue_token(request_uow(), current_actor(), name), 201


@blp.route("/<picycle_name:name>/tokens/revoke", methods=["POST"])
@blp.response(200, RevokedSchema)
@blp.problems(401, 403, 404)
def revoke_tokens(name):
    """Revoke all of the user's API tokens (admins, or the user themself)"""
    return users.revoke_tokens(request_uow(), current_actor(), name)


@blp.route(f"/<picycle_name:name>/tokens/{TOKEN_ID}/revoke", methods=["POST"])
@blp.response(200, KeptTokenSchema)
@blp.problems(401, 403, 404, 409)
def revoke_token(name, token_id):
    """Revoke one of the user's API tokens, a leaked one (admins, or the user themself)

    The user's other tokens keep working. 404 when the token is not the user's; 409 when
    it is revoked already.
    """
    return users.revoke_token(request_uow(), current_actor(), name, token_id)


@blp.route("/<picycle_name:name>/single-sign-on", methods=["GET"])
@blp.response(200, LinkSchema)
@blp.problems(401, 403, 404)
def get_link(name):
    """The user's identity at the single sign-on provider (admins and auditors); 404 when
    they are not linked"""
    return sso_links.read_link(request_uow(), current_actor(), name)


@blp.route("/<picycle_name:name>/single-sign-on", methods=["PUT"])
@blp.arguments(NewLinkSchema)
@blp.response(200, LinkSchema)
@blp.problems(401, 403, 404, 409, *BODY)
def link(body, name):
    """Link a user to their identity at the single sign-on provider (admins)

    For a user who existed before single sign-on: signing in there then signs them in as
    this user. Never by name or e-mail: check the subject is theirs. Linking again to the
    same identity changes nothing; 409 when the identity is another user's, or the user
    has another one (unlink it first).
    """
    return sso_links.link(request_uow(), current_actor(), name, body["issuer"], body["subject"])


@blp.route("/<picycle_name:name>/single-sign-on", methods=["DELETE"])
@blp.response(200, LinkSchema)
@blp.problems(401, 403, 404)
def unlink(name):
    """Remove the user's link to the single sign-on provider (admins); 404 when there is
    none. Their sign-ins end; their password and API tokens keep working."""
    return sso_links.unlink(request_uow(), current_actor(), name)


@blp.route("/<picycle_name:name>/notifications", methods=["GET"])
@blp.response(200, NotificationSettingsSchema)
@blp.problems(401, 403, 404)
def get_notifications(name):
    """Where the user's e-mail goes and which notifications they get (admins and auditors;
    anyone for themself)"""
    return notification_settings.read_settings(request_uow(), current_actor(), name)


@blp.route("/<picycle_name:name>/notifications", methods=["PATCH"])
@blp.arguments(NotificationChangeSchema)
@blp.response(200, NotificationSettingsSchema)
@blp.problems(401, 403, 404, *BODY)
def change_notifications(body, name):
    """Change the user's e-mail address and the notifications they get (admins, or the
    user themself); a field left out stays as it is"""
    return notification_settings.change_settings(request_uow(), current_actor(), name, **body)
