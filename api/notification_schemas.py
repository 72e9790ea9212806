"""What the notification settings endpoints take and answer (api/views/users.py)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate
from picycle.engine.services.notification_settings import ADDRESS_PATTERN, MAX_ADDRESS

from .parsing import Text

DESCRIPTIONS = {
    "assigned": "E-mail when a task is assigned to the user",
    "group_open": "E-mail when a task becomes open to one of the user's groups",
    "overdue": "E-mail when a task of the user's falls overdue",
    "digest": "A daily e-mail of the user's open and overdue tasks",
}


class NotificationSettingsSchema(ma.Schema):
    user = fields.String(required=True)
    email = fields.String(
        required=True, allow_none=True, metadata={"description": "null: no e-mail is sent"}
    )
    assigned = fields.Boolean(required=True, metadata={"description": DESCRIPTIONS["assigned"]})
    group_open = fields.Boolean(required=True, metadata={"description": DESCRIPTIONS["group_open"]})
    overdue = fields.Boolean(required=True, metadata={"description": DESCRIPTIONS["overdue"]})
    digest = fields.Boolean(required=True, metadata={"description": DESCRIPTIONS["digest"]})


class NotificationChangeSchema(ma.Schema):
    email = Text(
        blank=True,
        validate=validate.Length(max=MAX_ADDRESS),
        metadata={
            "description": "Where e-mail goes; an empty string removes the address",
            "pattern": rf"^\s*({ADDRESS_PATTERN})?\s*$",
        },
    )
    assigned = fields.Boolean(metadata={"description": DESCRIPTIONS["assigned"]})
    group_open = fields.Boolean(metadata={"description": DESCRIPTIONS["group_open"]})
    overdue = fields.Boolean(metadata={"description": DESCRIPTIONS["overdue"]})
    digest = fields.Boolean(metadata={"description": DESCRIPTIONS["digest"]})
