"""The errors services raise; interfaces (CLI, API) map them to exit codes and HTTP statuses."""

from __future__ import annotations


class PicycleError(Exception):
    """Base of every error a user can provoke; ``str()`` is a message meant for them."""


class NotFound(PicycleError):
    pass


class Conflict(PicycleError):
    """The request is valid but the current state does not allow it (taken, no longer open)."""


class PermissionDenied(PicycleError):
    pass


class ValidationFailed(PicycleError):
    """Bad input. ``errors`` maps a field path (``microprojects.0.due``) to messages."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.errors = errors or {}


class ModelError(PicycleError):
    """A process model failed while running (script refused or broken); nothing was changed."""
