"""Checks on free-text input that every interface shares (CLI and API alike)."""

from __future__ import annotations

import unicodedata

from .errors import Message, ValidationFailed

# What a reader cannot see as itself: controls, format characters (direction marks and
# overrides, zero-width spaces and joiners), private-use and unassigned code points, line
# and paragraph separators. In a name they make two names look alike, or one name look
# like another (``forms/\u202enosj.evil`` shows as ``forms/live.json``).
_UNSEEN = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
# The characters that turn the text after them around: embeddings, overrides, isolates
# and their ends. A one-line text such as a title may not hold them, nor controls (line
# breaks, tabs, escapes); direction marks and joiners stay: Arabic and Persian need them.
DIRECTION_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def require_text(**fields: tuple[str, int]) -> None:
    """Each field is ``(value, longest allowed)``: non-empty, short enough, no NUL."""
    _raise_any(text_problems(**fields))


def _raise_any(errors: dict[str, list[Message]]) -> None:
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


def title_problems(**fields: tuple[str, int]) -> dict[str, list[Message]]:
    """What ``text_problems`` refuses, and in a one-line text a control character or one
    that turns the text after it around, by field."""
    errors = text_problems(**fields)
    for name, (value, _) in fields.items():
        unfit = next((c for c in value if _not_for_one_line(c)), None)
        if name not in errors and unfit is not None:
            errors[name] = [_unseen_message(unfit)]
    return errors


def _not_for_one_line(character: str) -> bool:
    """A control character (a line break among them) or one that turns text around."""
    return character in DIRECTION_CONTROLS or unicodedata.category(character) == "Cc"


def as_one_line(text: str) -> str:
    """``text`` made fit for one line: controls become spaces (runs of spaces collapse) and
    characters that turn text around go. For one-line text kept before it was checked."""
    kept = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    return " ".join("".join(c for c in kept if c not in DIRECTION_CONTROLS).split())


def _unseen_message(character: str) -> Message:
    text = f"must not contain {described(character)}: it does not show, or turns the text around"
    return Message(text, "unseen_character", character=described(character))


def require_title(**fields: tuple[str, int]) -> None:
    """``require_text`` for one-line texts (see ``title_problems``)."""
    _raise_any(title_problems(**fields))


def unseen_character(text: str) -> str | None:
    """The first character of ``text`` that does not show as itself (see ``_UNSEEN``), or
    None."""
    return next((c for c in text if unicodedata.category(c) in _UNSEEN), None)


def described(character: str) -> str:
    """``U+0430 CYRILLIC SMALL LETTER A``: a look-alike or an invisible one shows itself."""
    code = f"U+{ord(character):04X}"
    name = unicodedata.name(character, None)
    return f"{code} {name}" if name else f"{code} (a control character)"


def display_name(field: str, value: str, longest: int) -> str:
    """A name people tell things apart by (a unit's, a group's): non-empty, short enough,
    without the spaces around it, in its NFKC form (a fullwidth letter is the letter, a
    no-break space a space), and with no character that does not show as itself; else
    ValidationFailed on ``field``."""
    name = name_as_stored(value)
    # Measured as kept: NFKC can lengthen a name (one ligature becomes many letters).
    require_text(**{field: (name, longest)})
    unseen = unseen_character(name)
    if unseen is not None:
        message = _unseen_message(unseen)
        raise ValidationFailed(f"{field} {message}", {field: [message]})
    return name


def name_as_stored(value: str) -> str:
    """The form ``display_name`` keeps a name in, for looking one up as typed."""
    return unicodedata.normalize("NFKC", value.strip())
