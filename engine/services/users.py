"""Users, their groups and API tokens. Only a token's SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import select

from ..actors import ROLES, Actor, require_admin
from ..db.models import ApiToken, Group, User, UserGroup
from ..errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from ..inputs import require_text
from ..uow import UnitOfWork

TOKEN_PREFIX = "pic_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def actor_of(user: User) -> Actor:
    return Actor(user.name, user.role, frozenset(user.groups))


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationFailed(
            f"unknown role '{role}'", {"role": [f"must be one of {', '.join(ROLES)}"]}
        )


def _ensure_groups(uow: UnitOfWork, names: list[str]) -> None:
    for name in names:
        require_text(groups=(name, 100))
        if uow.session.get(Group, name) is None:
            uow.session.add(Group(name=name, created_at=uow.now))
    uow.session.flush()


def add_user(
    uow: UnitOfWork, actor: Actor, name: str, role: str, groups: list[str]
) -> tuple[User, str]:
    """The new user and their first API token (shown once, stored only as a hash)."""
    require_admin(actor, "add users")
    require_text(name=(name, 100))
    _check_role(role)
    if uow.session.scalar(select(User).where(User.name == name)) is not None:
        raise Conflict(f"there is already a user called {name}")
    _ensure_groups(uow, groups)
    user = User(name=name, role=role, active=True, created_at=uow.now)
    user.memberships = [UserGroup(group_name=g) for g in sorted(set(groups))]
    uow.session.add(user)
    uow.session.flush()
    uow.record(actor.name, "user_created", user=name, role=role, groups=sorted(set(groups)))
    return user, _issue_token(uow, actor, user)


def _issue_token(uow: UnitOfWork, actor: Actor, user: User) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    uow.session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), created_at=uow.now))
    uow.record(actor.name, "token_issued", user=user.name)
    return token


def get_user(uow: UnitOfWork, name: str) -> User:
    user = uow.session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"there is no user called {name}")
    return user


def actor_named(uow: UnitOfWork, name: str) -> Actor:
    user = get_user(uow, name)
    if not user.active:
        raise PermissionDenied(f"user {name} is deactivated")
    return actor_of(user)


def authenticate(uow: UnitOfWork, token: str) -> Actor | None:
    """The active user holding this unrevoked token, or None."""
    user = uow.session.scalar(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None), User.active)
    )
    return actor_of(user) if user else None


def list_users(uow: UnitOfWork, actor: Actor) -> list[User]:
    """Every user, by name; for admins and auditors."""
    if not actor.reads_everything:
        raise PermissionDenied(f"only admins and auditors may list users; {actor.name} is a member")
    return list(uow.session.scalars(select(User).order_by(User.name)))


def read_user(uow: UnitOfWork, actor: Actor, name: str) -> User:
    """One user; admins and auditors read anyone, everyone reads themself."""
    if not (actor.reads_everything or actor.name == name):
        raise PermissionDenied(f"{actor.name} may only read their own user")
    return get_user(uow, name)


def _state_of(user: User) -> dict[str, Any]:
    return {"role": user.role, "groups": user.groups, "active": user.active}


def update_user(
    uow: UnitOfWork,
    actor: Actor,
    name: str,
    *,
    groups: list[str] | None = None,
    role: str | None = None,
    active: bool | None = None,
) -> User:
    """Change a user's groups (the whole set), role or active flag; None leaves it as it is.

    The last active admin cannot be demoted or deactivated: someone must stay able to
    manage users."""
    require_admin(actor, "change users")
    user = get_user(uow, name)
    before = _state_of(user)
    if role is not None:
        _check_role(role)
    stays_admin = (role or user.role) == "admin" and (user.active if active is None else active)
    if user.role == "admin" and user.active and not stays_admin and _active_admins(uow) <= 1:
        raise Conflict(
            f"{name} is the last active admin; make another user admin before "
            "demoting or deactivating them"
        )
    if groups is not None:
        wanted = sorted(set(groups))
        _ensure_groups(uow, wanted)
        if wanted != user.groups:
            kept = {m.group_name: m for m in user.memberships}
            user.memberships = [kept.get(g) or UserGroup(group_name=g) for g in wanted]
    if role is not None:
        user.role = role
    if active is not None:
        user.active = active
    after = _state_of(user)
    if after != before:
        changed = sorted(key for key in after if after[key] != before[key])
        uow.session.flush()
        uow.record(
            actor.name,
            "user_changed",
            user=name,
            changed=changed,
            before={key: before[key] for key in changed},
            after={key: after[key] for key in changed},
        )
    return user


def _active_admins(uow: UnitOfWork) -> int:
    """Counted with their rows locked, so two admins demoting each other at once queue."""
    admins = uow.session.scalars(
        select(User.id).where(User.role == "admin", User.active).with_for_update()
    )
    return len(list(admins))


def _require_self_or_admin(actor: Actor, name: str, action: str) -> None:
    if not (actor.is_admin or actor.name == name):
        raise PermissionDenied(f"only an admin or {name} themself may {action}")


def issue_token(uow: UnitOfWork, actor: Actor, name: str) -> str:
    """A new API token for the user (shown once); their other tokens keep working.

    Token housekeeping is allowed to every user for themself, auditors included: it
    changes only their own credentials, never what the cycles record."""
    _require_self_or_admin(actor, name, "issue their tokens")
    user = get_user(uow, name)
    if not user.active:
        raise Conflict(f"user {name} is deactivated; reactivate them before issuing a token")
    return _issue_token(uow, actor, user)


def revoke_tokens(uow: UnitOfWork, actor: Actor, name: str) -> int:
    """Revoke every unrevoked token of the user; returns how many were revoked."""
    _require_self_or_admin(actor, name, "revoke their tokens")
    user = get_user(uow, name)
    tokens = list(
        uow.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        )
    )
    for token in tokens:
        token.revoked_at = uow.now
    uow.record(actor.name, "token_revoked", user=name, count=len(tokens))
    return len(tokens)
