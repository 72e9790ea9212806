"""Password hashes: argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile)."""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import Message, ValidationFailed

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 takes any length; the bound keeps one attempt cheap to refuse

_HASHER = PasswordHasher()


def check_strength(password: str) -> None:
    """ValidationFailed unless the password is 12 to 1024 characters, not all white space."""
    if not password.strip():
        problem = Message("must not be empty", "empty")
    elif len(password) < MIN_LENGTH:
        problem = Message(
            f"must be at least {MIN_LENGTH} characters long, not {len(password)}",
            "too_short",
            limit=MIN_LENGTH,
        )
    elif len(password) > MAX_LENGTH:
        problem = Message(
            f"must be at most {MAX_LENGTH} characters long", "too_long", limit=MAX_LENGTH
        )
    elif "\x00" in password:
        problem = Message("must not contain NUL characters", "nul")
    else:
        return
    raise ValidationFailed(f"the password {problem}", {"password": [problem]})


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


@cache
def _decoy() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))


def verify(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches the hash. Without a hash (unknown user, no password
    set) a decoy is verified all the same, so the answer takes as long either way."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(stored or _decoy(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether the hash was made with weaker settings than today's."""
    return _HASHER.check_needs_rehash(stored)
