"""One blueprint per area of the API."""

from __future__ import annotations

from . import (
    audit,
    cycles,
    definitions,
    evidence,
    groups,
    health,
    incidents,
    results,
    tasks,
    units,
    users,
)

BLUEPRINTS = [
    (health.blp, ""),
    (users.blp, "/users"),
    (groups.blp, "/groups"),
    (units.blp, "/units"),
    (cycles.blp, "/cycles"),
    (tasks.blp, "/tasks"),
    (evidence.blp, "/tasks"),
    (audit.blp, ""),
    (definitions.blp, ""),
    (incidents.blp, "/incidents"),
    (results.blp, ""),
]
