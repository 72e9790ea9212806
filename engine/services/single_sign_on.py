"""Signing in through an OpenID Connect provider. The provider's verified ID token names
the user by issuer and subject: the first sign-in makes them a picycle user linked to that
identity, and every sign-in makes their memberships (and, when the mapping grants roles,
their role) those that the values of the provider's claim map to. The provider is the
source of truth for a linked user's memberships; every change is on the audit trail."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..actors import SYSTEM
from ..db.models import User
from ..errors import ConfigurationError, Conflict, SignInRefused, ValidationFailed
from ..uow import Engine, UnitOfWork
from ..user_names import normalised
from ..vocabulary import EventType, Role
from . import users
from .sign_in import (
    RECORDER,
    TOO_MANY,
    SignedIn,
    SignInLimits,
    address_blocked,
    count_failure,
    forget_old_failures,
    storable,
)
from .sso_links import add_link, linked_user
from .units import unit_at_path

METHOD = "single sign-on"
# The role a granted role outranks: an admin grant wins over an auditor's.
RANKS = (Role.MEMBER, Role.AUDITOR, Role.ADMIN)


@dataclass(frozen=True)
class Grant:
    """What a claim value gives: a group, held in the unit at ``unit`` (the unit's path of
    names from the top of the tree) or, without one, in the whole organisation; or a
    role."""

    group: str | None = None
    unit: tuple[str, ...] | None = None
    role: Role | None = None


@dataclass(frozen=True)
class ClaimMapping:
    """Claim value -> what it grants. Values it does not name grant nothing."""

    grants: Mapping[str, tuple[Grant, ...]]

    @property
    def grants_roles(self) -> bool:
        """Whether the provider decides users' roles too (else they stay as admins set)."""
        return any(grant.role for granted in self.grants.values() for grant in granted)


@dataclass(frozen=True)
class Identity:
    """What a verified ID token says: who (issuer, subject), the user name it proposes
    for a first sign-in, and the values of the claim that carries groups or roles."""

    issuer: str
    subject: str
    name: str
    values: frozenset[str]


class SingleSignOnRefused(SignInRefused):
    """``reason``: ``inactive`` (the linked user is deactivated), ``bad_name`` (the
    proposed user name breaks the rules), ``name_taken`` (a user not linked to this
    identity has the name) or ``too_many`` (the address failed too often lately)."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def parse_claim_mapping(text: str, source: str) -> ClaimMapping:
    """The mapping from its JSON text: an object whose keys are claim values and whose
    values are lists of grants, ``{"group": "PI Unit", "unit": ["Ministry", "Planning"]}``
    (``unit`` left out: the whole organisation) or ``{"role": "admin"}``.
    ConfigurationError naming ``source`` and the offending place otherwise."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ConfigurationError(f"{source}: not JSON: {error}") from None
    if not isinstance(document, dict):
        raise ConfigurationError(f"{source}: must be a JSON object of claim value: [grants]")
    return ClaimMapping(
        {value: _grants(granted, f"{source}: {value!r}") for value, granted in document.items()}
    )


def _grants(granted: Any, where: str) -> tuple[Grant, ...]:
    if not isinstance(granted, list):
        raise ConfigurationError(f"{where} must map to a list of grants")
    return tuple(
        _grant(grant, f"{where}, grant {number}") for number, grant in enumerate(granted, 1)
    )


def _grant(grant: Any, where: str) -> Grant:
    if not isinstance(grant, dict) or set(grant) not in ({"group"}, {"group", "unit"}, {"role"}):
        raise ConfigurationError(
            f'{where} must be {{"group": G}}, {{"group": G, "unit": [path]}} or {{"role": R}}'
        )
    if "role" in grant:
        if grant["role"] not in (Role.ADMIN, Role.AUDITOR):
            raise ConfigurationError(f"{where}: role must be admin or auditor")
        return Grant(role=Role(grant["role"]))
    group, unit = grant["group"], grant.get("unit")
    if not isinstance(group, str) or not group.strip() or len(group) > 100:
        raise ConfigurationError(f"{where}: group must be a name of 1 to 100 characters")
    if unit is not None and not (
        isinstance(unit, list) and unit and all(isinstance(n, str) and n for n in unit)
    ):
        raise ConfigurationError(f"{where}: unit must be a list of unit names, from the top")
    return Grant(group=group.strip(), unit=tuple(unit) if unit else None)


def sign_in(engine: Engine, identity: Identity, mapping: ClaimMapping, address: str) -> SignedIn:
    """The user linked to the identity, made on their first sign-in, with the memberships
    the claim's values grant; SingleSignOnRefused (recorded) for a deactivated user or a
    first sign-in whose proposed name cannot be had."""
    with engine.unit_of_work() as uow:
        user = linked_user(uow, identity.issuer, identity.subject) or _provision(
            uow, identity, address
        )
        if not user.active:
            _refuse(uow, user.name, address, "the user is deactivated")
            raise SingleSignOnRefused(f"user {user.name} is deactivated", "inactive")
        _sync(uow, user, mapping, identity.values)
        uow.record(user.name, EventType.SIGNED_IN, user=user.name, address=address, method=METHOD)
        uow.commit()
        return SignedIn(user.name, user.session_version)


def refuse_if_too_many(engine: Engine, address: str, limits: SignInLimits) -> None:
    """SingleSignOnRefused (recorded) when the address has failed to sign in too often
    lately, by password or through the provider: checked before the provider is asked."""
    with engine.unit_of_work() as uow:
        forget_old_failures(uow, limits)  # single sign-on alone must not pile them up
        if address_blocked(uow, address, limits):
            _refuse(uow, "", address, "too many failed attempts", counted=False)
            raise SingleSignOnRefused(TOO_MANY, "too_many")
        uow.commit()


def record_failure(engine: Engine, address: str, reason: str) -> None:
    """A sign-in the provider's answer did not prove (no user is known yet), recorded."""
    with engine.unit_of_work() as uow:
        _refuse(uow, "", address, reason)


def _refuse(
    uow: UnitOfWork, name: str, address: str, reason: str, counted: bool = True, **identity: str
) -> None:
    """Recorded and, unless ``counted`` is false, counted against the address as a failed
    password sign-in is."""
    if counted:
        count_failure(uow, "", address)
    uow.record(
        RECORDER,
        EventType.SIGN_IN_FAILED,
        user=storable(name),
        address=storable(address),
        reason=storable(reason, 500),
        method=METHOD,
        **identity,
    )
    uow.commit()


def _provision(uow: UnitOfWork, identity: Identity, address: str) -> User:
    """A new member, linked to the identity. Never linked to an existing user by name or
    e-mail: whoever controls that at the provider would take over the picycle user. The
    refusal keeps the identity, for an admin who finds it is that user's to link them."""
    try:
        user = users.create(uow, SYSTEM, identity.name, Role.MEMBER, [])
    except ValidationFailed as error:
        _refuse(uow, identity.name, address, f"the proposed user name is refused: {error}")
        raise SingleSignOnRefused(str(error), "bad_name") from None
    except Conflict as error:
        name = normalised(identity.name)
        reason = "a user not linked to this identity has the name"
        _refuse(uow, name, address, reason, issuer=identity.issuer, subject=identity.subject)
        raise SingleSignOnRefused(str(error), "name_taken") from None
    add_link(uow, SYSTEM, user, identity.issuer, identity.subject)
    return user


def _sync(uow: UnitOfWork, user: User, mapping: ClaimMapping, values: Iterable[str]) -> None:
    """The user's memberships (and role) made those granted, recorded as a change."""
    granted = [grant for value in sorted(set(values)) for grant in mapping.grants.get(value, ())]
    memberships = []
    for grant in granted:
        if grant.group is None:
            continue
        unit = None if grant.unit is None else unit_at_path(uow, grant.unit)
        if unit is not None or grant.unit is None:  # a unit not (or no longer) there: none
            memberships.append((grant.group, unit))
    role = None
    if mapping.grants_roles:
        roles = {grant.role for grant in granted if grant.role} | {Role.MEMBER}
        role = max(roles, key=RANKS.index)
    try:
        users.change(uow, SYSTEM, user, memberships=memberships, role=role)
    except Conflict:  # the last active admin stays one, whatever the provider says
        users.change(uow, SYSTEM, user, memberships=memberships)
