"""What a user name may be, and the one form every name is stored and looked up in.

A user name is a login identifier: it appears in URLs (``/users/{name}``), on the command
line (``--as NAME``), in task assignments and as the actor of every audit event, so two
different people must never be able to look alike in any of them. Names are therefore
NFKC-normalised (fullwidth and other compatibility forms become plain letters), lower
case, and drawn from ASCII letters, digits, ``.``, ``-`` and ``_``. A wider set of Unicode
letters would let Arabic or accented names in, but also Cyrillic ``а`` beside Latin ``a``,
invisible and right-to-left marks: telling those apart needs confusable and mixed-script
checks that are easy to get wrong, and a person's name in their own script is not what a
login identifier is for.
"""

from __future__ import annotations

import re
import unicodedata

from .actors import SYSTEM
from .errors import Message, ValidationFailed
from .inputs import described
from .vocabulary import Role

LONGEST = 64
ALLOWED = "the letters a-z, digits 0-9, '.', '-' and '_'"
_ALLOWED_CHARACTER = re.compile(r"[a-z0-9._-]")
_FIRST_CHARACTER = re.compile(r"[a-z0-9]")  # never an option (-x) nor a path (., ..)

# The name picycle itself acts under (the command line and the timer worker), names it
# could act under in future, and names that read as a role or an authority in the trail.
RESERVED = frozenset(
    {SYSTEM.name, "picycle", "cli", "worker", "root", "administrator", *(r.value for r in Role)}
)


def _any_case(word: str) -> str:
    return "".join(f"[{c}{c.upper()}]" for c in word)


# A name as it may be typed, for documents that take a pattern (the OpenAPI document), in
# the regular expressions JSON Schema has (no flags): upper case is lowered, and NFKC turns
# compatibility forms (fullwidth ...) into these characters.
TYPED_PATTERN = (
    f"^(?!(?:{'|'.join(_any_case(word) for word in sorted(RESERVED))})$)"
    f"[A-Za-z0-9][A-Za-z0-9._-]{{0,{LONGEST - 1}}}$"
)


def normalised(name: str) -> str:
    """The form a name is stored and looked up in: NFKC, lower case. Lookups use it as it
    is: a name that breaks the rule is simply nobody's."""
    return unicodedata.normalize("NFKC", name).lower()


def problem_with(name: str) -> Message | None:
    """What is wrong with ``name`` as a stored user name, or None when nothing is."""
    if not name:
        return Message("must not be empty", "empty")
    if len(name) > LONGEST:
        text = f"must be at most {LONGEST} characters, not {len(name)}"
        return Message(text, "too_long", limit=LONGEST)
    for character in name:
        if not _ALLOWED_CHARACTER.fullmatch(character):
            text = f"may hold only {ALLOWED}, not {described(character)}"
            return Message(text, "user_name_character", character=described(character))
    if not _FIRST_CHARACTER.fullmatch(name[0]):
        text = f"must start with a letter or digit, not {name[0]!r}"
        return Message(text, "user_name_start")
    if name in RESERVED:
        reserved = ", ".join(sorted(RESERVED))
        text = f"{name!r} is reserved; reserved names are {reserved}"
        return Message(text, "user_name_reserved", reserved=reserved)
    return None


def user_name(name: str) -> str:
    """``name`` normalised, or ValidationFailed on the field ``name`` saying what is wrong."""
    kept = normalised(name)
    problem = problem_with(kept)
    if problem:
        raise ValidationFailed(f"name {problem}", {"name": [problem]})
    return kept
