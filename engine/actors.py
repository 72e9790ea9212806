"""Who is acting, and what each role may do. Services receive the actor as an argument."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .errors import Message, PermissionDenied
from .vocabulary import Role


@dataclass(frozen=True)
class Actor:
    """``groups``: the groups the user is a member of in the whole organisation;
    ``unit_groups``: (group, unit id) for each unit a membership held in a unit covers,
    that unit and every unit below it."""

    name: str
    role: Role
    groups: frozenset[str] = frozenset()
    unit_groups: frozenset[tuple[str, int]] = frozenset()

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def reads_everything(self) -> bool:
        return self.role in (Role.ADMIN, Role.AUDITOR)

    @property
    def reaches_everywhere(self) -> bool:
        """Admins and auditors, and whoever holds a group in the whole organisation."""
        return self.reads_everything or bool(self.groups)

    @property
    def unit_ids(self) -> frozenset[int]:
        """The units the actor's memberships held in units cover."""
        return frozenset(unit for _, unit in self.unit_groups)

    def covers(self, group: str | None, unit_id: int | None) -> bool:
        """Whether the actor is a member of ``group`` for the unit ``unit_id``."""
        return group in self.groups or (group, unit_id) in self.unit_groups

    def units_of(self, group: str) -> frozenset[int]:
        """The units where the actor is a member of ``group`` through a unit's membership."""
        return frozenset(unit for held, unit in self.unit_groups if held == group)

    def sees_unit(self, unit_id: int | None) -> bool:
        """Whether the unit's cycles and tasks are within the actor's reach at all."""
        return self.reaches_everywhere or unit_id in self.unit_ids


SYSTEM = Actor("system", Role.ADMIN)


def require_admin(actor: Actor, action: str) -> None:
    if not actor.is_admin:
        role = with_article(actor.role)
        raise PermissionDenied(
            Message(f"only an admin may {action}; {actor.name} is {role}", "admin_only")
        )


def require_reader(actor: Actor, action: str) -> None:
    """PermissionDenied unless ``actor`` reads everything: an admin or an auditor."""
    if not actor.reads_everything:
        role = with_article(actor.role)
        raise PermissionDenied(
            Message(
                f"only admins and auditors may {action}; {actor.name} is {role}", "auditors_only"
            )
        )


def with_article(role: Role) -> str:
    """``an auditor``, ``a member``: a role as a sentence names it."""
    return f"{'an' if role[0] in 'aeiou' else 'a'} {role}"


def require_writer(actor: Actor, action: str) -> None:
    if actor.role == Role.AUDITOR:
        raise PermissionDenied(
            Message(f"auditors read but do not change anything: cannot {action}", "read_only")
        )


class HeldTask(Protocol):
    """What deciding who may work a task looks at."""

    title: str
    unit_id: int | None
    candidate_group: str | None
    assignee: str | None
    claimed_by: str | None
    completed_by: str | None


def may_work(actor: Actor, task: HeldTask) -> bool:
    """Its holder, its assignee, or (unassigned) a member of its group for its cycle's unit;
    never an auditor."""
    if actor.role == Role.AUDITOR:
        return False
    if actor.name in (task.claimed_by, task.assignee):
        return True
    return task.assignee is None and actor.covers(task.candidate_group, task.unit_id)


def may_read(actor: Actor, task: HeldTask) -> bool:
    return actor.reads_everything or may_work(actor, task) or task.completed_by == actor.name


def hidden(actor: Actor, task: HeldTask) -> bool:
    """A task of a unit beyond the actor's reach that is not theirs either: it is answered
    as if it did not exist, so that its existence does not leak."""
    return not (actor.sees_unit(task.unit_id) or may_read(actor, task))


def why_not(actor: Actor, task: HeldTask) -> str:
    if task.assignee:
        text = f"task '{task.title}' is assigned to {task.assignee}"
        return Message(text, "task_assigned", assignee=task.assignee)
    text = (
        f"task '{task.title}' is for the {task.candidate_group} group of its unit, which "
        f"{actor.name} is not in"
    )
    return Message(text, "task_for_group", group=task.candidate_group)
