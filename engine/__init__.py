"""picycle's engine: runs performance-improvement cycles from BPMN with persisted state.

Nothing in this package imports Flask, marshmallow or the ``api`` package; the acting user
is always passed in as an argument.
"""
