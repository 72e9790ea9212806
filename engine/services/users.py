"""Users, their groups and API tokens. Only a token's SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from ..actors import ROLES, Actor, require_admin
from ..db.models import ApiToken, Group, User, UserGroup
from ..errors import Conflict, NotFound, PermissionDenied, ValidationFailed
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
        if not name.strip():
            raise ValidationFailed("a group name must not be empty", {"groups": ["empty name"]})
        if uow.session.get(Group, name) is None:
            uow.session.add(Group(name=name, created_at=uow.now))
    uow.session.flush()


def add_user(
    uow: UnitOfWork, actor: Actor, name: str, role: str, groups: list[str]
) -> tuple[User, str]:
    """The new user and their first API token (shown once, stored only as a hash)."""
    require_admin(actor, "add users")
    if not name.strip():
        raise ValidationFailed("the user name must not be empty", {"name": ["must not be empty"]})
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
