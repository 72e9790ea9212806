"""The words picycle records and checks against, in one place: statuses, roles, event types.

Each is a ``StrEnum``: its members are the strings stored in the database and shown by the
API and the CLI, so ``CycleStatus.RUNNING == "running"``.
"""

from __future__ import annotations

from enum import StrEnum


class CycleStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TaskState(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    # The workflow moved on without it: a cancelled cycle, an interrupting event.
    WITHDRAWN = "withdrawn"


class Role(StrEnum):
    MEMBER = "member"
    ADMIN = "admin"
    AUDITOR = "auditor"


class InboxScope(StrEnum):
    MINE = "mine"
    GROUPS = "groups"
    ALL = "all"


class EventType(StrEnum):
    """What an audit event records."""

    CYCLE_STARTED = "cycle_started"
    CYCLE_COMPLETED = "cycle_completed"
    CYCLE_CANCELLED = "cycle_cancelled"
    CYCLE_MIGRATED = "cycle_migrated"
    TASK_CREATED = "task_created"
    TASK_CLAIMED = "task_claimed"
    TASK_UNCLAIMED = "task_unclaimed"
    TASK_COMPLETED = "task_completed"
    TASK_COMMENTED = "task_commented"
    TASK_WITHDRAWN = "task_withdrawn"
    # A file attached to a task as evidence: its name, size, type and SHA-256.
    EVIDENCE_ATTACHED = "evidence_attached"
    TIMER_FIRED = "timer_fired"
    # A completed cycle's plan for the unit's next one: scheduled, then started or skipped.
    NEXT_CYCLE_SCHEDULED = "next_cycle_scheduled"
    NEXT_CYCLE_STARTED = "next_cycle_started"
    NEXT_CYCLE_SKIPPED = "next_cycle_skipped"
    INCIDENT_RAISED = "incident_raised"
    INCIDENT_RESOLVED = "incident_resolved"
    DEFINITION_DEPLOYED = "definition_deployed"
    USER_CREATED = "user_created"
    USER_CHANGED = "user_changed"
    UNIT_CREATED = "unit_created"
    UNIT_CHANGED = "unit_changed"
    TOKEN_ISSUED = "token_issued"
    TOKEN_REVOKED = "token_revoked"
    PASSWORD_SET = "password_set"
    # A user linked to their identity at the single sign-on provider (issuer, subject).
    USER_LINKED = "user_linked"
    USER_UNLINKED = "user_unlinked"
    SIGNED_IN = "signed_in"
    SIGN_IN_FAILED = "sign_in_failed"
    ACCESS_DENIED = "access_denied"
    AUDIT_HEADS_ADOPTED = "audit_heads_adopted"


class IncidentAction(StrEnum):
    """What was attempted when a model step failed, and what a retry does again."""

    COMPLETE_TASK = "complete_task"
    FIRE_TIMERS = "fire_timers"


class IncidentResolution(StrEnum):
    RETRIED = "retried"  # the attempt was made again and went through
    DISMISSED = "dismissed"  # an admin closed it without trying again
