"""The pages, one module per area; importing them adds their routes to the blueprint."""

from . import account, cycles, inbox, results, single_sign_on, tasks  # noqa: F401
