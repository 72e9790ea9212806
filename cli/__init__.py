"""The ``picycle`` command line."""
