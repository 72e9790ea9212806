"""Checks on free-text input that every interface shares (CLI and API alike)."""

from __future__ import annotations

from .errors import Message, ValidationFailed


def require_text(**fields: tuple[str, int]) -> None:
    """Each field is ``(value, longest allowed)``: non-empty, short enough, no NUL."""
    errors = text_problems(**fields)
    if errors:
        summary = "; ".join(f"{name} {messages[0]}" for name, messages in errors.items())
        raise ValidationFailed(summary, errors)


def text_problems(**fields: tuple[str, int]) -> dict[str, list[Message]]:
    """What ``require_text`` refuses, by field: for checks that name every field at once."""
    errors: dict[str, list[Message]] = {}
    for name, (value, longest) in fields.items():
        if not value.strip():
            errors[name] = [Message("must not be empty", "empty")]
        elif len(value) > longest:
            text = f"must be at most {longest} characters, not {len(value)}"
            errors[name] = [Message(text, "too_long", limit=longest)]
        elif "\x00" in value:
            errors[name] = [Message("must not contain NUL characters", "nul")]
    return errors
