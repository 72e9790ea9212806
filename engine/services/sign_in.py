"""Signing in with a password. Failed attempts are limited per user name and per client
address over a sliding window kept in the database, so the limit holds however many
processes serve; every attempt, refused or not, is on the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select

from .. import passwords
from ..db.models import SignInFailure, User
from ..errors import SignInRefused
from ..uow import UnitOfWork
from ..user_names import normalised
from ..vocabulary import EventType

# Who records a refusal: the attempt's name proves nothing about who made it.
RECORDER = "system"
WRONG = "the user name or password is wrong"
TOO_MANY = "too many failed sign-ins; wait a while and try again"


@dataclass(frozen=True)
class SignInLimits:
    """At most ``per_user`` failed attempts for one user name and ``per_address`` from one
    client address within ``window``; past either, attempts are refused unchecked."""

    per_user: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class SignedIn:
    """Who signed in, and the session version their session must carry to stay valid."""

    name: str
    session_version: int


def sign_in(
    uow: UnitOfWork, name: str, password: str, address: str, limits: SignInLimits
) -> SignedIn:
    """The user, if the password is theirs, they are active and neither their name nor the
    address has failed too often lately; SignInRefused otherwise."""
    attempted = _storable(normalised(name))
    address = _storable(address)
    since = uow.now - limits.window
    uow.session.execute(delete(SignInFailure).where(SignInFailure.at < since))
    if _too_many(uow, attempted, address, limits):
        _refuse(uow, attempted, address, "too many failed attempts")
        raise SignInRefused(TOO_MANY, too_many=True)
    user = uow.session.scalar(select(User).where(User.name == attempted))
    stored = user.password_hash if user is not None and user.active else None
    if not passwords.verify(stored, password):
        uow.session.add(SignInFailure(user_name=attempted, address=address, at=uow.now))
        _refuse(uow, attempted, address, "wrong user name or password")
        raise SignInRefused(WRONG)
    assert user is not None and stored is not None  # verify() is False without a hash
    if passwords.needs_rehash(stored):
        user.password_hash = passwords.hash_password(password)
    # The name's count starts again; the address's stays, so one address cannot try
    # many names by signing in now and then.
    uow.session.execute(delete(SignInFailure).where(SignInFailure.user_name == attempted))
    uow.record(user.name, EventType.SIGNED_IN, user=user.name, address=address)
    signed_in = SignedIn(user.name, user.session_version)
    uow.commit()
    return signed_in


def _storable(text: str) -> str:
    """As much of a name or address as the trail keeps: no NUL, 100 characters."""
    return text.replace("\x00", "")[:100]


def _too_many(uow: UnitOfWork, name: str, address: str, limits: SignInLimits) -> bool:
    def failures(*where) -> int:
        return uow.session.scalar(select(func.count()).select_from(SignInFailure).where(*where))

    return (
        failures(SignInFailure.user_name == name) >= limits.per_user
        or failures(SignInFailure.address == address) >= limits.per_address
    )


def _refuse(uow: UnitOfWork, name: str, address: str, reason: str) -> None:
    """The refusal is recorded and kept (committed) before it is raised."""
    uow.record(RECORDER, EventType.SIGN_IN_FAILED, user=name, address=address, reason=reason)
    uow.commit()
