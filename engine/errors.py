"""The errors services raise; interfaces (CLI, API) map them to exit codes and HTTP statuses."""

from __future__ import annotations


class Message(str):
    """A message in English that also says what it is: ``code``, stable whatever the
    wording, and ``params``, the values it names; so that an interface can say it in the
    reader's language. Anywhere a message is text (a problem document, a log) it is that
    text."""

    code: str
    params: dict[str, object]

    def __new__(cls, text: str, code: str, **params: object) -> Message:
        made = super().__new__(cls, text)
        made.code = code
        made.params = params
        return made


class PicycleError(Exception):
    """Base of every error a user can provoke; ``str()`` is a message meant for them, and
    ``code`` and ``params`` say what it is when it is a ``Message``."""

    def __init__(self, message: str):
        super().__init__(message)
        self.code: str | None = getattr(message, "code", None)
        self.params: dict[str, object] = getattr(message, "params", {})


class NotFound(PicycleError):
    pass


class ConfigurationError(PicycleError):
    """A setting in the environment that picycle cannot run with."""


class Conflict(PicycleError):
    """The request is valid but the current state does not allow it (taken, no longer open)."""


class Unavailable(PicycleError):
    """The database cannot be reached or dropped the connection (a restart, a network
    fault); nothing was changed, and trying again later may succeed."""


class PermissionDenied(PicycleError):
    pass


class ValidationFailed(PicycleError):
    """Bad input. ``errors`` maps a field path (``microprojects.0.due``) to messages."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.errors = errors or {}


class ModelError(PicycleError):
    """A process model failed while running (script refused or broken, a budget exceeded);
    nothing was changed. ``element_id`` names the failing step where known, ``limit`` the
    setting of the budget it went over, if that was the reason; ``incident_id`` the incident
    admins see, once one is raised."""

    def __init__(self, message: str, element_id: str | None = None, limit: str | None = None):
        super().__init__(message)
        self.element_id = element_id
        self.limit = limit
        self.incident_id: int | None = None


class InvalidModel(ValidationFailed):
    """A bundle of model files that must not be deployed. ``problems`` lists every one
    (severity, file, line, element_id, message), warnings included."""

    def __init__(self, message: str, problems: list[dict]):
        errors: dict[str, list[str]] = {}
        for problem in problems:
            if problem["severity"] == "error":
                errors.setdefault(_where(problem), []).append(problem["message"])
        super().__init__(message, errors)
        self.problems = problems


def _where(problem: dict) -> str:
    """``pi_cycle.bpmn:75 (approved_flow)``: file, line and element as far as known."""
    line = f":{problem['line']}" if problem["line"] else ""
    element = f" ({problem['element_id']})" if problem["element_id"] else ""
    return f"{problem['file']}{line}{element}"


class SignInRefused(PicycleError):
    """Wrong user name or password (which, is not said), or too many failed attempts
    lately (``too_many``): then no password is even checked until the window has passed."""

    def __init__(self, message: str, too_many: bool = False):
        super().__init__(message)
        self.too_many = too_many
