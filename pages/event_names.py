"""What each kind of audit event is called on the pages, in the reader's language."""

from __future__ import annotations

from picycle.engine.vocabulary import EventType

from .i18n import gettext as _


def event_names() -> dict[str, str]:
    """Every event type's name; built per request, as the language is the request's."""
    return {
        EventType.CYCLE_STARTED: _("Cycle started"),
        EventType.CYCLE_COMPLETED: _("Cycle completed"),
        EventType.CYCLE_CANCELLED: _("Cycle cancelled"),
        EventType.CYCLE_MIGRATED: _("Cycle moved to another process version"),
        EventType.TASK_CREATED: _("Task created"),
        EventType.TASK_CLAIMED: _("Task claimed"),
        EventType.TASK_UNCLAIMED: _("Task given back"),
        EventType.TASK_COMPLETED: _("Task completed"),
        EventType.TASK_COMMENTED: _("Comment added"),
        EventType.TASK_WITHDRAWN: _("Task withdrawn"),
        EventType.EVIDENCE_ATTACHED: _("Evidence attached"),
        EventType.TIMER_FIRED: _("Timer fired"),
        EventType.NEXT_CYCLE_SCHEDULED: _("Next cycle planned"),
        EventType.NEXT_CYCLE_STARTED: _("Next cycle started"),
        EventType.NEXT_CYCLE_SKIPPED: _("Planned next cycle skipped"),
        EventType.INCIDENT_RAISED: _("Incident raised"),
        EventType.INCIDENT_RESOLVED: _("Incident resolved"),
        EventType.DEFINITION_DEPLOYED: _("Process deployed"),
        EventType.USER_CREATED: _("User added"),
        EventType.USER_CHANGED: _("User changed"),
        EventType.UNIT_CREATED: _("Unit added"),
        EventType.UNIT_CHANGED: _("Unit changed"),
        EventType.TOKEN_ISSUED: _("API token issued"),
        EventType.TOKEN_REVOKED: _("API token revoked"),
        EventType.PASSWORD_SET: _("Password set"),
        EventType.USER_LINKED: _("User linked to single sign-on"),
        EventType.USER_UNLINKED: _("User unlinked from single sign-on"),
        EventType.SIGNED_IN: _("Signed in"),
        EventType.SIGN_IN_FAILED: _("Sign-in failed"),
        EventType.ACCESS_DENIED: _("Access refused"),
        EventType.AUDIT_HEADS_ADOPTED: _("Audit trail heads adopted"),
    }
