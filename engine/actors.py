"""Who is acting, and what each role may do. Services receive the actor as an argument."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import PermissionDenied

ROLES = ("member", "admin", "auditor")


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    groups: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def reads_everything(self) -> bool:
        return self.role in ("admin", "auditor")


SYSTEM = Actor("system", "admin")


def require_admin(actor: Actor, action: str) -> None:
    if not actor.is_admin:
        raise PermissionDenied(f"only an admin may {action}; {actor.name} is a {actor.role}")


def require_writer(actor: Actor, action: str) -> None:
    if actor.role == "auditor":
        raise PermissionDenied(f"auditors read but do not change anything: cannot {action}")
