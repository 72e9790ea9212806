"""The pages, one module per area; importing them adds their routes to the blueprint."""

from . import (  # noqa: F401
    account,
    audit,
    cycles,
    evidence,
    inbox,
    model_changes,
    model_editing,
    models,
    next_cycle,
    organisation,
    people,
    profile,
    results,
    single_sign_on,
    tasks,
    units,
)
