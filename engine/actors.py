"""Who is acting, and what each role may do. Services receive the actor as an argument."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .errors import PermissionDenied
from .vocabulary import Role


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role
    groups: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def reads_everything(self) -> bool:
        return self.role in (Role.ADMIN, Role.AUDITOR)


SYSTEM = Actor("system", Role.ADMIN)


def require_admin(actor: Actor, action: str) -> None:
    if not actor.is_admin:
        raise PermissionDenied(f"only an admin may {action}; {actor.name} is a {actor.role}")


def require_writer(actor: Actor, action: str) -> None:
    if actor.role == Role.AUDITOR:
        raise PermissionDenied(f"auditors read but do not change anything: cannot {action}")


class HeldTask(Protocol):
    """What deciding who may work a task looks at."""

    title: str
    candidate_group: str | None
    assignee: str | None
    claimed_by: str | None
    completed_by: str | None


def may_work(actor: Actor, task: HeldTask) -> bool:
    """Its holder, its assignee, or (unassigned) a member of its group; never an auditor."""
    if actor.role == Role.AUDITOR:
        return False
    if actor.name in (task.claimed_by, task.assignee):
        return True
    return task.assignee is None and task.candidate_group in actor.groups


def may_read(actor: Actor, task: HeldTask) -> bool:
    return actor.reads_everything or may_work(actor, task) or task.completed_by == actor.name


def why_not(actor: Actor, task: HeldTask) -> str:
    if task.assignee:
        return f"task '{task.title}' is assigned to {task.assignee}"
    return (
        f"task '{task.title}' is for the {task.candidate_group} group, which {actor.name} is not in"
    )
