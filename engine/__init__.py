"""picycle's engine: runs performance-improvement cycles from BPMN with persisted state.

Nothing in this package imports Flask, marshmallow or the ``api`` package; the acting user
is always passed in as an argument. ``Engine`` is the composition root; the use cases are
in ``services``, what they return in ``read_models``.
"""

from .uow import Engine, UnitOfWork

__all__ = ["Engine", "UnitOfWork"]
