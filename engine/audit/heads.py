"""Chain heads sealed with a key the database does not hold.

A head is a chain's length and last hash. Whoever can write to the database can rewrite
events and recompute every hash after them with picycle's own (public) hash function; what
they cannot recompute without the key is a head's seal: HMAC-SHA256 of the chain's name,
length and last hash, keyed with ``PICYCLE_AUDIT_KEY`` (engine/config.py).
"""

from __future__ import annotations

import hmac
from typing import NamedTuple


class RecordedHead(NamedTuple):
    """A chain's head as the database records it; ``seal`` is None when it was written
    without a key."""

    length: int
    hash: str
    seal: str | None


def head_seal(key: bytes, chain: str, length: int, head_hash: str) -> str:
    """HMAC-SHA256 with ``key`` of the UTF-8 text ``chain``, newline, ``length`` in
    decimal, newline, ``head_hash``; in hexadecimal."""
    return hmac.digest(key, f"{chain}\n{length}\n{head_hash}".encode(), "sha256").hex()


def seal_of(key: bytes | None, chain: str, length: int, head_hash: str) -> str | None:
    """The head's seal with ``key``; None without a key."""
    return None if key is None else head_seal(key, chain, length, head_hash)


def sealed_by(key: bytes, chain: str, head: RecordedHead) -> bool:
    return head.seal is not None and hmac.compare_digest(
        head.seal, head_seal(key, chain, head.length, head.hash)
    )
