"""The pages, one module per area; importing them adds their routes to the blueprint."""

from . import (  # noqa: F401
    account,
    cycles,
    inbox,
    model_changes,
    organisation,
    people,
    results,
    tasks,
)
