"""Signing in with a password. Failed attempts are limited per user name and per client
address over a sliding window kept in the database, so the limit holds however many
processes serve; every attempt, refused or not, is on the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from .. import passwords
from ..db.models import SignInFailure, User
from ..errors import SignInRefused
from ..uow import Engine, UnitOfWork
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


@dataclass(frozen=True)
class _Credentials:
    """What a password is checked against: if any of it changes while the check runs, the
    check no longer holds."""

    user_id: int
    password_hash: str
    session_version: int


def sign_in(
    engine: Engine, name: str, password: str, address: str, limits: SignInLimits
) -> SignedIn:
    """The user, if the password is theirs, they are active and neither their name nor the
    address has failed too often lately; SignInRefused otherwise.

    The password is checked between two transactions, in neither: hashing takes tens of
    milliseconds, and a write transaction would hold SQLite's write lock all that time.
    The outcome is recorded in the second, where the limits are counted again, so
    attempts made meanwhile count, and where a password changed meanwhile fails it."""
    attempted = storable(normalised(name))
    address = storable(address)
    with engine.unit_of_work(write=False) as uow:
        too_many = _too_many(uow, attempted, address, limits)
        seen = None if too_many else _credentials(uow, attempted)
    verified = False
    if not too_many:  # past the limits, refused unchecked
        verified = passwords.verify(seen.password_hash if seen else None, password)
    rehashed = None
    if verified and passwords.needs_rehash(seen.password_hash):
        rehashed = passwords.hash_password(password)
    with engine.unit_of_work() as uow:
        forget_old_failures(uow, limits)
        if too_many or _too_many(uow, attempted, address, limits):
            _refuse(uow, attempted, address, "too many failed attempts")
            raise SignInRefused(TOO_MANY, too_many=True)
        if not verified or _credentials(uow, attempted) != seen:
            count_failure(uow, attempted, address)
            _refuse(uow, attempted, address, "wrong user name or password")
            raise SignInRefused(WRONG)
        assert seen is not None  # verified
        if rehashed is not None:
            uow.session.execute(
                update(User).where(User.id == seen.user_id).values(password_hash=rehashed)
            )
        # The name's count starts again; the address's stays, so one address cannot try
        # many names by signing in now and then.
        uow.session.execute(delete(SignInFailure).where(SignInFailure.user_name == attempted))
        uow.record(attempted, EventType.SIGNED_IN, user=attempted, address=address)
        uow.commit()
    return SignedIn(attempted, seen.session_version)


def _credentials(uow: UnitOfWork, name: str) -> _Credentials | None:
    """None for an unknown or inactive user, or one without a password."""
    found = uow.session.execute(
        select(User.id, User.password_hash, User.session_version).where(
            User.name == name, User.active, User.password_hash.is_not(None)
        )
    ).one_or_none()
    return None if found is None else _Credentials(*found)


def storable(text: str, length: int = 100) -> str:
    """As much of a name, address or reason as the trail keeps: no NUL, ``length``
    characters."""
    return text.replace("\x00", "")[:length]


def forget_old_failures(uow: UnitOfWork, limits: SignInLimits) -> None:
    """Failures past the window count no more: their rows go."""
    uow.session.execute(delete(SignInFailure).where(SignInFailure.at < uow.now - limits.window))


def count_failure(uow: UnitOfWork, name: str, address: str) -> None:
    """A failed attempt, counted against the name and the address within the window."""
    uow.session.add(SignInFailure(user_name=name, address=storable(address), at=uow.now))


def _failures(uow: UnitOfWork, limits: SignInLimits, *where) -> int:
    since = uow.now - limits.window
    return uow.session.scalar(
        select(func.count()).select_from(SignInFailure).where(SignInFailure.at >= since, *where)
    )


def address_blocked(uow: UnitOfWork, address: str, limits: SignInLimits) -> bool:
    """Whether the address has failed too often lately, whatever names it tried."""
    return _failures(uow, limits, SignInFailure.address == storable(address)) >= limits.per_address


def _too_many(uow: UnitOfWork, name: str, address: str, limits: SignInLimits) -> bool:
    return _failures(
        uow, limits, SignInFailure.user_name == name
    ) >= limits.per_user or address_blocked(uow, address, limits)


def _refuse(uow: UnitOfWork, name: str, address: str, reason: str) -> None:
    """The refusal is recorded and kept (committed) before it is raised."""
    uow.record(RECORDER, EventType.SIGN_IN_FAILED, user=name, address=address, reason=reason)
    uow.commit()
