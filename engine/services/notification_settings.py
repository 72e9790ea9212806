"""Where a user's notifications go and which they get: read and changed by the user
themself or by an admin, every change in the audit trail."""

from __future__ import annotations

import re

from ..actors import Actor
from ..db.models import User
from ..errors import PermissionDenied, ValidationFailed
from ..read_models import NotificationSettings
from ..uow import UnitOfWork
from ..user_names import normalised
from .users import get_user, record_change, require_self_or_admin

# One address, nothing around it: no display name, white space, control or
# header-breaking characters, no "=?" (the e-mail's To header would decode an encoded
# word there, and one hiding a line break stops the worker); a domain with a dot.
# Written so JSON Schema reads it too.
ADDRESS_PATTERN = (
    r"(?![^@]*=\?)[^@\s\x00-\x1f\x7f<>()\[\],;:\"\\]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+"
)
ADDRESS = re.compile(ADDRESS_PATTERN)
MAX_ADDRESS = 254
CHOICES = ("assigned", "group_open", "overdue", "digest")


def settings_of(user: User) -> NotificationSettings:
    return NotificationSettings(
        user.name,
        user.email,
        user.notify_assigned,
        user.notify_group_open,
        user.notify_overdue,
        user.notify_digest,
    )


def read_settings(uow: UnitOfWork, actor: Actor, name: str) -> NotificationSettings:
    """A user's settings: their own, or anyone's for admins and auditors."""
    if not (actor.reads_everything or actor.name == normalised(name)):
        raise PermissionDenied(f"{actor.name} may only read their own notification settings")
    return settings_of(get_user(uow, name))


def checked_address(email: str) -> str | None:
    """The address as kept (surrounding white space dropped); None for an empty one."""
    email = email.strip()
    if not email:
        return None
    if len(email) > MAX_ADDRESS or not ADDRESS.fullmatch(email):
        raise ValidationFailed(
            f"'{email[:MAX_ADDRESS]}' is not an e-mail address",
            {"email": ["an address such as dana@example.org"]},
        )
    return email


def change_settings(
    uow: UnitOfWork,
    actor: Actor,
    name: str,
    email: str | None = None,
    **choices: bool | None,
) -> NotificationSettings:
    """Change the user's address (an empty one removes it) and the notifications they get
    (``assigned``, ``group_open``, ``overdue``, ``digest``); None leaves a setting as it
    is. For the user themself, or by an admin for anyone."""
    require_self_or_admin(actor, name, "change their notification settings")
    unknown = sorted(set(choices) - set(CHOICES))
    if unknown:
        raise ValidationFailed(
            f"unknown notification {unknown[0]}", {key: ["unknown field"] for key in unknown}
        )
    wanted = {} if email is None else {"email": checked_address(email)}
    wanted.update({key: value for key, value in choices.items() if value is not None})
    user = get_user(uow, name)
    before = vars(settings_of(user))
    for key, value in wanted.items():
        setattr(user, "email" if key == "email" else f"notify_{key}", value)
    settings = settings_of(user)
    record_change(uow, actor, user.name, before, vars(settings))
    uow.commit()
    return settings
