"""Users, their group memberships, API tokens and passwords. Only a token's SHA-256 is
stored, and only a password's argon2id hash.

A membership is a group held in a unit (and every unit below it) or, without a unit, in
the whole organisation; ``groups`` are the latter."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, exists, func, select

from .. import passwords
from ..actors import Actor, require_admin, require_reader
from ..db.models import (
    MEMBERSHIPS,
    UNIT_PATHS,
    USERS,
    ApiToken,
    Group,
    Membership,
    SingleSignOnLink,
    Unit,
    UnitPath,
    User,
)
from ..errors import Conflict, Message, NotFound, PermissionDenied, ValidationFailed
from ..inputs import display_name, name_as_stored
from ..notifications.outbox import withdraw_unsent
from ..read_models import (
    IssuedToken,
    MembershipView,
    NewUser,
    Page,
    RevokedTokens,
    TokenView,
    UserView,
)
from ..uow import UnitOfWork
from ..user_names import normalised, user_name
from ..vocabulary import EventType, Role
from .held_tasks import give_back_unworkable

TOKEN_PREFIX = "pic_"
LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# (group, unit id or None for the whole organisation)
Held = tuple[str, int | None]


def _held(user: User) -> list[Held]:
    return sorted(((m.group_name, m.unit_id) for m in user.memberships), key=_order)


def _order(held: Held) -> tuple[str, int]:
    return held[0], held[1] or 0


def view_of(uow: UnitOfWork, user: User) -> UserView:
    held = _held(user)
    units = sorted({u for _, u in held if u is not None})
    names = {
        row.id: row.name
        for row in uow.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(units)))
    }
    return UserView(
        user.name,
        Role(user.role),
        [group for group, unit in held if unit is None],
        [MembershipView(group, unit, names.get(unit)) for group, unit in held],
        user.active,
        user.created_at,
    )


def _check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        roles = ", ".join(Role)
        message = f"must be one of {roles}"
        raise ValidationFailed(f"unknown role '{role}'", {"role": [message]}) from None


def _checked(
    uow: UnitOfWork,
    groups: Iterable[str],
    memberships: Iterable[Held],
    held: Collection[Held] = (),
) -> list[Held]:
    """The memberships, each once, their groups made when new; a 422 at
    ``memberships.N.unit`` (N: its place in ``memberships``) for a unit that does not
    exist, or one that is inactive unless the membership is ``held`` already. A group's
    name is taken without the spaces around it: " Leadership", pasted, would be another
    group than the lane a model names, and its member would get no task."""
    memberships = list(memberships)
    require_units(uow, memberships, held)
    wanted = [*((group, None) for group in groups), *memberships]
    kept = sorted(
        {(display_name("groups", group, 100), unit) for group, unit in wanted}, key=_order
    )
    for group in sorted({group for group, _ in kept}):
        if uow.session.get(Group, group) is None:
            uow.session.add(Group(name=group, created_at=uow.now))
    uow.session.flush()
    return kept


def require_units(
    uow: UnitOfWork,
    memberships: list[Held],
    held: Collection[Held] = (),
    field: Callable[[int], str] = lambda index: f"memberships.{index}.unit",
) -> None:
    """Each membership's unit (None: the whole organisation) exists and, for a membership
    not ``held`` already, is active; a 422 at the field ``field(index)`` names for each
    that is not. A unit's deactivation keeps the memberships held in it."""
    wanted = {unit for _, unit in memberships if unit is not None}
    found = {
        row.id: row
        for row in uow.session.execute(
            select(Unit.id, Unit.name, Unit.active).where(Unit.id.in_(wanted))
        )
    }
    errors: dict[str, list[Message]] = {}
    for index, (group, unit_id) in enumerate(memberships):
        kept = (name_as_stored(group), unit_id) in held
        problem = _unit_problem(found, unit_id, kept)
        if problem is not None:
            errors[field(index)] = [problem]
    if errors:
        raise ValidationFailed("; ".join(str(m[0]) for m in errors.values()), errors)


def _unit_problem(found: dict[int, Any], unit_id: int | None, kept: bool) -> Message | None:
    if unit_id is None:
        return None
    unit = found.get(unit_id)
    if unit is None:
        return Message(f"there is no unit #{unit_id}", "no_unit")
    if not unit.active and not kept:
        text = f"unit #{unit_id} ({unit.name}) is inactive: reactivate it or choose another unit"
        return Message(text, "unit_inactive", unit=unit.name)
    return None


def _as_list(held: list[Held]) -> list[dict[str, Any]]:
    return [{"group": group, "unit": unit} for group, unit in held]


def add_user(
    uow: UnitOfWork,
    actor: Actor,
    name: str,
    role: str,
    groups: list[str],
    memberships: Iterable[Held] = (),
) -> NewUser:
    """The new user and their first API token (shown once, stored only as a hash).
    ``groups`` are held in the whole organisation, ``memberships`` each in a unit (or, with
    None, in the whole organisation too).

    The name is kept normalised (``engine/user_names.py``): ``Pia`` becomes ``pia``."""
    require_admin(actor, "add users")
    user = create(uow, actor, name, role, groups, memberships)
    token = _issue_token(uow, actor, user)
    created = NewUser(view_of(uow, user), token)
    uow.commit()
    return created


def create(
    uow: UnitOfWork,
    actor: Actor,
    name: str,
    role: str,
    groups: Iterable[str] = (),
    memberships: Iterable[Held] = (),
) -> User:
    """A new user, recorded, not committed: for a service that has checked the actor may."""
    name = user_name(name)
    role = _check_role(role)
    if uow.session.scalar(select(User.id).where(User.name == name)) is not None:
        raise Conflict(Message(f"there is already a user called {name}", "user_exists", name=name))
    held = _checked(uow, groups, memberships)
    user = User(name=name, role=role, active=True, created_at=uow.now)
    user.memberships = [Membership(group_name=g, unit_id=u) for g, u in held]
    uow.session.add(user)
    uow.session.flush()
    uow.record(
        actor.name,
        EventType.USER_CREATED,
        user=name,
        role=role,
        groups=[g for g, u in held if u is None],
        memberships=_as_list(held),
    )
    return user


def _issue_token(uow: UnitOfWork, actor: Actor, user: User) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    kept = ApiToken(user_id=user.id, token_hash=hash_token(token), created_at=uow.now)
    uow.session.add(kept)
    uow.session.flush()
    # The token's id ties its issue to its revocation in the trail: who issued the token
    # a leaked script used.
    uow.record(actor.name, EventType.TOKEN_ISSUED, user=user.name, token=kept.id)
    return token


def get_user(uow: UnitOfWork, name: str) -> User:
    """The user ``name`` is, however it is written (``Pia``, ``PIA``, ``ｐｉａ``)."""
    name = normalised(name)
    user = uow.session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"there is no user called {name}")
    return user


# Every request authenticates through statements built on the tables (db/models.py: USERS).
TOKENS = ApiToken.__table__.c


def _actors(query: Select) -> Select:
    """The name and role of the active users ``query`` selects, with their memberships:
    one row per group held in the whole organisation (no unit), and one per group and unit
    a membership held in a unit covers (the tree's closure: that unit and those below)."""
    return (
        query.add_columns(
            USERS.name,
            USERS.role,
            MEMBERSHIPS.group_name,
            UNIT_PATHS.descendant_id,
            MEMBERSHIPS.id,
        )
        .outerjoin(Membership.__table__, MEMBERSHIPS.user_id == USERS.id)
        .outerjoin(UnitPath.__table__, UNIT_PATHS.ancestor_id == MEMBERSHIPS.unit_id)
        .where(USERS.active)
    )


# Built once: every request authenticates.
_NAMED = _actors(select().select_from(User.__table__).where(USERS.name == bindparam("name")))
_HOLDING = _actors(
    select()
    .select_from(ApiToken.__table__)
    .join(User.__table__, USERS.id == TOKENS.user_id)
    .where(TOKENS.token_hash == bindparam("token_hash"), TOKENS.revoked_at.is_(None))
)


def _actor_from(rows) -> Actor | None:
    rows = list(rows)
    if not rows:
        return None
    name, role, *_ = rows[0]
    everywhere = {group for _, _, group, unit, held in rows if held is not None and unit is None}
    in_units = {(group, unit) for _, _, group, unit, _ in rows if unit is not None}
    return Actor(name, Role(role), frozenset(everywhere), frozenset(in_units))


def actor_named(uow: UnitOfWork, name: str) -> Actor:
    """The active user called ``name``, as an actor (the CLI's ``--as``)."""
    name = normalised(name)
    actor = _actor_from(uow.session.execute(_NAMED, {"name": name}))
    if actor is None:
        get_user(uow, name)  # NotFound when there is no such user at all
        raise PermissionDenied(f"user {name} is deactivated")
    return actor


def authenticate(uow: UnitOfWork, token: str) -> Actor | None:
    """The active user holding this unrevoked token, or None: one statement, in the
    request's own unit of work."""
    holding = uow.session.connection().execute(_HOLDING, {"token_hash": hash_token(token)})
    return _actor_from(holding)


_IN_SESSION = _actors(
    select(USERS.language)
    .select_from(User.__table__)
    .where(
        USERS.name == bindparam("name"),
        USERS.session_version == bindparam("version"),
        # A way to sign in: a password, or an identity at the single sign-on provider.
        USERS.password_hash.is_not(None)
        | exists().where(SingleSignOnLink.__table__.c.user_id == USERS.id),
    )
)


@dataclass(frozen=True)
class InSession:
    """A signed-in user, and the language they chose for the pages (None: not chosen)."""

    actor: Actor
    language: str | None


def in_session(uow: UnitOfWork, name: str, version: int) -> InSession | None:
    """The active user a sign-in session names, or None once their password changed or
    they were deactivated since (either moves ``session_version`` on): one statement."""
    rows = list(uow.session.execute(_IN_SESSION, {"name": name, "version": version}))
    actor = _actor_from(row[1:] for row in rows)
    return None if actor is None else InSession(actor, rows[0].language)


def set_language(uow: UnitOfWork, actor: Actor, name: str, language: str | None) -> None:
    """Keep the language the user chose for the pages (a BCP 47 tag such as ``ar`` or
    ``nl-BE``; None: their browser's), for themself or, by an admin, for anyone."""
    require_self_or_admin(actor, name, "choose their language")
    if language is not None and not LANGUAGE_TAG.fullmatch(language):
        raise ValidationFailed(
            f"'{language}' is not a language tag", {"language": ["a tag such as ar or nl-BE"]}
        )
    user = get_user(uow, name)
    if user.language == language:
        return
    uow.record(
        actor.name,
        EventType.USER_CHANGED,
        user=user.name,
        changed=["language"],
        before={"language": user.language},
        after={"language": language},
    )
    user.language = language
    uow.commit()


def set_password(uow: UnitOfWork, actor: Actor, name: str, password: str) -> UserView:
    """Set the user's password (admins for anyone, every user for themself), at least 12
    characters. Their sign-in sessions end; their API tokens keep working."""
    require_self_or_admin(actor, name, "set their password")
    passwords.check_strength(password)
    user = get_user(uow, name)
    user.password_hash = passwords.hash_password(password)
    user.session_version += 1
    uow.record(actor.name, EventType.PASSWORD_SET, user=user.name)
    changed = view_of(uow, user)
    uow.commit()
    return changed


_TASK_WORKERS = select(USERS.name).where(
    USERS.name.in_(bindparam("names", expanding=True)), USERS.active, USERS.role != Role.AUDITOR
)


def task_workers(uow: UnitOfWork, names: Collection[str]) -> set[str]:
    """Which of ``names`` are active users whose role lets them work tasks (a microproject's
    owner must be one: its implementation task is assigned to them)."""
    return set(uow.session.scalars(_TASK_WORKERS, {"names": sorted(names)}))


def list_users(uow: UnitOfWork, actor: Actor) -> list[UserView]:
    """Every user, by name; for admins and auditors."""
    require_reader(actor, "list users")
    return [view_of(uow, user) for user in uow.session.scalars(select(User).order_by(User.name))]


def find_users(
    uow: UnitOfWork, actor: Actor, text: str = "", limit: int = 50, offset: int = 0
) -> Page[UserView]:
    """The users whose name holds ``text`` (written any way a name may be), by name, one
    page of them; for admins and auditors."""
    require_reader(actor, "list users")
    wanted = normalised(text.strip()) if text.strip() else ""
    matching = select(User).where(User.name.contains(wanted, autoescape=True))
    total = uow.session.scalar(select(func.count()).select_from(matching.subquery()))
    found = uow.session.scalars(matching.order_by(User.name).limit(limit).offset(offset))
    return Page([view_of(uow, user) for user in found], total or 0)


def read_user(uow: UnitOfWork, actor: Actor, name: str) -> UserView:
    """One user; admins and auditors read anyone, everyone reads themself."""
    if not (actor.reads_everything or actor.name == normalised(name)):
        raise PermissionDenied(f"{actor.name} may only read their own user")
    return view_of(uow, get_user(uow, name))


def _state_of(user: User) -> dict[str, Any]:
    held = _held(user)
    return {
        "role": user.role,
        "groups": [group for group, unit in held if unit is None],
        "memberships": _as_list(held),
        "active": user.active,
    }


def update_user(
    uow: UnitOfWork,
    actor: Actor,
    name: str,
    *,
    groups: list[str] | None = None,
    memberships: Iterable[Held] | None = None,
    role: str | None = None,
    active: bool | None = None,
) -> UserView:
    """Change a user's memberships, role or active flag; None leaves it as it is.
    ``memberships`` replaces the whole list; ``groups`` alone replaces the groups held in
    the whole organisation and keeps those held in units (with ``memberships``, it adds
    to them).

    The last active admin cannot be demoted or deactivated: someone must stay able to
    manage users. Deactivation revokes every token of the user, so reactivation never
    brings one back: the user needs a new one."""
    require_admin(actor, "change users")
    user = get_user(uow, name)
    change(uow, actor, user, groups=groups, memberships=memberships, role=role, active=active)
    changed_user = view_of(uow, user)
    uow.commit()
    return changed_user


def change(
    uow: UnitOfWork,
    actor: Actor,
    user: User,
    *,
    groups: list[str] | None = None,
    memberships: Iterable[Held] | None = None,
    role: str | None = None,
    active: bool | None = None,
) -> None:
    """``update_user``'s change, recorded, not committed: for a service that has checked
    the actor may."""
    before = _state_of(user)
    if role is not None:
        role = _check_role(role)
    stays_admin = (role or user.role) == Role.ADMIN and (user.active if active is None else active)
    if user.role == Role.ADMIN and user.active and not stays_admin and _active_admins(uow) <= 1:
        raise Conflict(
            Message(
                f"{user.name} is the last active admin; make another user admin before "
                "demoting or deactivating them",
                "last_admin",
                name=user.name,
            )
        )
    if groups is not None or memberships is not None:
        if memberships is None:
            memberships = [(g, u) for g, u in _held(user) if u is not None]
        if groups is None:
            groups = []
        wanted = _checked(uow, groups, memberships, _held(user))
        if wanted != _held(user):
            kept = {(m.group_name, m.unit_id): m for m in user.memberships}
            user.memberships = [
                kept.get((g, u)) or Membership(group_name=g, unit_id=u) for g, u in wanted
            ]
    if role is not None:
        user.role = role
    if active is not None:
        user.active = active
    after = _state_of(user)
    uow.session.flush()
    record_change(uow, actor, user.name, before, after)
    if after != before:
        holder = _actor_from(uow.session.execute(_NAMED, {"name": user.name}))
        give_back_unworkable(uow, actor, user.name, holder)
    if after["active"] != before["active"]:
        user.session_version += 1  # signed out, and not signed in again by reactivation
        # Reactivation too: a user deactivated before deactivation revoked tokens still
        # holds unrevoked ones.
        revoked = _revoke_all(uow, user)
        if revoked:
            uow.record(actor.name, EventType.TOKEN_REVOKED, user=user.name, count=revoked)
        if not user.active:  # what was written to them before is not sent after
            withdraw_unsent(uow.session, uow.now, user.name, "the recipient was deactivated")


def record_change(
    uow: UnitOfWork, actor: Actor, name: str, before: dict[str, Any], after: dict[str, Any]
) -> None:
    """The user's settings changed from ``before`` to ``after``: say which, in the trail
    (nothing when none did)."""
    changed = sorted(key for key in after if after[key] != before[key])
    if changed:
        uow.record(
            actor.name,
            EventType.USER_CHANGED,
            user=name,
            changed=changed,
            before={key: before[key] for key in changed},
            after={key: after[key] for key in changed},
        )


def _active_admins(uow: UnitOfWork) -> int:
    """Counted with their rows locked, so two admins demoting each other at once queue."""
    admins = uow.session.scalars(
        select(User.id).where(User.role == Role.ADMIN, User.active).with_for_update()
    )
    return len(list(admins))


def require_self_or_admin(actor: Actor, name: str, action: str) -> None:
    name = normalised(name)
    if not (actor.is_admin or actor.name == name):
        raise PermissionDenied(f"only an admin or {name} themself may {action}")


def issue_token(uow: UnitOfWork, actor: Actor, name: str) -> IssuedToken:
    """A new API token for the user (shown once); their other tokens keep working.

    Token housekeeping is allowed to every user for themself, auditors included: it
    changes only their own credentials, never what the cycles record."""
    require_self_or_admin(actor, name, "issue their tokens")
    user = get_user(uow, name)
    if not user.active:
        raise Conflict(
            Message(
                f"user {user.name} is deactivated; reactivate them before issuing a token",
                "user_deactivated",
                name=user.name,
            )
        )
    issued = IssuedToken(user.name, _issue_token(uow, actor, user))
    uow.commit()
    return issued


def revoke_tokens(uow: UnitOfWork, actor: Actor, name: str) -> RevokedTokens:
    """Revoke every unrevoked token of the user, saying how many were revoked."""
    require_self_or_admin(actor, name, "revoke their tokens")
    user = get_user(uow, name)
    revoked = RevokedTokens(user.name, _revoke_all(uow, user))
    uow.record(actor.name, EventType.TOKEN_REVOKED, user=user.name, count=revoked.revoked)
    uow.commit()
    return revoked


def revoke_token(uow: UnitOfWork, actor: Actor, name: str, token_id: int) -> TokenView:
    """Revoke one token of the user (a leaked one); their others keep working. NotFound
    when it is not theirs, whoever else holds it; Conflict when it is revoked already."""
    require_self_or_admin(actor, name, "revoke their tokens")
    user = get_user(uow, name)
    # Locked, so of two revocations at once the second is told it came too late.
    token = uow.session.scalar(
        select(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.user_id == user.id)
        .with_for_update()
    )
    if token is None:
        raise NotFound(f"{user.name} has no token #{token_id}")
    if token.revoked_at is not None:
        raise Conflict(
            Message(
                f"token #{token_id} of {user.name} was revoked already, at "
                f"{token.revoked_at:%Y-%m-%d %H:%M} UTC",
                "token_revoked",
                id=str(token_id),  # as the pages name it: "#1234", not "#1,234"
            )
        )
    token.revoked_at = uow.now
    uow.record(actor.name, EventType.TOKEN_REVOKED, user=user.name, token=token.id)
    revoked = TokenView(token.id, token.created_at, token.revoked_at)
    uow.commit()
    return revoked


def list_tokens(uow: UnitOfWork, actor: Actor, name: str) -> list[TokenView]:
    """The user's API tokens, newest first: when each was issued and revoked (never the
    token itself, which is not kept)."""
    require_self_or_admin(actor, name, "see their tokens")
    user = get_user(uow, name)
    rows = uow.session.execute(
        select(ApiToken.id, ApiToken.created_at, ApiToken.revoked_at)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.id.desc())
    )
    return [TokenView(*row) for row in rows]


def add_membership(
    uow: UnitOfWork, actor: Actor, name: str, group: str, unit_id: int | None
) -> UserView:
    """Make the user a member of ``group`` in the unit (None: the whole organisation),
    keeping what else they hold; a change like any other (admins)."""
    require_admin(actor, "change users")
    held = _held(get_user(uow, name))
    require_units(uow, [(group, unit_id)], held, field=lambda _: "unit")
    return _replace_memberships(uow, actor, name, [*held, (group, unit_id)])


def remove_membership(
    uow: UnitOfWork, actor: Actor, name: str, group: str, unit_id: int | None
) -> UserView:
    """End the user's membership of ``group`` in the unit (None: the whole organisation);
    NotFound when they hold no such membership (admins)."""
    require_admin(actor, "change users")
    held = _held(get_user(uow, name))
    group = name_as_stored(group)
    if (group, unit_id) not in held:
        raise NotFound(f"{normalised(name)} is not a member of {group} there")
    return _replace_memberships(uow, actor, name, [h for h in held if h != (group, unit_id)])


def group_names(uow: UnitOfWork, actor: Actor) -> list[str]:
    """Every group there is, by name: a group is made with its first member; for admins
    and auditors."""
    require_reader(actor, "list groups")
    return list(uow.session.scalars(select(Group.name).order_by(Group.name)))


def _replace_memberships(uow: UnitOfWork, actor: Actor, name: str, held: list[Held]) -> UserView:
    return update_user(
        uow,
        actor,
        name,
        groups=[group for group, unit in held if unit is None],
        memberships=[(group, unit) for group, unit in held if unit is not None],
    )


def _revoke_all(uow: UnitOfWork, user: User) -> int:
    tokens = list(
        uow.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        )
    )
    for token in tokens:
        token.revoked_at = uow.now
    return len(tokens)
