"""The pages, one module per area; importing them adds their routes to the blueprint."""

from . import account, cycles, evidence, inbox, results, tasks  # noqa: F401
