"""The seam to SpiffWorkflow: parser, serializer, sandboxed scripts and runner.

Nothing outside this package imports SpiffWorkflow; the rest of picycle talks about
cycles, tasks, definitions and events.
"""
