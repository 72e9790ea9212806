"""The pages, one module per area; importing them adds their routes to the blueprint."""

from . import account, audit, cycles, inbox, results, tasks  # noqa: F401
