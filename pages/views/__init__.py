"""The pages, one module per area; importing them adds their routes to the blueprint."""

from . import account, cycles, inbox, model_editing, models, results, tasks, units  # noqa: F401
