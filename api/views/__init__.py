"""One blueprint per area of the API."""

from __future__ import annotations

from . import audit, cycles, definitions, health, incidents, tasks, users

BLUEPRINTS = [
    (health.blp, ""),
    (users.blp, "/users"),
    (cycles.blp, "/cycles"),
    (tasks.blp, "/tasks"),
    (audit.blp, ""),
    (definitions.blp, ""),
    (incidents.blp, "/incidents"),
]
